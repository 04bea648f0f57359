/**
 * Validating a dataset folder: the manifest, each table's file (present,
 * sha256, row count, exact columns and types) and every row rule in
 * rules.ts. Every problem names the table, file, row and field.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openDb, sqlString } from "../harness/db/duckdb.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import { TABLE_COLUMNS, TABLE_NAMES, MANIFEST_FILE, type Manifest, type TableName } from "./format.ts";
import { readManifest } from "./manifest.ts";
import { runRules } from "./ruleRunner.ts";
import { fileSha256 } from "./sha256.ts";

export interface ValidationProblem {
  table: TableName | "manifest";
  file: string;
  /** 1-based row in the table's file; null for file-level problems. */
  row: number | null;
  field: string;
  message: string;
}

export interface ValidationReport {
  dir: string;
  ok: boolean;
  /** Up to `maxPerRule` problems of each kind, in table and row order. */
  problems: ValidationProblem[];
  /** All problems found, including those not listed. */
  totalProblems: number;
  manifest: Manifest | null;
}

export function formatValidationProblem(p: ValidationProblem): string {
  return `${p.file}${p.row === null ? "" : ` row ${p.row}`} field ${p.field}: ${p.message}`;
}

async function describeColumns(conn: DuckDBConnection, path: string): Promise<Array<{ name: string; type: string }>> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  return reader.getRowObjectsJson().map((r) => ({ name: String(r["column_name"]), type: String(r["column_type"]) }));
}

export async function validateDataset(dir: string, options: { maxPerRule?: number } = {}): Promise<ValidationReport> {
  const maxPerRule = options.maxPerRule ?? 20;
  const problems: ValidationProblem[] = [];
  let total = 0;
  const add = (p: ValidationProblem): void => {
    problems.push(p);
    total += 1;
  };

  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    add({ table: "manifest", file: join(dir, MANIFEST_FILE), row: null, field: "(file)", message: error instanceof Error ? error.message : String(error) });
    return { dir, ok: false, problems, totalProblems: total, manifest: null };
  }

  const db = await openDb(":memory:");
  try {
    const conn = db.connection;
    const usable = new Set<TableName>();
    for (const table of TABLE_NAMES) {
      const entry = manifest.tables[table];
      if (!entry) continue;
      const path = join(dir, entry.file);
      if (!existsSync(path)) {
        add({ table, file: path, row: null, field: "(file)", message: "file named in dataset.json is missing" });
        continue;
      }
      const sha = await fileSha256(path);
      if (sha !== entry.sha256) {
        add({ table, file: path, row: null, field: "sha256", message: `sha256 ${sha} does not match dataset.json (${entry.sha256})` });
      }
      let columns: Array<{ name: string; type: string }>;
      try {
        columns = await describeColumns(conn, path);
      } catch (error) {
        add({ table, file: path, row: null, field: "(file)", message: `not a readable Parquet file: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` });
        continue;
      }
      const expected = Object.entries(TABLE_COLUMNS[table]);
      let schemaOk = columns.length === expected.length;
      for (const [i, [name, type]] of expected.entries()) {
        const got = columns[i];
        if (!got || got.name !== name || got.type !== type) {
          schemaOk = false;
          add({ table, file: path, row: null, field: name, message: `expected column ${i + 1} to be ${name} ${type}, found ${got ? `${got.name} ${got.type}` : "nothing"}` });
        }
      }
      if (columns.length > expected.length) {
        add({ table, file: path, row: null, field: columns[expected.length]?.name ?? "?", message: "unexpected extra column" });
      }
      if (!schemaOk) continue;
      const reader = await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlString(path)})`);
      const rows = Number(reader.getRowObjectsJson()[0]?.["n"] ?? -1);
      if (rows !== entry.rows) add({ table, file: path, row: null, field: "rows", message: `file has ${rows} rows, dataset.json says ${entry.rows}` });
      await conn.run(
        `CREATE OR REPLACE VIEW t_${table} AS SELECT *, ${sqlString(path)} AS _file, file_row_number + 1 AS _row FROM read_parquet(${sqlString(path)}, file_row_number = true)`,
      );
      usable.add(table);
    }

    const relations: Partial<Record<TableName, string>> = {};
    for (const table of usable) relations[table] = `t_${table}`;
    const rows = await runRules(conn, relations, maxPerRule);
    problems.push(...rows.problems);
    total += rows.total;
    if (usable.has("trades")) {
      // Replay reads trades in file order and relies on it for prints of one ms (format.ts `seq`): a file
      // whose rows of one ts are out of seq order would replay them in an order seq does not say.
      // (Not a rule of rules.ts: importers run those on their input, which is not in file order yet.)
      let hits: Array<Record<string, unknown>> = [];
      try {
        hits = (
          await conn.runAndReadAll(
            `SELECT _file, _row::DOUBLE AS _row, seq, prev, count(*) OVER ()::DOUBLE AS n FROM (
               SELECT _file, _row, ts, seq, lag(seq) OVER (ORDER BY _row) AS prev, lag(ts) OVER (ORDER BY _row) AS prev_ts FROM t_trades)
             WHERE prev_ts = ts AND prev > seq ORDER BY _row LIMIT ${maxPerRule}`,
          )
        ).getRowObjectsJson();
      } catch (error) {
        // A damaged file (its sha256 will not match either) cannot be read whole.
        add({ table: "trades", file: join(dir, manifest.tables.trades!.file), row: null, field: "(file)", message: `not readable whole: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` });
      }
      for (const h of hits) {
        problems.push({ table: "trades", file: String(h["_file"]), row: Number(h["_row"]), field: "seq", message: `seq ${String(h["seq"])} after seq ${String(h["prev"])} in the same ms: rows of one ts must be in seq order (re-import with tapedeck import)` });
      }
      total += Number(hits[0]?.["n"] ?? 0);
    }
  } finally {
    db.close();
  }
  problems.sort((a, b) => TABLE_NAMES.indexOf(a.table as TableName) - TABLE_NAMES.indexOf(b.table as TableName) || (a.row ?? 0) - (b.row ?? 0));
  return { dir, ok: total === 0, problems, totalProblems: total, manifest };
}
