/**
 * Opening DuckDB the one way the project does it: the official
 * @duckdb/node-api client, with extension auto-install switched off so a
 * query that would need a download (httpfs, spatial…) fails at once with a
 * clear message instead of hanging on a network that is not there.
 * parquet, json and icu are built in.
 *
 * Lifetimes are explicit: whoever opens a Db closes it.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

export interface Db {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  close(): void;
}

export async function openDb(path = ":memory:", options: { readOnly?: boolean; threads?: number } = {}): Promise<Db> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "true",
  };
  if (options.readOnly) config["access_mode"] = "READ_ONLY";
  if (options.threads !== undefined) config["threads"] = String(options.threads);
  const instance = await DuckDBInstance.create(path, config);
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Quote a string as a SQL literal (paths, names); values from users go through parameters instead. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
