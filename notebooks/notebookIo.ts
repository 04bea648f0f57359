/**
 * What every notebook shares: its two options (--db, -o), reading rows
 * from the results DB, and writing a chart (SVG + PNG, same renderer as the
 * report) and a Markdown page into reports/out/notebooks/<name>/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openDb } from "../harness/db/duckdb.ts";
import { DEFAULT_DB_PATH } from "../harness/store/schema.ts";
import type { ChartDef } from "../reports/charts/chart.ts";
import { queryRows, type Row } from "../reports/query.ts";
import { renderChart } from "../reports/render.ts";

export interface NotebookOptions {
  dbPath: string;
  outDir: string;
}

export interface NotebookOutput {
  markdownPath: string;
  chartFiles: string[];
  /** The rows behind the chart and table, for tests and for a reader's own analysis. */
  rows: Row[];
}

export function notebookOptions(name: string, argv: string[] = process.argv.slice(2)): NotebookOptions {
  const { values } = parseArgs({ args: argv, options: { db: { type: "string" }, out: { type: "string", short: "o" } } });
  return { dbPath: values.db ?? DEFAULT_DB_PATH, outDir: values.out ?? join("reports", "out", "notebooks", name) };
}

export async function readRows(dbPath: string, sql: string): Promise<Row[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await queryRows(db.connection, sql);
  } finally {
    db.close();
  }
}

export async function writeNotebook(outDir: string, title: string, body: string, charts: readonly ChartDef[], rows: Row[]): Promise<NotebookOutput> {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const chartFiles: string[] = [];
  const images: string[] = [];
  for (const chart of charts) {
    const { svg, png } = await renderChart(chart);
    writeFileSync(join(dir, `${chart.id}.svg`), svg);
    writeFileSync(join(dir, `${chart.id}.png`), png);
    chartFiles.push(join(dir, `${chart.id}.svg`), join(dir, `${chart.id}.png`));
    images.push(`![${chart.title}](${chart.id}.png)`);
  }
  const markdownPath = join(dir, "README.md");
  writeFileSync(markdownPath, [`# ${title}`, "", body, "", ...images, ""].join("\n"));
  writeFileSync(join(dir, "data.json"), `${JSON.stringify(rows, null, 2)}\n`);
  return { markdownPath, chartFiles, rows };
}

/** True when this module is the script node was asked to run (not imported by a test). */
export function isMain(metaUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === new URL(metaUrl).pathname;
}
