/**
 * Kalshi field names → dataset columns, as SQL over staged text tables
 * (staging.ts). One place knows Kalshi's naming, shared by the CSV and JSON
 * layouts: current `*_dollars` / `*_fp` fields win over the legacy
 * integer-cent ones; times are ISO-8601 (zone-less = UTC).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../inputError.ts";
import { cents, checkParsed, columnsOf, dollars, isoMs, isoUs, pick, type ParseCheck } from "./staging.ts";

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
/** Columns a trades input must have (any one spelling of each). */
export const TRADE_COLUMNS: ReadonlyArray<readonly string[]> = [["created_time", "ts"], ["price", "yes_price_dollars", "yes_price"], ["count", "count_fp"], ["taker_side"], ["trade_id"]];
/** Columns a markets input must have. */
export const MARKET_COLUMNS: ReadonlyArray<readonly string[]> = [["ticker"], ["close_time"]];

/** The field name an error should use: the input's own column, or the usual spelling when it has none. */
const fieldName = (raw: string, usual: string): string => (raw === "NULL" ? usual : raw.replaceAll('"', ""));

export async function normaliseTrades(conn: DuckDBConnection, stage: string): Promise<Record<string, string>> {
  const cols = await columnsOf(conn, stage);
  const priceSource = pick(cols, "yes_price_dollars", "price", "yes_price");
  const price =
    priceSource === '"yes_price_dollars"' || priceSource === '"price"' ? dollars(priceSource) : priceSource === "NULL" ? "NULL" : cents(priceSource);
  const countRaw = pick(cols, "count_fp", "count");
  const timeRaw = pick(cols, "created_time", "ts");
  const tickerRaw = pick(cols, "ticker");
  await conn.run(`CREATE OR REPLACE TABLE n_trades_t AS SELECT _file, _row,
      ${isoMs(timeRaw)} AS ts,
      ${isoUs(timeRaw)} AS _ts_us,
      coalesce(NULLIF(trim(${tickerRaw}), ''), ${fileStem}) AS ticker,
      trim(${pick(cols, "trade_id")}) AS trade_id,
      ${price} AS yes_price,
      TRY_CAST(NULLIF(trim(${countRaw}), '') AS DOUBLE) AS count,
      lower(trim(${pick(cols, "taker_side")})) AS taker_side
    FROM ${stage}`);
  // Source order: the full-precision time first; prints stamped alike keep the order the source
  // listed them in, read oldest first (a file listed newest first, as Kalshi's API pages are, is read backwards).
  await conn.run(`CREATE OR REPLACE TABLE n_trades AS SELECT * EXCLUDE (_ts_us, _dir),
      row_number() OVER (ORDER BY _ts_us, _file, _dir * _row) - 1 AS seq
    FROM (SELECT *, CASE WHEN arg_min(_ts_us, _row) OVER (PARTITION BY _file) > arg_max(_ts_us, _row) OVER (PARTITION BY _file) THEN -1 ELSE 1 END AS _dir
          FROM n_trades_t)`);
  await conn.run("DROP TABLE n_trades_t");
  const tradeIdRaw = pick(cols, "trade_id");
  const sideRaw = pick(cols, "taker_side");
  const checks: ParseCheck[] = [
    { field: fieldName(timeRaw, "created_time"), raw: timeRaw, parsed: isoMs(timeRaw), what: "an ISO-8601 time", required: true },
    { field: fieldName(priceSource, "price"), raw: priceSource, parsed: price, what: "a number", required: true },
    { field: fieldName(countRaw, "count"), raw: countRaw, parsed: `TRY_CAST(NULLIF(trim(${countRaw}), '') AS DOUBLE)`, what: "a number", required: true },
    { field: "taker_side", raw: sideRaw, parsed: `NULLIF(trim(${sideRaw}), '')`, what: "yes or no", required: true },
    { field: "trade_id", raw: tradeIdRaw, parsed: `NULLIF(trim(${tradeIdRaw}), '')`, what: "a trade id", required: true },
  ];
  await checkParsed(conn, stage, checks);
  return { ts: fieldName(timeRaw, "created_time"), yes_price: fieldName(priceSource, "price"), count: fieldName(countRaw, "count") };
}

export interface MarketsOptions {
  /** a normalised trades table to infer open_time from (earliest trade), when the input has no open_time */
  tradesTable: string | null;
  /** An input field the user declares was visible in advance, mapped to scheduled_close_time (overrides detection). */
  scheduledCloseFrom?: string;
}

/** Fields that carry a close a trader could see before it happened, in order of preference. */
export const SCHEDULED_CLOSE_FIELDS = ["scheduled_close_time", "expected_expiration_time", "latest_expiration_time"] as const;
/** Statuses of a market still trading when it was recorded: its close_time then was still the schedule. */
const OPEN_STATUSES = ["active", "open", "initialized", "unopened"];

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
  // The scheduled close: never the actual close of a market that has closed (an early close gives the outcome away).
  let scheduled: string;
  let scheduledWhat: string;
  const checks: ParseCheck[] = [];
  if (options.scheduledCloseFrom !== undefined) {
    const field = options.scheduledCloseFrom;
    if (!cols.has(field)) {
      const file = String((await conn.runAndReadAll(`SELECT min(_file) AS f FROM ${stage}`)).getRowObjectsJson()[0]?.["f"] ?? stage);
      throw new InputError({ file, row: 0, field, message: "missing column (named by --scheduled-close-from)" });
    }
    scheduled = isoMs(`"${field}"`);
    scheduledWhat = `${field}, as mapped by the user (--scheduled-close-from ${field}): the user vouches that it was visible before the close`;
    checks.push({ field, raw: `"${field}"`, parsed: scheduled, what: "an ISO-8601 time" });
  } else {
    const present = SCHEDULED_CLOSE_FIELDS.filter((f) => cols.has(f));
    const statusRaw = pick(cols, "status");
    const parts = present.map((f) => isoMs(`"${f}"`));
    if (statusRaw !== "NULL") parts.push(`CASE WHEN lower(trim(${statusRaw})) IN (${OPEN_STATUSES.map((x) => `'${x}'`).join(", ")}) THEN ${isoMs(closeRaw)} END`);
    scheduled = parts.length === 0 ? "NULL::BIGINT" : parts.length === 1 ? parts[0]! : `coalesce(${parts.join(", ")})`;
    const sources = [...present, ...(statusRaw !== "NULL" ? [`close_time of markets recorded while still ${OPEN_STATUSES.join("/")}`] : [])];
    scheduledWhat = sources.length === 0 ? "" : sources.join(", else ");
    for (const f of present) checks.push({ field: f, raw: `"${f}"`, parsed: isoMs(`"${f}"`), what: "an ISO-8601 time" });
  }
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
      ${scheduled} AS scheduled_close_time,
      ${settleRaw === "NULL" ? "NULL::BIGINT" : isoMs(settleRaw)} AS settle_time,
      ${result} AS result
    FROM ${stage} ${firstTradeJoin}`);
  await checkParsed(conn, stage, [
    { field: "ticker", raw: pick(cols, "ticker"), parsed: `NULLIF(trim(${pick(cols, "ticker")}), '')`, what: "a ticker", required: true },
    { field: "close_time", raw: closeRaw, parsed: isoMs(closeRaw), what: "an ISO-8601 time", required: true },
    { field: "open_time", raw: openRaw, parsed: isoMs(openRaw), what: "an ISO-8601 time" },
    { field: fieldName(settleRaw, "settle_time"), raw: settleRaw, parsed: isoMs(settleRaw), what: "an ISO-8601 time" },
    ...checks,
  ]);
  const counts = (await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS n, count(scheduled_close_time)::DOUBLE AS s FROM n_markets`)).getRowObjectsJson()[0];
  const total = Number(counts?.["n"] ?? 0);
  const withSchedule = Number(counts?.["s"] ?? 0);
  if (withSchedule === 0) {
    notes.push(
      "The input holds only the actual close (close_time, the moment the market really closed, early or not): scheduled_close_time is null, so strategies, prompts and the event filter get no close time; the actual close reaches them only as the close event. Map a field known in advance with --scheduled-close-from <field>.",
    );
  } else {
    notes.push(
      `scheduled_close_time (what strategies see as the close) from ${scheduledWhat}${withSchedule < total ? `; ${total - withSchedule} of ${total} markets have none and show no close time` : ""}. close_time is the actual close and reaches strategies only as the close event.`,
    );
  }
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
