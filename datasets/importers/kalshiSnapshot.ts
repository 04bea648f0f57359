/**
 * The older Kalshi snapshot layout (API v1 field names with a leading
 * underscore, prices in integer cents, epoch seconds):
 *   market_data.json      [{EVENT: [market, …]}]
 *   event_data.json       [event]  (title, category, series of each event)
 *   market_history.json   [{TICKER: [{_ts, _yes_bid, _yes_ask, _yes_price, _volume, _open_interest}, …]}]
 *   orderbook_data.json   [{TICKER: {_yes: [[¢, qty]], _no: [[¢, qty]]}}]  (no time: taken once)
 * Quote and book rows for tickers missing from market_data.json are kept by
 * default under placeholder markets (no result; open/close = first/last time
 * seen), said in the manifest notes; `unlisted: "drop"` drops them instead
 * (issue 13: dropping by default lost 1,965 quotes and 100 books silently).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { columnsOf } from "./staging.ts";
import { anyTimeMs, stageJsonRecords, stageKeyedJson, textView } from "./jsonStaging.ts";
import { normaliseMarkets, quoteColumns } from "./kalshiNormalize.ts";
import type { StagedKalshi } from "./kalshiCsv.ts";

export function isKalshiSnapshotLayout(src: string): boolean {
  return existsSync(join(src, "market_data.json"));
}

const stripUnderscore = (k: string): string => (k.startsWith("_") ? k.slice(1) : k);

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  return Number((await conn.runAndReadAll(`SELECT (${sql})::DOUBLE AS n`)).getRowObjectsJson()[0]?.["n"] ?? 0);
}

export async function stageKalshiSnapshot(
  conn: DuckDBConnection,
  src: string,
  orderbookTs?: number,
  unlisted: "drop" | "stub" = "stub",
  scheduledCloseFrom?: string,
): Promise<StagedKalshi> {
  const notes: string[] = ["Old API field names: leading underscores stripped, integer cents → dollars, epoch seconds → ms."];
  const inputs = [join(src, "market_data.json")];
  const tables: StagedKalshi["tables"] = ["markets"];
  await stageKeyedJson(conn, "j_markets", join(src, "market_data.json"));
  await textView(conn, "j_markets", "raw_markets", "", stripUnderscore);
  notes.push(...(await normaliseMarkets(conn, "raw_markets", { tradesTable: null, ...(scheduledCloseFrom === undefined ? {} : { scheduledCloseFrom }) })));
  const eventsFile = join(src, "event_data.json");
  if (existsSync(eventsFile)) {
    inputs.push(eventsFile);
    await stageJsonRecords(conn, "j_events", [eventsFile], "events");
    // Market titles and categories are empty in this layout; the event carries them.
    await conn.run(`UPDATE n_markets SET
        title = CASE WHEN n_markets.title = '' THEN coalesce(e.rec ->> '$._title', '') ELSE n_markets.title END,
        category = coalesce(n_markets.category, NULLIF(e.rec ->> '$._category', '')),
        series_ticker = coalesce(NULLIF(e.rec ->> '$._series_ticker', ''), n_markets.series_ticker)
      FROM j_events e WHERE e.rec ->> '$._event_ticker' = n_markets.event_ticker`);
    notes.push("Market title, category and series from event_data.json.");
  }

  const historyFile = join(src, "market_history.json");
  let lastHistoryTs: number | null = null;
  if (existsSync(historyFile)) {
    inputs.push(historyFile);
    await stageKeyedJson(conn, "j_history", historyFile);
    await textView(conn, "j_history", "raw_history", "parent_ticker AS ticker", (k) => (k === "_yes_price" ? "last_price" : stripUnderscore(k)));
    const cols = await columnsOf(conn, "raw_history");
    await conn.run(`CREATE OR REPLACE TABLE n_quotes AS SELECT _file, _row, ${quoteColumns(cols, anyTimeMs('"ts"'))} FROM raw_history`);
    tables.push("quotes");
    lastHistoryTs = await count(conn, "SELECT max(ts) FROM n_quotes");
  }

  const bookFile = join(src, "orderbook_data.json");
  if (existsSync(bookFile)) {
    inputs.push(bookFile);
    const ts = orderbookTs ?? lastHistoryTs;
    if (ts === null) throw new Error(`${bookFile}: order books carry no time; pass --orderbook-ts`);
    await stageKeyedJson(conn, "j_books", bookFile);
    const side = (s: string): string =>
      `list_reverse(list_sort(coalesce(list_transform(CAST(rec -> '$._${s}' AS DOUBLE[][]), l -> [round(l[1] / 100, 4), l[2]]), []::DOUBLE[][])))`;
    await conn.run(`CREATE OR REPLACE TABLE n_orderbook AS SELECT _file, _row, ${ts}::BIGINT AS ts, parent_ticker AS ticker, ${side("yes")} AS yes, ${side("no")} AS no FROM j_books`);
    tables.push("orderbook");
    notes.push(
      orderbookTs === undefined
        ? `orderbook_data.json has no time: each book is stamped with the last market_history time (${new Date(ts).toISOString()}).`
        : `orderbook_data.json has no time: stamped ${new Date(ts).toISOString()} as given.`,
    );
  }

  for (const t of ["quotes", "orderbook"] as const) {
    if (!tables.includes(t)) continue;
    const missing = await count(conn, `SELECT count(*) FROM n_${t} q WHERE NOT EXISTS (SELECT 1 FROM n_markets m WHERE m.ticker = q.ticker)`);
    if (missing === 0) continue;
    if (unlisted === "stub") {
      await conn.run(`INSERT INTO n_markets SELECT 'stub' AS _file, 0 AS _row, ticker, regexp_replace(ticker, '-[^-]*$', ''), split_part(ticker, '-', 1),
          ticker, NULL, NULL, NULL, NULL, min(ts), max(ts), NULL, NULL, NULL
        FROM n_${t} q WHERE NOT EXISTS (SELECT 1 FROM n_markets m WHERE m.ticker = q.ticker) GROUP BY ticker`);
      notes.push(`${t}: ${missing} rows for tickers absent from market_data.json kept under placeholder markets (no result, title = ticker); --unlisted drop drops them.`);
    } else {
      await conn.run(`DELETE FROM n_${t} WHERE NOT EXISTS (SELECT 1 FROM n_markets m WHERE m.ticker = n_${t}.ticker)`);
      notes.push(`${t}: dropped ${missing} rows whose ticker is absent from market_data.json (--unlisted drop).`);
    }
  }
  return { tables, inputs, notes };
}
