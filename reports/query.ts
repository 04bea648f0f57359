/**
 * Reading rows out of the results DB as plain JSON values: BIGINT becomes a
 * number (every count, ts and money unit here is far below 2^53), DECIMAL a
 * number, NULL stays null. Reports embed these rows verbatim, so what the
 * HTML shows is exactly what SQL returned.
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";

export type JsonValue = string | number | boolean | null;
export type Row = Record<string, JsonValue>;

function toJson(value: DuckDBValue): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  return String(value);
}

export async function queryRows(connection: DuckDBConnection, sql: string, params: readonly string[] = []): Promise<Row[]> {
  const reader = params.length > 0 ? await connection.runAndReadAll(sql, [...params]) : await connection.runAndReadAll(sql);
  const columns = reader.columnNames();
  return reader.getRows().map((values) => {
    const row: Row = {};
    columns.forEach((name, i) => {
      row[name] = toJson(values[i] ?? null);
    });
    return row;
  });
}

export async function tableExists(connection: DuckDBConnection, table: string): Promise<boolean> {
  const rows = await queryRows(connection, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1", [table]);
  return (rows[0]?.["n"] ?? 0) !== 0;
}

/** A list of strings as a SQL IN-list body, each quoted as a literal. */
export function sqlList(values: readonly string[]): string {
  return values.length === 0 ? "NULL" : values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ");
}

export function num(row: Row | undefined, key: string): number | null {
  const v = row?.[key];
  return typeof v === "number" ? v : null;
}

export function str(row: Row | undefined, key: string): string {
  const v = row?.[key];
  return v === null || v === undefined ? "" : String(v);
}
