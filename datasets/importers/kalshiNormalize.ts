/**
 * Kalshi field names → dataset columns, as SQL over staged text tables
 * (staging.ts). One place knows Kalshi's naming, shared by the CSV and JSON
 * layouts: current `*_dollars` / `*_fp` fields win over the legacy
 * integer-cent ones; times are ISO-8601 (zone-less = UTC).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { cents, checkParsed, columnsOf, dollars, isoMs, pick, type ParseCheck } from "./staging.ts";

/** Dollars from a `*_dollars` field, else from the legacy cents field of the same name. */
function priceExpr(cols: Set<string>, base: string, plainIsDollars = false): string {
  const d = pick(cols, `${base}_dollars`);
  if (d !== "NULL") return dollars(d);
  const c = pick(cols, base);
  if (c === "NULL") return "NULL";
  return plainIsDollars ? dollars(c) : cents(c);
}

function rawExpr(cols: Set<string>, base: string): string {
  const d = pick(cols, `${base}_dollars`);
  return d !== "NULL" ? d : pick(cols, base);
}

const fileStem = `regexp_extract(_file, '([^/\\\\]+)\\.(csv|json|jsonl)$', 1)`;

/**
 * n_trades from a staged trades table. `price` (as in recorded CSVs) is read
 * as dollars; `yes_price` as legacy cents; `yes_price_dollars` wins.
 */
export async function normaliseTrades(conn: DuckDBConnection, stage: string): Promise<Record<string, string>> {
  const cols = await columnsOf(conn, stage);
  const priceSource = pick(cols, "yes_price_dollars", "price", "yes_price");
  const price =
    priceSource === '"yes_price_dollars"' || priceSource === '"price"' ? dollars(priceSource) : priceSource === "NULL" ? "NULL" : cents(priceSource);
  const countRaw = pick(cols, "count_fp", "count");
  const timeRaw = pick(cols, "created_time", "ts");
  const tickerRaw = pick(cols, "ticker");
  await conn.run(`CREATE OR REPLACE TABLE n_trades AS SELECT _file, _row,
      ${isoMs(timeRaw)} AS ts,
      coalesce(NULLIF(trim(${tickerRaw}), ''), ${fileStem}) AS ticker,
      trim(${pick(cols, "trade_id")}) AS trade_id,
      ${price} AS yes_price,
      TRY_CAST(NULLIF(trim(${countRaw}), '') AS DOUBLE) AS count,
      lower(trim(${pick(cols, "taker_side")})) AS taker_side
    FROM ${stage}`);
  const checks: ParseCheck[] = [
    { field: timeRaw.replaceAll('"', ""), raw: timeRaw, parsed: isoMs(timeRaw), what: "an ISO-8601 time" },
    { field: priceSource.replaceAll('"', ""), raw: priceSource, parsed: price, what: "a number" },
    { field: countRaw.replaceAll('"', ""), raw: countRaw, parsed: `TRY_CAST(NULLIF(trim(${countRaw}), '') AS DOUBLE)`, what: "a number" },
  ];
  await checkParsed(conn, stage, checks);
  const unquote = (c: string): string => c.replaceAll('"', "");
  return { ts: unquote(timeRaw), yes_price: unquote(priceSource), count: unquote(countRaw) };
}

export interface MarketsOptions {
  /** a normalised trades table to infer open_time from (earliest trade), when the input has no open_time */
  tradesTable: string | null;
}

/** n_markets from a staged markets table; returns notes on what was inferred. */
export async function normaliseMarkets(conn: DuckDBConnection, stage: string, options: MarketsOptions): Promise<string[]> {
  const cols = await columnsOf(conn, stage);
  const notes: string[] = [];
  const ticker = `trim(${pick(cols, "ticker")})`;
  const eventRaw = pick(cols, "event_ticker");
  const event = `coalesce(NULLIF(trim(${eventRaw}), ''), regexp_replace(${ticker}, '-[^-]*$', ''))`;
  const seriesRaw = pick(cols, "series_ticker");
  if (seriesRaw === "NULL") notes.push("series_ticker inferred as the event ticker's prefix before its first '-'.");
  const series = `coalesce(NULLIF(trim(${seriesRaw}), ''), split_part(${event}, '-', 1))`;
  const closeRaw = pick(cols, "close_time");
  const openRaw = pick(cols, "open_time");
  const settleRaw = pick(cols, "settlement_ts", "settlement_time", "settle_time");
  // Joined, not a correlated subquery: inside one, an unqualified `ticker` would bind to the trades table.
  const firstTrade = options.tradesTable ? "_first_trade" : "NULL";
  const firstTradeJoin = options.tradesTable
    ? `LEFT JOIN (SELECT ticker AS _ft_ticker, min(ts) AS _first_trade FROM ${options.tradesTable} GROUP BY ticker) AS _ft ON _ft._ft_ticker = ${ticker}`
    : "";
  const inferred = `least(coalesce(${firstTrade}, ${isoMs(closeRaw)}), ${isoMs(closeRaw)})`;
  const open = openRaw === "NULL" ? inferred : `coalesce(${isoMs(openRaw)}, ${inferred})`;
  const missingOpen =
    openRaw === "NULL" ||
    Number((await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM ${stage} WHERE NULLIF(trim(${openRaw}), '') IS NULL`)).getRowObjectsJson()[0]?.["n"] ?? 0) > 0;
  if (missingOpen) {
    notes.push(
      "Where the markets input has no open_time, open_time is inferred as the market's earliest recorded trade (or its close_time when it has no trades); the market existed earlier than that.",
    );
  }
  if (settleRaw === "NULL") notes.push("No settlement time in the input: settle_time is null, so the result becomes visible at close_time.");
  const resultRaw = pick(cols, "result");
  const settleValue = priceExpr(cols, "settlement_value");
  const result =
    resultRaw !== "NULL"
      ? // Empty: unresolved (stays open in a replay, marked to bid); 'void' is kept, so only a voided market refunds.
        `CASE WHEN NULLIF(lower(trim(${resultRaw})), '') IS NULL THEN NULL ELSE lower(trim(${resultRaw})) END`
      : `CASE ${settleValue} WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE NULL END`;
  await conn.run(`CREATE OR REPLACE TABLE n_markets AS SELECT _file, _row,
      ${ticker} AS ticker,
      ${event} AS event_ticker,
      ${series} AS series_ticker,
      coalesce(${pick(cols, "title")}, '') AS title,
      NULLIF(trim(coalesce(${pick(cols, "subtitle")}, ${pick(cols, "yes_sub_title")})), '') AS subtitle,
      NULLIF(trim(${pick(cols, "rules_primary", "rules")}), '') AS rules,
      NULL::VARCHAR AS background,
      NULLIF(trim(${pick(cols, "category")}), '') AS category,
      ${open} AS open_time,
      ${isoMs(closeRaw)} AS close_time,
      ${settleRaw === "NULL" ? "NULL::BIGINT" : isoMs(settleRaw)} AS settle_time,
      ${result} AS result
    FROM ${stage} ${firstTradeJoin}`);
  await checkParsed(conn, stage, [
    { field: "close_time", raw: closeRaw, parsed: isoMs(closeRaw), what: "an ISO-8601 time" },
    { field: "open_time", raw: openRaw, parsed: isoMs(openRaw), what: "an ISO-8601 time" },
    { field: settleRaw.replaceAll('"', ""), raw: settleRaw, parsed: isoMs(settleRaw), what: "an ISO-8601 time" },
  ]);
  return notes;
}

/**
 * Quotes from market snapshots (GET /markets records carrying the time they
 * were fetched in `ts`/`fetched_at`/`recorded_at`) or from any table with
 * yes_bid/yes_ask fields. Kalshi writes an empty side as bid 0 / ask 100¢
 * (and last price 0 before any trade): those become null, not prices.
 */
export function quoteColumns(cols: Set<string>, timeExpr: string): string {
  const volume = pick(cols, "volume_fp", "volume");
  const oi = pick(cols, "open_interest_fp", "open_interest");
  return `${timeExpr} AS ts, trim(${pick(cols, "ticker")}) AS ticker,
    NULLIF(${priceExpr(cols, "yes_bid")}, 0) AS yes_bid, NULLIF(${priceExpr(cols, "yes_ask")}, 1) AS yes_ask,
    NULLIF(${priceExpr(cols, "last_price")}, 0) AS last_price,
    TRY_CAST(NULLIF(trim(${volume}), '') AS DOUBLE) AS volume,
    TRY_CAST(NULLIF(trim(${oi}), '') AS DOUBLE) AS open_interest`;
}

export { rawExpr };
