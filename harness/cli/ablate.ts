/** `tapedeck ablate -c <config> -d <dataset>`: cost layers on one at a time, with what each saves and what it costs in accuracy and money. */
import type { CommandModule } from "yargs";
import { ReplaySource } from "../events/replaySource.ts";
import { ABLATION_STEPS, runAblation, type AblationRow, type AblationStep } from "../replay/runAblation.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { ConfigError, loadRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { replayProgressBar } from "./progress.ts";
import { formatTable } from "./table.ts";

interface AblateArgs {
  config: string;
  dataset: string;
  steps?: string[];
  markets?: number;
  db: string;
  json: boolean;
  progress: boolean;
}

export const ablateCommand: CommandModule<object, AblateArgs> = {
  command: "ablate",
  describe: "Replay one config with the cost layers switched on one at a time (none, +exact cache, +semantic cache, +event filter, +sampling, +batching) and compare calls, dollars, Brier and P&L",
  builder: (y) =>
    y
      .option("config", { alias: "c", type: "string", demandOption: true, describe: "Run config whose strategy calls models" })
      .option("dataset", { alias: "d", type: "string", demandOption: true })
      .option("steps", { type: "string", array: true, choices: [...ABLATION_STEPS], describe: "Only these steps (none is always first)" })
      .option("markets", { type: "number", describe: "Only the first N markets of the dataset (by ticker), for a quick look" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print the table as JSON (for scripts); no progress bar" })
      .option("progress", { type: "boolean", default: true, describe: "Show a progress bar per step on a terminal" }) as never,
  handler: async (args) => {
    let config;
    try {
      config = loadRunConfig(args.config);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2);
      throw error;
    }
    if (config.strategy.kind !== "llm" && config.strategy.kind !== "consensus") {
      throw new CliError(`${args.config}: strategy "${config.strategy.kind}" calls no model; the ablation measures model-call layers`, 2);
    }
    const steps = ["none", ...(args.steps ?? ABLATION_STEPS).filter((s) => s !== "none")] as AblationStep[];
    let tickers: string[] | undefined;
    if (args.markets !== undefined) {
      const source = await ReplaySource.open(args.dataset);
      tickers = (await source.markets()).map((m) => m.ticker).slice(0, args.markets);
      await source.close();
    }
    const db = await DuckDbStore.open(args.db);
    let rows: AblationRow[];
    let bar = replayProgressBar(false);
    let current: AblationStep | null = null;
    try {
      rows = await runAblation({
        config,
        datasetDir: args.dataset,
        db,
        steps,
        ...(tickers ? { source: { tickers } } : {}),
        onProgress: (step, events, total) => {
          if (step !== current) {
            bar.stop();
            // One bar per step, numbered: the steps are separate replays, each from 0 to 100%.
            bar = replayProgressBar(args.progress && !args.json, `[${steps.indexOf(step) + 1}/${steps.length}] ${step.padEnd(14)}`);
            current = step;
          }
          bar.update({ events, simTs: 0, totalEvents: total, forecasts: 0, orders: 0 });
        },
      });
    } finally {
      bar.stop();
      db.close();
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${formatAblation(rows)}\n\nresults in ${args.db} (runs labelled ablation:<step>)\n`);
  },
};

export function formatAblation(rows: readonly AblationRow[]): string {
  const none = rows[0];
  return formatTable(
    ["step", "model calls", "cache hits", "tokens", "AI $", "calls avoided", "saved %", "scored", "Brier", "skill vs mkt", "P&L $", "net $"],
    rows.map((r) => [
      r.step === "none" ? "none" : `+ ${r.step}`,
      r.modelCalls,
      r.cacheHits,
      r.tokens,
      r.aiSpendUsd,
      r.callsAvoided,
      none && none.modelCalls > 0 ? Math.round((100 * r.callsAvoided) / none.modelCalls) : null,
      r.scored,
      r.brier,
      r.brierSkill,
      r.pnlUsd,
      r.netPnlUsd,
    ]),
  );
}
