/**
 * Staging saved JSON / JSONL API responses. DuckDB's read_json_objects
 * streams each top-level object (a JSON array's elements, or one per line);
 * a response wrapper such as `{"markets": [...], "cursor": ...}` is unnested
 * into its records. Each record keeps `_file`, `_row` (1-based record number
 * in its file) and, for wrappers, the wrapper's own `ticker`.
 */
import { stat } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../inputError.ts";
import { sqlString } from "../../harness/db/duckdb.ts";

/** Stage records of `files` into table `name`(_file, _row, parent_ticker, rec JSON). */
export async function stageJsonRecords(conn: DuckDBConnection, name: string, files: string[], wrapperKey: string): Promise<void> {
  await refuseEmptyFiles(files);
  const list = `[${files.map(sqlString).join(", ")}]`;
  const key = sqlString(`$.${wrapperKey}`);
  await conn.run(`CREATE OR REPLACE TABLE ${name}_objs AS
    SELECT filename AS _file, json AS j FROM read_json_objects(${list}, format = 'auto', filename = true)`);
  await conn.run(`CREATE OR REPLACE TABLE ${name} AS
    SELECT _file, row_number() OVER (PARTITION BY _file ORDER BY _rid, _idx) AS _row, parent_ticker, rec FROM (
      SELECT _file, _rid, j ->> '$.ticker' AS parent_ticker,
        unnest(recs) AS rec, unnest(range(len(recs))) AS _idx
      FROM (SELECT _file, rowid AS _rid, j,
              CASE WHEN json_type(j, ${key}) = 'ARRAY' THEN CAST(json_extract(j, ${key}) AS JSON[]) ELSE [j] END AS recs
            FROM ${name}_objs))`);
  await conn.run(`DROP TABLE ${name}_objs`);
}

/** A 0-byte input file is refused: it is a failed download or copy far more often than "no records". */
export async function refuseEmptyFiles(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if ((await stat(file)).size === 0) {
      throw new InputError({ file, row: null, field: "(file)", message: "empty file (0 bytes); refusing it rather than reading it as no records" });
    }
  }
}

/** Keys that occur (non-null) in any staged record, so `pick` can prefer fields that are really there. */
export async function presentKeys(conn: DuckDBConnection, name: string): Promise<string[]> {
  const rows = (
    await conn.runAndReadAll(`SELECT DISTINCT k FROM (SELECT unnest(json_keys(rec)) AS k, rec FROM ${name}) WHERE json_type(rec, '$."' || k || '"') <> 'NULL' ORDER BY k`)
  ).getRowObjectsJson();
  return rows.map((r) => String(r["k"]));
}

/** A text view `view` over staged records with one column per present scalar key. */
export async function textView(
  conn: DuckDBConnection,
  name: string,
  view: string,
  extra = "",
  rename: (key: string) => string = (k) => k,
): Promise<void> {
  const keys = (await presentKeys(conn, name)).filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  const columns = keys.map((k) => `rec ->> '$.${k}' AS "${rename(k)}"`);
  await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT _file, _row, ${[...columns, extra].filter((c) => c !== "").join(", ")} FROM ${name}`);
}

/**
 * Stage a keyed JSON file — a list of `{KEY: [record, …]}` or `{KEY: record}`
 * objects, as the old snapshot layout writes them — into `name`(_file, _row, parent_ticker = KEY, rec).
 */
export async function stageKeyedJson(conn: DuckDBConnection, name: string, file: string): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${name}_top AS
    SELECT filename AS _file, json AS j FROM read_json_objects(${sqlString(file)}, format = 'auto', filename = true)`);
  await conn.run(`CREATE OR REPLACE TABLE ${name}_objs AS
    SELECT _file, _rid, k, json_extract(j, '$."' || k || '"') AS v FROM (
      SELECT _file, rowid AS _rid, j, unnest(json_keys(j)) AS k FROM ${name}_top)`);
  await conn.run(`DROP TABLE ${name}_top`);
  await conn.run(`CREATE OR REPLACE TABLE ${name} AS
    SELECT _file, row_number() OVER (PARTITION BY _file ORDER BY _rid, k, _idx) AS _row, k AS parent_ticker, rec FROM (
      SELECT _file, _rid, k, unnest(recs) AS rec, unnest(range(len(recs))) AS _idx
      FROM (SELECT _file, _rid, k, CASE WHEN json_type(v) = 'ARRAY' THEN CAST(v AS JSON[]) ELSE [v] END AS recs FROM ${name}_objs))`);
  await conn.run(`DROP TABLE ${name}_objs`);
}

/** SQL: a time that may be epoch seconds, epoch ms or ISO-8601 text → epoch ms. */
export function anyTimeMs(expr: string): string {
  return `CASE WHEN regexp_matches(trim(${expr}), '^[0-9]+(\\.[0-9]+)?$')
    THEN CAST(CASE WHEN CAST(trim(${expr}) AS DOUBLE) > 1e11 THEN CAST(trim(${expr}) AS DOUBLE) ELSE CAST(trim(${expr}) AS DOUBLE) * 1000 END AS BIGINT)
    ELSE epoch_ms(TRY_CAST(NULLIF(trim(${expr}), '') AS TIMESTAMPTZ)) END`;
}
