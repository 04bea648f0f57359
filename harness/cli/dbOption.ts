import { DEFAULT_DB_PATH } from "../store/schema.ts";

/** The --db option every command that reads or writes results shares. */
export const dbOption = {
  db: {
    type: "string",
    default: DEFAULT_DB_PATH,
    describe: "Results database file (DuckDB)",
  },
} as const;
