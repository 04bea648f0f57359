/**
 * What a dataset holds, computed from its tables (never from the manifest's
 * say-so alone): rows per table, time span, markets by category and result,
 * distinct tickers with trades/quotes, and a few rows of each table.
 */
import { openDb, sqlString } from "../harness/db/duckdb.ts";
import { TABLE_NAMES, type Manifest, type TableName } from "./format.ts";
import { readManifest, tablePath } from "./manifest.ts";

export interface DatasetInfo {
  name: string;
  description: string;
  span: { start: number; end: number };
  rows: Partial<Record<TableName, number>>;
  marketsByCategory: Array<{ category: string | null; yes: number; no: number; unresolved: number; total: number }>;
  results: { yes: number; no: number; unresolved: number };
  tickersWith: Partial<Record<"quotes" | "trades" | "orderbook", number>>;
  tableSpans: Partial<Record<TableName, { start: number; end: number } | null>>;
  samples: Partial<Record<TableName, Array<Record<string, unknown>>>>;
  capabilities: Manifest["capabilities"];
  notes: string[];
}

export async function datasetInfo(dir: string, sampleRows = 3): Promise<DatasetInfo> {
  const manifest = await readManifest(dir);
  const db = await openDb();
  try {
    const q = async (sql: string): Promise<Array<Record<string, unknown>>> => (await db.connection.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
    const rows: DatasetInfo["rows"] = {};
    const samples: DatasetInfo["samples"] = {};
    const tickersWith: DatasetInfo["tickersWith"] = {};
    const tableSpans: DatasetInfo["tableSpans"] = {};
    for (const table of TABLE_NAMES) {
      const path = tablePath(dir, manifest, table);
      if (!path) continue;
      const src = `read_parquet(${sqlString(path)})`;
      rows[table] = Number((await q(`SELECT count(*)::DOUBLE AS n FROM ${src}`))[0]?.["n"] ?? 0);
      samples[table] = await q(`SELECT * FROM ${src} LIMIT ${sampleRows}`);
      if (table !== "markets") {
        const s = (await q(`SELECT min(ts)::DOUBLE AS s, max(ts)::DOUBLE AS e FROM ${src}`))[0];
        tableSpans[table] = s && s["s"] !== null ? { start: Number(s["s"]), end: Number(s["e"]) } : null;
      }
      if (table === "quotes" || table === "trades" || table === "orderbook") {
        tickersWith[table] = Number((await q(`SELECT count(DISTINCT ticker)::DOUBLE AS n FROM ${src}`))[0]?.["n"] ?? 0);
      }
    }
    const markets = `read_parquet(${sqlString(tablePath(dir, manifest, "markets") ?? "")})`;
    const byCategory = await q(`SELECT category, count(*) FILTER (WHERE result = 'yes')::DOUBLE AS yes, count(*) FILTER (WHERE result = 'no')::DOUBLE AS no,
        count(*) FILTER (WHERE result IS NULL)::DOUBLE AS unresolved, count(*)::DOUBLE AS total FROM ${markets} GROUP BY category ORDER BY total DESC, category`);
    const marketsByCategory = byCategory.map((r) => ({
      category: r["category"] === null ? null : String(r["category"]),
      yes: Number(r["yes"]),
      no: Number(r["no"]),
      unresolved: Number(r["unresolved"]),
      total: Number(r["total"]),
    }));
    const results = marketsByCategory.reduce((a, r) => ({ yes: a.yes + r.yes, no: a.no + r.no, unresolved: a.unresolved + r.unresolved }), { yes: 0, no: 0, unresolved: 0 });
    return {
      name: manifest.name,
      description: manifest.description,
      span: manifest.span,
      rows,
      marketsByCategory,
      results,
      tickersWith,
      tableSpans,
      samples,
      capabilities: manifest.capabilities,
      notes: manifest.source.notes,
    };
  } finally {
    db.close();
  }
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");
const n = (x: number): string => x.toLocaleString("en-US");

/** Human-readable summary, as `tapedeck dataset info` prints it. */
export function formatInfo(info: DatasetInfo): string {
  const lines: string[] = [`${info.name}: ${info.description}`, `span ${iso(info.span.start)} .. ${iso(info.span.end)}`];
  for (const [table, count] of Object.entries(info.rows)) {
    const span = info.tableSpans[table as TableName];
    const tick = info.tickersWith[table as "quotes"];
    lines.push(`  ${table.padEnd(10)} ${n(count ?? 0).padStart(10)} rows${tick !== undefined ? ` over ${n(tick)} tickers` : ""}${span ? `  ${iso(span.start)} .. ${iso(span.end)}` : ""}`);
  }
  lines.push(`markets: ${n(info.rows.markets ?? 0)} (${n(info.results.yes)} yes / ${n(info.results.no)} no / ${n(info.results.unresolved)} unresolved)`);
  for (const c of info.marketsByCategory) {
    lines.push(`  ${String(c.category ?? "(none)").padEnd(20)} ${n(c.total).padStart(6)}  yes ${n(c.yes)}  no ${n(c.no)}  unresolved ${n(c.unresolved)}`);
  }
  const caps = info.capabilities;
  lines.push(`capabilities: bid/ask ${caps.hasBidAsk ? "yes" : "no"}, trades ${caps.hasTrades ? "yes" : "no"}, order book ${caps.hasOrderbook ? "yes" : "no"}, news ${caps.hasNews ? "yes" : "no"}`);
  for (const note of info.notes) lines.push(`note: ${note}`);
  for (const [table, rows] of Object.entries(info.samples)) {
    lines.push(`${table} (first rows):`);
    for (const row of rows ?? []) {
      const text = JSON.stringify(row);
      lines.push(`  ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
