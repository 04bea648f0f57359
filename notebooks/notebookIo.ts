/**
 * What every notebook shares: its options (--db, --runs, -o, --help),
 * reading rows from the results DB (completed runs only unless --runs names
 * some), and writing a chart (SVG + PNG, same renderer as the report) and a
 * Markdown page into reports/out/notebooks/<name>/. Bad arguments get one
 * line and exit code 2, never a stack trace.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openDb } from "../harness/db/duckdb.ts";
import { DEFAULT_DB_PATH } from "../harness/store/schema.ts";
import type { ChartDef } from "../reports/charts/chart.ts";
import { queryRows, sqlList, type Row } from "../reports/query.ts";
import { renderChart } from "../reports/render.ts";

export interface NotebookOptions {
  dbPath: string;
  outDir: string;
  /** Only these runs; default every completed run (failed, interrupted and running ones have partial rows). */
  runs?: readonly string[] | undefined;
}

export class NotebookArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotebookArgsError";
  }
}

export interface NotebookOutput {
  markdownPath: string;
  chartFiles: string[];
  /** The rows behind the chart and table, for tests and for a reader's own analysis. */
  rows: Row[];
}

export function notebookUsage(name: string, script: string, what: string): string {
  return `${what}

Usage: npx tsx notebooks/${script} [--db <results.duckdb>] [--runs <id,id,…>] [-o <dir>]

  --db      results DB to read (default ${DEFAULT_DB_PATH})
  --runs    only these runs (comma-separated or repeated); default every completed run
  -o, --out folder to write README.md, data.json and the chart (default reports/out/notebooks/${name})
  -h, --help  this text`;
}

/** Parses a notebook's arguments; null means --help was asked for. Unknown options are a NotebookArgsError. */
export function notebookOptions(name: string, argv: string[] = process.argv.slice(2)): NotebookOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { db: { type: "string" }, out: { type: "string", short: "o" }, runs: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    throw new NotebookArgsError((error as Error).message);
  }
  if (values.help) return null;
  const runs = values.runs?.flatMap((r) => r.split(",")).map((r) => r.trim()).filter((r) => r !== "");
  return { dbPath: values.db ?? DEFAULT_DB_PATH, outDir: values.out ?? join("reports", "out", "notebooks", name), ...(runs && runs.length > 0 ? { runs } : {}) };
}

const RUN_TABLES = ["forecasts", "outcomes", "decisions", "orders", "fills", "settlements", "open_positions", "llm_calls", "equity", "metrics", "calibration_bins"] as const;

/** Runs the notebook's SQL with every run table shadowed by the chosen runs' rows. */
export async function readRows(o: Pick<NotebookOptions, "dbPath" | "runs">, sql: string): Promise<Row[]> {
  if (!existsSync(o.dbPath)) throw new NotebookArgsError(`${o.dbPath}: no results DB there (run \`tapedeck replay\` first or pass --db)`);
  const db = await openDb(o.dbPath, { readOnly: true });
  try {
    let chosen = `SELECT run_id FROM main.runs WHERE status = 'completed'`;
    if (o.runs) {
      const found = new Set((await queryRows(db.connection, `SELECT run_id FROM runs WHERE run_id IN (${sqlList(o.runs)})`)).map((r) => String(r["run_id"])));
      const missing = o.runs.filter((r) => !found.has(r));
      if (missing.length > 0) throw new NotebookArgsError(`--runs: no such run in ${o.dbPath}: ${missing.join(", ")}`);
      chosen = `SELECT run_id FROM main.runs WHERE run_id IN (${sqlList(o.runs)})`;
    }
    const ctes = [`chosen_runs AS (${chosen})`, `runs AS (SELECT * FROM main.runs WHERE run_id IN (SELECT run_id FROM chosen_runs))`];
    for (const t of RUN_TABLES) ctes.push(`${t} AS (SELECT * FROM main.${t} WHERE run_id IN (SELECT run_id FROM chosen_runs))`);
    const body = sql.trimStart();
    const scoped = /^WITH\s/i.test(body) ? `WITH ${ctes.join(",\n")},\n${body.slice(4)}` : `WITH ${ctes.join(",\n")}\n${body}`;
    return await queryRows(db.connection, scoped);
  } finally {
    db.close();
  }
}

/** A notebook's command line: --help, one-line errors with exit 2, the output path on success. */
export async function notebookMain(name: string, script: string, what: string, run: (o: NotebookOptions) => Promise<NotebookOutput>): Promise<void> {
  try {
    const o = notebookOptions(name);
    if (o === null) {
      process.stdout.write(`${notebookUsage(name, script, what)}\n`);
      return;
    }
    const out = await run(o);
    process.stdout.write(`${out.markdownPath}\n`);
  } catch (error) {
    if (error instanceof NotebookArgsError) {
      process.stderr.write(`${script}: ${error.message}\nRun with --help for usage.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${script}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
    process.exitCode = 1;
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
