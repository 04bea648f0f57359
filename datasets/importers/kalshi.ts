/**
 * `tapedeck import kalshi <src>`: detect the layout of a Kalshi recording,
 * stage it, check it (errors name input file, row and field), and write a
 * dataset. Layouts: CSV recordings (kalshiCsv.ts), saved REST responses as
 * JSON/JSONL (kalshiApi.ts), the older snapshot layout (kalshiSnapshot.ts).
 */
import { existsSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Manifest } from "../format.ts";
import { withDatasetWriter } from "../datasetWriter.ts";
import { InputError } from "../inputError.ts";
import { checkRules } from "./staging.ts";
import { isKalshiCsvLayout, stageKalshiCsv, type StagedKalshi } from "./kalshiCsv.ts";
import { isKalshiSnapshotLayout, stageKalshiSnapshot } from "./kalshiSnapshot.ts";
import { isKalshiApiLayout, stageKalshiApi } from "./kalshiApi.ts";

export type KalshiLayout = "csv" | "api" | "snapshot";

export interface ImportKalshiOptions {
  name?: string;
  /** For snapshot order books, which carry no time: when they were taken (epoch ms). */
  orderbookTs?: number;
  /** Snapshot layout: rows whose ticker has no market row are dropped, or get placeholder markets. */
  unlisted?: "drop" | "stub";
  /** Keep only these markets (and their rows). */
  tickers?: string[];
  /** Keep time-stamped rows (quotes, trades, books) with from <= ts < to. Markets are kept whole. */
  from?: number;
  to?: number;
  /**
   * A markets field to show strategies as the close time, when the input has no scheduled close of its
   * own (expected_expiration_time, …). The user vouches it was known in advance; close_time never is.
   */
  scheduledCloseFrom?: string;
}

async function applyFilters(conn: DuckDBConnection, tables: StagedKalshi["tables"], options: ImportKalshiOptions, notes: string[]): Promise<void> {
  if (options.tickers) {
    await conn.run("CREATE OR REPLACE TABLE keep_tickers (ticker VARCHAR)");
    const appender = await conn.createAppender("keep_tickers");
    for (const t of options.tickers) {
      appender.appendVarchar(t);
      appender.endRow();
    }
    appender.closeSync();
    for (const t of tables) await conn.run(`DELETE FROM n_${t} WHERE ticker NOT IN (SELECT ticker FROM keep_tickers)`);
    notes.push(`Cut to ${options.tickers.length} requested tickers.`);
  }
  for (const t of tables) {
    if (t === "markets") continue;
    if (options.from !== undefined) await conn.run(`DELETE FROM n_${t} WHERE ts < ${options.from}`);
    if (options.to !== undefined) await conn.run(`DELETE FROM n_${t} WHERE ts >= ${options.to}`);
  }
  if (options.from !== undefined || options.to !== undefined) {
    notes.push(`Cut to rows with ${options.from === undefined ? "" : `${new Date(options.from).toISOString()} <= `}ts${options.to === undefined ? "" : ` < ${new Date(options.to).toISOString()}`}.`);
  }
}

/** A markets input with no rows is named as such (before its trades are all "unknown ticker"). */
async function refuseNoMarkets(conn: DuckDBConnection, staged: StagedKalshi): Promise<void> {
  const n = Number((await conn.runAndReadAll("SELECT count(*)::DOUBLE AS n FROM n_markets")).getRowObjectsJson()[0]?.["n"] ?? 0);
  if (n > 0) return;
  const file = staged.inputs[0] ?? "markets";
  throw new InputError({ file, row: null, field: "(file)", message: "no markets: the markets input holds no rows, so no trade, quote or book can be placed" });
}

export function detectKalshiLayout(src: string): KalshiLayout {
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new Error(`${src}: not a folder`);
  if (isKalshiSnapshotLayout(src)) return "snapshot";
  if (isKalshiCsvLayout(src)) return "csv";
  if (isKalshiApiLayout(src)) return "api";
  throw new Error(
    `${src}: no Kalshi recording found (expected markets CSV + trades/, saved API responses markets*.json[l] …, or market_data.json)`,
  );
}

export async function importKalshi(src: string, out: string, options: ImportKalshiOptions = {}): Promise<Manifest> {
  const layout = detectKalshiLayout(src);
  return withDatasetWriter(out, async (writer) => {
    const conn = writer.connection;
    let staged: StagedKalshi;
    if (layout === "csv") staged = await stageKalshiCsv(conn, src, options.scheduledCloseFrom);
    else if (layout === "snapshot") staged = await stageKalshiSnapshot(conn, src, options.orderbookTs, options.unlisted ?? "stub", options.scheduledCloseFrom);
    else staged = await stageKalshiApi(conn, src, options.scheduledCloseFrom);
    await refuseNoMarkets(conn, staged);
    await applyFilters(conn, staged.tables, options, staged.notes);
    if (staged.tables.includes("trades")) {
      // seq counts from 0 over what is kept, in the order normaliseTrades gave it.
      await conn.run("CREATE OR REPLACE TABLE n_trades AS SELECT * REPLACE (row_number() OVER (ORDER BY seq) - 1 AS seq) FROM n_trades");
      staged.notes.push(
        "Trade times are kept to the ms in ts; seq keeps the source's order: by the full-precision (µs) created_time, then, for prints stamped alike, the order the file listed them in (a file listed newest first is read backwards). Replay breaks ties within a ms by seq.",
      );
    }
    const relations: Partial<Record<"markets" | "trades" | "quotes" | "orderbook", string>> = {};
    for (const t of staged.tables) relations[t] = `n_${t}`;
    await checkRules(conn, relations, staged.fieldNames ?? {});
    for (const t of staged.tables) await writer.writeTable(t, `SELECT * FROM n_${t}`);
    return writer.commit({
      name: options.name ?? basename(resolve(out)),
      description: `Kalshi market data imported from ${basename(resolve(src))} (${layout} layout).`,
      source: {
        importer: `kalshi/${layout}`,
        inputs: staged.inputs,
        origin: "Kalshi exchange public market data (api.elections.kalshi.com), as recorded by a third party",
        notes: staged.notes,
      },
      license: "Kalshi exchange market data; no licence stated by the recorder. For research use.",
    });
  });
}
