import { join } from "node:path";
import { openDb, sqlString } from "../../harness/db/duckdb.ts";

/** Rows of a dataset table (BIGINT as numbers), optionally filtered/sorted by SQL. */
export async function readTable(dir: string, table: string, tail = ""): Promise<Array<Record<string, unknown>>> {
  const db = await openDb();
  try {
    const reader = await db.connection.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(join(dir, `${table}.parquet`))}) ${tail}`);
    return reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])),
    );
  } finally {
    db.close();
  }
}
