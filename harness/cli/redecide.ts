/** `tapedeck redecide <run> -c <config>`: re-run sizing, risk and consensus weights over a run's stored forecasts, calling no model. */
import type { CommandModule } from "yargs";
import { runReplay } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { ConfigError, loadRunConfig, parseRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { replayProgressBar } from "./progress.ts";
import { formatReplaySummary } from "./replay.ts";

interface RedecideArgs {
  run: string;
  config: string;
  db: string;
  label?: string;
  json: boolean;
}

export const redecideCommand: CommandModule<object, RedecideArgs> = {
  command: "redecide <run>",
  describe: "Re-decide a finished run's stored forecasts under another config's sizing, risk and consensus weights (no model calls); a new run linked to it",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run whose forecasts to reuse" })
      .option("config", { alias: "c", type: "string", demandOption: true, describe: "Config with the decision parameters to apply" })
      .options(dbOption)
      .option("label", { type: "string" })
      .option("json", { type: "boolean", default: false })
      .example("$0 redecide consensus-20251107-... -c strategies/configs/consensus-fitted.json", "apply fitted consensus weights") as never,
  handler: async (args) => {
    const db = await DuckDbStore.open(args.db);
    const bar = replayProgressBar(!args.json, "redecide");
    try {
      const parent = await parentRun(db, args.run);
      let config;
      try {
        config = loadRunConfig(args.config);
      } catch (error) {
        throw new CliError((error as Error).message, 2);
      }
      if (config.strategy.kind !== parent.config.strategy.kind) {
        throw new CliError(`${args.config}: strategy "${config.strategy.kind}" cannot re-decide forecasts made by strategy "${parent.config.strategy.kind}" (run ${args.run})`, 2);
      }
      const outcome = await runReplay({
        config,
        datasetDir: parent.datasetDir,
        db,
        kind: "redecide",
        parentRunId: args.run,
        redecideFrom: args.run,
        ...(args.label ? { label: args.label } : {}),
        onProgress: (p) => bar.update(p),
      });
      bar.stop();
      process.stdout.write(args.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${formatReplaySummary(outcome, args.db)}\nre-decided from ${args.run}\n`);
    } finally {
      bar.stop();
      db.close();
    }
  },
};

async function parentRun(db: Awaited<ReturnType<typeof DuckDbStore.open>>, runId: string) {
  const reader = await db.connection.runAndReadAll(`SELECT config_json, dataset_path, status FROM runs WHERE run_id = $1`, [runId]);
  const row = reader.getRowObjectsJS()[0] as { config_json: string; dataset_path: string | null; status: string } | undefined;
  if (!row) throw new CliError(`run ${runId} is not in the results database`, 2);
  if (row.status !== "completed") throw new CliError(`run ${runId} is ${row.status}; only a completed run's forecasts can be re-decided`, 2);
  if (!row.dataset_path) throw new CliError(`run ${runId} has no dataset path recorded`, 2);
  try {
    return { config: parseRunConfig(JSON.parse(row.config_json), `run ${runId} config`), datasetDir: row.dataset_path };
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}
