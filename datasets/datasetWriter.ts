/**
 * Writing a dataset safely. Tables go into `<out>.partial-<pid>/` next to the
 * output, with a disk-backed DuckDB staging file so a large input spills to
 * disk instead of memory. The manifest is written last, the folder is then
 * validated, and only then renamed onto `<out>`. A failed import leaves no
 * folder that looks complete (a folder without dataset.json is not a dataset).
 * Rerunning replaces `<out>` and, because every table is written sorted,
 * yields byte-identical tables.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { openDb, sqlString, type Db } from "../harness/db/duckdb.ts";
import { DATASET_FORMAT, MANIFEST_FILE, TABLE_COLUMNS, type Manifest, type TableEntry, type TableName } from "./format.ts";
import { fileSha256 } from "./sha256.ts";
import { validateDataset, formatValidationProblem } from "./validate.ts";

/** Deterministic row order of each table (ties broken by every column that identifies a row). */
export const TABLE_ORDER: Record<TableName, string> = {
  markets: "ticker",
  quotes: "ts, ticker, yes_bid NULLS FIRST, yes_ask NULLS FIRST, last_price NULLS FIRST, volume NULLS FIRST, open_interest NULLS FIRST",
  trades: "ts, seq",
  orderbook: "ts, ticker, CAST(yes AS VARCHAR), CAST(no AS VARCHAR)",
  news: "ts, id",
};

/** DuckDB memory limit for an import (override with TAPEDECK_IMPORT_MEMORY, e.g. "4GB"). */
export const IMPORT_MEMORY_LIMIT = "1GB";

export interface ManifestHead {
  name: string;
  description: string;
  source: Omit<Manifest["source"], "importedAt">;
  license: string;
}

export class DatasetValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetValidationError";
  }
}

export class DatasetWriter {
  private readonly tables = new Map<TableName, TableEntry>();
  private finished = false;

  private constructor(
    readonly outDir: string,
    readonly workDir: string,
    readonly db: Db,
  ) {}

  /** Start a dataset at `outDir`. Refuses to replace a non-empty folder that is not a dataset. */
  static async open(outDir: string): Promise<DatasetWriter> {
    const out = resolve(outDir);
    if (existsSync(out) && !existsSync(join(out, MANIFEST_FILE))) {
      const entries = await readdir(out);
      if (entries.length > 0) throw new Error(`${outDir}: exists, is not empty and holds no ${MANIFEST_FILE}; refusing to replace it`);
    }
    const workDir = join(dirname(out), `${basename(out)}.partial-${process.pid}`);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const db = await openDb(join(workDir, ".staging.duckdb"));
    await db.connection.run("SET TimeZone = 'UTC'");
    // Bound memory so a large input spills to the staging file's temp folder instead of growing with the input.
    await db.connection.run(`SET memory_limit = ${sqlString(process.env["TAPEDECK_IMPORT_MEMORY"] ?? IMPORT_MEMORY_LIMIT)}`);
    return new DatasetWriter(out, workDir, db);
  }

  get connection(): Db["connection"] {
    return this.db.connection;
  }

  /**
   * Write one table from a SELECT whose columns carry the table's names
   * (extra columns are ignored, missing ones are an error). Casts to the
   * format's exact types and sorts deterministically.
   */
  async writeTable(table: TableName, select: string): Promise<number> {
    const columns = Object.entries(TABLE_COLUMNS[table])
      .map(([name, type]) => `CAST(${name} AS ${type}) AS ${name}`)
      .join(", ");
    const file = `${table}.parquet`;
    const path = join(this.workDir, file);
    await this.connection.run(
      `COPY (SELECT ${columns} FROM (${select}) ORDER BY ${TABLE_ORDER[table]}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const reader = await this.connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlString(path)})`);
    const rows = Number(reader.getRowObjectsJson()[0]?.["n"] ?? 0);
    this.tables.set(table, { file, rows, sha256: await fileSha256(path) });
    return rows;
  }

  /** Earliest and latest time in any written table (0,0 for an empty dataset). */
  private async span(): Promise<{ start: number; end: number }> {
    const parts: string[] = [];
    for (const [table, entry] of this.tables) {
      const src = `read_parquet(${sqlString(join(this.workDir, entry.file))})`;
      if (table === "markets") {
        parts.push(`SELECT open_time AS t FROM ${src}`, `SELECT close_time FROM ${src}`, `SELECT settle_time FROM ${src}`);
      } else {
        parts.push(`SELECT ts FROM ${src}`);
      }
    }
    if (parts.length === 0) return { start: 0, end: 0 };
    const reader = await this.connection.runAndReadAll(
      `SELECT coalesce(min(t), 0)::DOUBLE AS s, coalesce(max(t), 0)::DOUBLE AS e FROM (${parts.join(" UNION ALL ")}) AS u(t)`,
    );
    const row = reader.getRowObjectsJson()[0];
    return { start: Number(row?.["s"] ?? 0), end: Number(row?.["e"] ?? 0) };
  }

  /** Write the manifest last, validate the whole folder, then move it onto the output. */
  async commit(head: ManifestHead): Promise<Manifest> {
    const markets = this.tables.get("markets");
    if (!markets) throw new Error("a dataset needs a markets table");
    const get = (t: TableName): TableEntry | undefined => this.tables.get(t);
    const quotes = get("quotes");
    const trades = get("trades");
    const orderbook = get("orderbook");
    const news = get("news");
    const tables: Manifest["tables"] = { markets };
    if (quotes) tables.quotes = quotes;
    if (trades) tables.trades = trades;
    if (orderbook) tables.orderbook = orderbook;
    if (news) tables.news = news;
    const hasBidAsk = quotes !== undefined && (await this.hasAnyBidAsk());
    const manifest: Manifest = {
      format: DATASET_FORMAT,
      name: head.name,
      description: head.description,
      source: { ...head.source, importedAt: new Date().toISOString() },
      license: head.license,
      span: await this.span(),
      tables,
      capabilities: {
        hasBidAsk,
        hasTrades: (trades?.rows ?? 0) > 0,
        hasOrderbook: (orderbook?.rows ?? 0) > 0,
        hasNews: (news?.rows ?? 0) > 0,
      },
    };
    if (!hasBidAsk && !manifest.source.notes.some((n) => n.startsWith("No bid/ask"))) {
      manifest.source.notes.push(
        "No bid/ask in this dataset (capabilities.hasBidAsk = false): replay must use a fill model that works from trade prints.",
      );
    }
    this.db.close();
    await rm(join(this.workDir, ".staging.duckdb"), { force: true });
    await rm(join(this.workDir, ".staging.duckdb.wal"), { force: true });
    await rm(join(this.workDir, ".staging.duckdb.tmp"), { recursive: true, force: true });
    await writeFile(join(this.workDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const report = await validateDataset(this.workDir);
    if (report.problems.length > 0) {
      const first = report.problems[0];
      const more = report.totalProblems - 1;
      await this.abort();
      throw new DatasetValidationError(
        `imported data failed validation: ${first ? formatValidationProblem(first) : "unknown problem"}${more > 0 ? ` (and ${more} more)` : ""}`,
      );
    }
    const old = `${this.outDir}.old-${process.pid}`;
    if (existsSync(this.outDir)) await rename(this.outDir, old);
    await rename(this.workDir, this.outDir);
    await rm(old, { recursive: true, force: true });
    this.finished = true;
    return manifest;
  }

  private async hasAnyBidAsk(): Promise<boolean> {
    const path = join(this.workDir, "quotes.parquet");
    const reader = await this.connection.runAndReadAll(
      `SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlString(path)}) WHERE yes_bid IS NOT NULL OR yes_ask IS NOT NULL`,
    );
    return Number(reader.getRowObjectsJson()[0]?.["n"] ?? 0) > 0;
  }

  /** Drop the partial folder (safe to call twice, and after commit does nothing). */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      this.db.close();
    } catch {
      // already closed by commit
    }
    await rm(this.workDir, { recursive: true, force: true });
  }
}

/** Run an import body against a writer, aborting on any error so nothing half-written survives. */
export async function withDatasetWriter<T>(outDir: string, body: (writer: DatasetWriter) => Promise<T>): Promise<T> {
  const writer = await DatasetWriter.open(outDir);
  try {
    return await body(writer);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
