/** `tapedeck redecide <run> -c <config>`: re-run sizing, risk and consensus weights over a run's stored forecasts, calling no model. */
import type { CommandModule } from "yargs";
import { readRun, runReplay } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { loadRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { replayProgressBar } from "./progress.ts";
import { formatReplaySummary } from "./replay.ts";
import { runIdArg } from "./runs.ts";

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
      args.run = await runIdArg(db, args.run);
      const parent = await readRun(db, args.run).catch((error: Error) => {
        throw new CliError(error.message, 2);
      });
      if (parent.status !== "completed") throw new CliError(`run ${args.run} is ${parent.status}; only a completed run's forecasts can be re-decided`, 2);
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
