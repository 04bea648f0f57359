/**
 * Kalshi recordings as CSV with the API's field names, e.g. a bot's
 * `closed_markets.csv` / `enriched_markets.csv` / `markets.csv` plus
 * `trades/<TICKER>.csv` (or one `trades.csv`). Trades only: no bid/ask.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { requireColumns, stageCsv } from "./staging.ts";
import { MARKET_COLUMNS, TRADE_COLUMNS, normaliseMarkets, normaliseTrades } from "./kalshiNormalize.ts";

export const MARKET_CSV_NAMES = ["enriched_markets.csv", "markets.csv", "closed_markets.csv"] as const;

export function isKalshiCsvLayout(src: string): boolean {
  return MARKET_CSV_NAMES.some((n) => existsSync(join(src, n)));
}

async function tradeFiles(src: string): Promise<string[]> {
  const files: string[] = [];
  const dir = join(src, "trades");
  if (existsSync(dir)) {
    for (const name of (await readdir(dir)).sort()) if (name.endsWith(".csv")) files.push(join(dir, name));
  }
  if (existsSync(join(src, "trades.csv"))) files.push(join(src, "trades.csv"));
  return files;
}

export interface StagedKalshi {
  tables: Array<"markets" | "trades" | "quotes" | "orderbook">;
  inputs: string[];
  notes: string[];
  /** dataset column → input field name, so errors name the field as the input spells it */
  fieldNames?: Partial<Record<"markets" | "trades" | "quotes" | "orderbook", Record<string, string>>>;
}

/** Stage and normalise into n_markets and n_trades. */
export async function stageKalshiCsv(conn: DuckDBConnection, src: string, scheduledCloseFrom?: string): Promise<StagedKalshi> {
  const marketsName = MARKET_CSV_NAMES.find((n) => existsSync(join(src, n)));
  if (!marketsName) throw new Error(`${src}: no ${MARKET_CSV_NAMES.join(" / ")}`);
  const marketsFile = join(src, marketsName);
  const trades = await tradeFiles(src);
  const notes: string[] = [`Markets from ${marketsName}.`];
  const tables: StagedKalshi["tables"] = ["markets"];
  const fieldNames: NonNullable<StagedKalshi["fieldNames"]> = {};
  if (trades.length > 0) {
    requireColumns(await stageCsv(conn, "raw_trades", trades), TRADE_COLUMNS);
    fieldNames.trades = await normaliseTrades(conn, "raw_trades");
    tables.push("trades");
    notes.push(`Trades from ${trades.length} CSV file(s); \`price\` is read as dollars.`);
  }
  requireColumns(await stageCsv(conn, "raw_markets", [marketsFile]), MARKET_COLUMNS);
  notes.push(
    ...(await normaliseMarkets(conn, "raw_markets", {
      tradesTable: trades.length > 0 ? "n_trades" : null,
      ...(scheduledCloseFrom === undefined ? {} : { scheduledCloseFrom }),
    })),
  );
  return { tables, inputs: [marketsFile, ...(trades.length > 0 ? [join(src, "trades")] : [])], notes, fieldNames };
}
