/**
 * Staging raw input inside the import's DuckDB: every input row lands as
 * text with `_file` and `_row` (1-based data row within its file), so that
 * parsing and checking can name the exact place of a bad value. DuckDB reads
 * CSV/JSON itself (streaming, spilling to the staging file on disk): no
 * input is ever held whole in JS memory.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../../harness/db/duckdb.ts";
import { InputError } from "../inputError.ts";
import { runRules } from "../ruleRunner.ts";
import type { TableName } from "../format.ts";

/** Stage CSV files (header row, any columns) as all-text table `name`. */
export async function stageCsv(conn: DuckDBConnection, name: string, files: string[]): Promise<Set<string>> {
  const list = `[${files.map(sqlString).join(", ")}]`;
  await conn.run(
    `CREATE OR REPLACE TABLE ${name}_scan AS SELECT * FROM read_csv(${list}, header = true, all_varchar = true, filename = true, union_by_name = true)`,
  );
  await conn.run(
    `CREATE OR REPLACE TABLE ${name} AS SELECT * EXCLUDE (filename), filename AS _file, row_number() OVER (PARTITION BY filename ORDER BY rowid) AS _row FROM ${name}_scan`,
  );
  await conn.run(`DROP TABLE ${name}_scan`);
  return columnsOf(conn, name);
}

export async function columnsOf(conn: DuckDBConnection, relation: string): Promise<Set<string>> {
  const rows = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJson();
  return new Set(rows.map((r) => String(r["column_name"])));
}

/** First present column among `names`, as an SQL reference, or NULL. */
export function pick(cols: Set<string>, ...names: string[]): string {
  for (const n of names) if (cols.has(n)) return `"${n}"`;
  return "NULL";
}

/** SQL: text → epoch ms (ISO-8601, a zone-less time is UTC because the session zone is UTC). */
export function isoMs(expr: string): string {
  return `epoch_ms(TRY_CAST(NULLIF(trim(${expr}), '') AS TIMESTAMPTZ))`;
}

/** SQL: text dollars → DOUBLE rounded to 4 decimals. */
export function dollars(expr: string): string {
  return `round(TRY_CAST(NULLIF(trim(${expr}), '') AS DOUBLE), 4)`;
}

/** SQL: text integer cents → dollars rounded to 4 decimals. */
export function cents(expr: string): string {
  return `round(TRY_CAST(NULLIF(trim(${expr}), '') AS DOUBLE) / 100, 4)`;
}

export interface ParseCheck {
  field: string;
  /** the raw text column (or expression) the value came from */
  raw: string;
  /** the parsed expression; NULL where raw is non-empty means unparsable */
  parsed: string;
  what: string;
}

/**
 * Fail on the first raw value that did not parse (a number that is not a
 * number, a time that is not a time), naming file, row and field.
 */
export async function checkParsed(conn: DuckDBConnection, relation: string, checks: ParseCheck[]): Promise<void> {
  for (const c of checks) {
    if (c.raw === "NULL") continue;
    const hits = (
      await conn.runAndReadAll(
        `SELECT _file, _row::DOUBLE AS _row, CAST(${c.raw} AS VARCHAR) AS v, count(*) OVER ()::DOUBLE AS n FROM ${relation}
         WHERE NULLIF(trim(CAST(${c.raw} AS VARCHAR)), '') IS NOT NULL AND (${c.parsed}) IS NULL ORDER BY _file, _row LIMIT 1`,
      )
    ).getRowObjectsJson();
    const hit = hits[0];
    if (hit) {
      throw new InputError(
        { file: String(hit["_file"]), row: Number(hit["_row"]), field: c.field, message: `not ${c.what} (value ${JSON.stringify(hit["v"])})` },
        Number(hit["n"]) - 1,
      );
    }
  }
}

/** Run the dataset row rules over staged, normalised tables; throw the first problem located in the input. */
export async function checkRules(
  conn: DuckDBConnection,
  relations: Partial<Record<TableName, string>>,
  inputFieldNames: Partial<Record<TableName, Record<string, string>>> = {},
): Promise<void> {
  const { problems, total } = await runRules(conn, relations, 1);
  const first = problems[0];
  if (first) {
    // Name the field as the input spells it (e.g. `price`), not as the dataset column (`yes_price`).
    const field = inputFieldNames[first.table]?.[first.field] ?? first.field;
    throw new InputError({ file: first.file, row: first.row, field, message: first.message }, total - 1);
  }
}
