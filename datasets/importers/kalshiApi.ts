/**
 * Saved Kalshi REST responses, as JSON or JSONL, one kind per file (by name):
 *   markets*.json[l]       GET /markets (records, or {"markets": [...]} pages)
 *   trades*.json[l]        GET /markets/trades
 *   candlesticks*.json[l]  GET /series/{s}/markets/{t}/candlesticks, also candlesticks/<TICKER>.json
 *   orderbook*.json[l]     GET /markets/{t}/orderbook wrapped with the time it was taken:
 *                          {"ticker", "ts" (ms, s or ISO), "orderbook": {"yes": [[¢, qty]], "no": …, "yes_dollars": …}}
 * Market records that carry their fetch time (`ts`, `fetched_at`, `recorded_at`)
 * also yield a quote from yes_bid_dollars / yes_ask_dollars / last_price_dollars.
 */
import { existsSync, readdirSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { columnsOf, pick } from "./staging.ts";
import { anyTimeMs, stageJsonRecords, textView } from "./jsonStaging.ts";
import { normaliseMarkets, normaliseTrades, quoteColumns } from "./kalshiNormalize.ts";
import type { StagedKalshi } from "./kalshiCsv.ts";

type Kind = "markets" | "trades" | "candlesticks" | "orderbook";
const KINDS: Kind[] = ["markets", "trades", "candlesticks", "orderbook"];
const JSON_FILE = /\.jsonl?$/;

async function filesByKind(src: string): Promise<Record<Kind, string[]>> {
  const out: Record<Kind, string[]> = { markets: [], trades: [], candlesticks: [], orderbook: [] };
  for (const name of (await readdir(src)).sort()) {
    const kind = KINDS.find((k) => name.startsWith(k));
    if (kind && JSON_FILE.test(name)) out[kind].push(join(src, name));
    if ((name === "candlesticks" || name === "orderbooks") && existsSync(join(src, name))) {
      const sub: Kind = name === "candlesticks" ? "candlesticks" : "orderbook";
      for (const f of (await readdir(join(src, name))).sort()) if (JSON_FILE.test(f)) out[sub].push(join(src, name, f));
    }
  }
  return out;
}

export function isKalshiApiLayout(src: string): boolean {
  return readdirSync(src).some((n) => /^markets.*\.jsonl?$/.test(n));
}

const stem = `regexp_extract(_file, '([^/\\\\]+)\\.jsonl?$', 1)`;

function ohlcClose(side: string): string {
  return `coalesce(rec ->> '$.${side}.close_dollars', CAST(TRY_CAST(rec ->> '$.${side}.close' AS DOUBLE) / 100 AS VARCHAR))`;
}

function bookSide(side: "yes" | "no"): string {
  const dollarsPath = `coalesce(rec -> '$.orderbook.${side}_dollars', rec -> '$.orderbook_fp.${side}_dollars')`;
  const centsPath = `rec -> '$.orderbook.${side}'`;
  return `list_reverse(list_sort(coalesce(
      list_transform(CAST(${dollarsPath} AS VARCHAR[][]), l -> [round(CAST(l[1] AS DOUBLE), 4), CAST(l[2] AS DOUBLE)]),
      list_transform(CAST(${centsPath} AS DOUBLE[][]), l -> [round(l[1] / 100, 4), l[2]]),
      []::DOUBLE[][])))`;
}

export async function stageKalshiApi(conn: DuckDBConnection, src: string, scheduledCloseFrom?: string): Promise<StagedKalshi> {
  const files = await filesByKind(src);
  const notes: string[] = [];
  const tables: StagedKalshi["tables"] = ["markets"];
  const quoteParts: string[] = [];
  const fieldNames: NonNullable<StagedKalshi["fieldNames"]> = {};

  if (files.trades.length > 0) {
    await stageJsonRecords(conn, "j_trades", files.trades, "trades");
    await textView(conn, "j_trades", "raw_trades");
    fieldNames.trades = await normaliseTrades(conn, "raw_trades");
    tables.push("trades");
  }

  await stageJsonRecords(conn, "j_markets", files.markets, "markets");
  await textView(conn, "j_markets", "raw_markets");
  notes.push(
    ...(await normaliseMarkets(conn, "raw_markets", {
      tradesTable: files.trades.length > 0 ? "n_trades" : null,
      ...(scheduledCloseFrom === undefined ? {} : { scheduledCloseFrom }),
    })),
  );
  const marketCols = await columnsOf(conn, "raw_markets");
  const fetched = pick(marketCols, "ts", "fetched_at", "recorded_at");
  if (fetched !== "NULL") {
    quoteParts.push(`SELECT _file, _row, ${quoteColumns(marketCols, anyTimeMs(fetched))} FROM raw_markets WHERE ${fetched} IS NOT NULL`);
    notes.push(`Market snapshots with a fetch time (${fetched.replaceAll('"', "")}) became quotes.`);
  } else {
    notes.push("Market records carry no fetch time, so their bid/ask snapshot is not used as a quote.");
  }

  if (files.candlesticks.length > 0) {
    await stageJsonRecords(conn, "j_candles", files.candlesticks, "candlesticks");
    await conn.run(`CREATE OR REPLACE VIEW raw_candles AS SELECT _file, _row,
        coalesce(parent_ticker, rec ->> '$.ticker', ${stem}) AS ticker,
        rec ->> '$.end_period_ts' AS end_period_ts,
        ${ohlcClose("yes_bid")} AS yes_bid_dollars, ${ohlcClose("yes_ask")} AS yes_ask_dollars, ${ohlcClose("price")} AS last_price_dollars,
        coalesce(rec ->> '$.volume_fp', rec ->> '$.volume') AS volume,
        coalesce(rec ->> '$.open_interest_fp', rec ->> '$.open_interest') AS open_interest
      FROM j_candles`);
    const cols = await columnsOf(conn, "raw_candles");
    // Candle volume is per period; the dataset's volume is cumulative, so sum it within the recording.
    quoteParts.push(`SELECT _file, _row, ts, ticker, yes_bid, yes_ask, last_price,
        sum(volume) OVER (PARTITION BY ticker ORDER BY ts, _file, _row) AS volume, open_interest
      FROM (SELECT _file, _row, ${quoteColumns(cols, anyTimeMs("end_period_ts"))} FROM raw_candles)`);
    notes.push(
      "Candlesticks became one quote per period at end_period_ts (closing bid/ask/price); volume is cumulated from the first recorded candle.",
      "A period without trades (volume 0, price 0.00 or null) has no price: its last_price is null, and replay keeps the last known price in place (a null is 'no new price', never 'no price'). A bid of 0.00 or an ask of 1.00 is an empty side of the book (null).",
    );
  }
  if (quoteParts.length > 0) {
    await conn.run(`CREATE OR REPLACE TABLE n_quotes AS ${quoteParts.join(" UNION ALL ")}`);
    tables.push("quotes");
  }

  if (files.orderbook.length > 0) {
    await stageJsonRecords(conn, "j_books", files.orderbook, "orderbooks");
    await conn.run(`CREATE OR REPLACE TABLE n_orderbook AS SELECT _file, _row,
        ${anyTimeMs("coalesce(rec ->> '$.ts', rec ->> '$.fetched_at', rec ->> '$.recorded_at')")} AS ts,
        coalesce(rec ->> '$.ticker', ${stem}) AS ticker,
        ${bookSide("yes")} AS yes, ${bookSide("no")} AS no
      FROM j_books`);
    tables.push("orderbook");
    notes.push("Order books: bids only on each side, best first; a YES bid at X is a NO ask at 1 − X.");
  }
  const inputs = KINDS.flatMap((k) => files[k]);
  return { tables, inputs, notes, fieldNames };
}
