/**
 * Running the row rules of rules.ts over any relations that carry `_file`
 * and `_row`: the validator runs them over a dataset's Parquet files, the
 * importers over their staged input (so errors name the input file and row).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { TableName } from "./format.ts";
import { RULES } from "./rules.ts";

export interface RowProblem {
  table: TableName;
  file: string;
  row: number;
  field: string;
  message: string;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "null";
  const text = typeof value === "string" ? (value.trim() === "" ? JSON.stringify(value) : value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * `relations` maps each present table to a SQL relation (table or view name)
 * with the table's columns plus `_file` (VARCHAR) and `_row` (1-based).
 */
export async function runRules(
  conn: DuckDBConnection,
  relations: Partial<Record<TableName, string>>,
  maxPerRule = 20,
): Promise<{ problems: RowProblem[]; total: number }> {
  const problems: RowProblem[] = [];
  let total = 0;
  const markets = relations.markets ?? "(SELECT NULL::VARCHAR AS ticker WHERE false)";
  for (const rule of RULES) {
    const relation = relations[rule.table];
    if (!relation) continue;
    const sql = `WITH T AS (SELECT * FROM ${relation}), M AS (SELECT ticker FROM ${markets})
      SELECT _file, _row::DOUBLE AS _row, CAST(value AS VARCHAR) AS value, count(*) OVER ()::DOUBLE AS total
      FROM (${rule.select}) ORDER BY _file, _row LIMIT ${maxPerRule}`;
    const hits = (await conn.runAndReadAll(sql)).getRowObjectsJson();
    const first = hits[0];
    if (!first) continue;
    for (const hit of hits) {
      problems.push({
        table: rule.table,
        file: String(hit["_file"]),
        row: Number(hit["_row"]),
        field: rule.field,
        message: `${rule.message} (value ${show(hit["value"])})`,
      });
    }
    total += Number(first["total"]);
  }
  return { problems, total };
}
