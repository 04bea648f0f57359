/** `tapedeck export <run> --format csv|parquet -o <dir>`: every table's rows of one run, one file per table. */
import type { CommandModule } from "yargs";
import { exportRun, type ExportFormat } from "../store/exportRun.ts";
import { dbOption } from "./dbOption.ts";
import { openResults, runIdArg } from "./runs.ts";
import { formatTable } from "./table.ts";

interface ExportArgs {
  run: string;
  format: ExportFormat;
  out?: string;
  db: string;
  json: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export <run>",
  describe: "Write every table of a run (forecasts, decisions, orders, fills, llm_calls, transcripts…) as CSV or Parquet files",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run id or unique prefix" })
      .option("format", { alias: "f", choices: ["csv", "parquet"] as const, default: "csv" as ExportFormat, describe: "File format" })
      .option("out", { alias: "o", type: "string", describe: "Output folder (default reports/out/export-<run>)" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print the written files as JSON" })
      .example("$0 export llm-2025 --format parquet -o /tmp/llm-run", "one Parquet file per table") as never,
  handler: async (args) => {
    const db = await openResults(args.db);
    try {
      const runId = await runIdArg(db, args.run);
      const dir = args.out ?? `reports/out/export-${runId}`;
      const started = performance.now();
      const tables = await exportRun(db.connection, runId, args.format, dir);
      const ms = Math.round(performance.now() - started);
      if (args.json) process.stdout.write(`${JSON.stringify({ runId, format: args.format, dir, ms, tables }, null, 2)}\n`);
      else process.stdout.write(`${formatTable(["table", "rows", "file"], tables.map((t) => [t.table, t.rows, t.path]))}\nexported run ${runId} in ${ms} ms\n`);
    } finally {
      db.close();
    }
  },
};
