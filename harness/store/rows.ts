/**
 * Rows read back from the results DB, checked with zod: a column that is
 * missing or of another type is an error naming the query's purpose and the
 * field, never a silent undefined. Queries cast counts and money to DOUBLE
 * so every number arrives as a JS number.
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { z } from "zod";

export async function readRows<S extends z.ZodType>(
  c: DuckDBConnection,
  what: string,
  schema: S,
  sql: string,
  params: DuckDBValue[] = [],
): Promise<Array<z.output<S>>> {
  const reader = params.length > 0 ? await c.runAndReadAll(sql, params) : await c.runAndReadAll(sql);
  const rows = reader.getRowObjectsJS();
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`${what}, row ${i + 1}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
}

/** A DOUBLE (or BIGINT/INTEGER) column: a JS number. */
export const num = z.union([z.number(), z.bigint()]).transform(Number);
export const numOrNull = num.nullable();
export const strOrNull = z.string().nullable();
