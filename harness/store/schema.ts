import { readFileSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";

const SCHEMA_SQL = readFileSync(new URL("./schema.sql", import.meta.url), "utf8");

/** Create every results table that does not exist yet (idempotent). */
export async function applySchema(connection: DuckDBConnection): Promise<void> {
  await connection.run(SCHEMA_SQL);
}

/** Default results database, relative to the working directory. */
export const DEFAULT_DB_PATH = "reports/tapedeck.duckdb";
