/** `tapedeck sweep -c <config> -d <dataset> --vary key=a,b,c …`: a grid of runs, models asked once per forecast. */
import { readFileSync } from "node:fs";
import cliProgress from "cli-progress";
import type { CommandModule } from "yargs";
import { ReplaySource } from "../events/replaySource.ts";
import { runSweep } from "../replay/runSweep.ts";
import { parseVary, planSweep, type Vary } from "../replay/sweepPlan.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";
import { metricValue } from "../results/runMetrics.ts";
import { cacheModeOption, type CacheMode } from "../cache/cacheMode.ts";

interface SweepArgs {
  config: string;
  dataset: string;
  vary: string[];
  concurrency?: number;
  db: string;
  json: boolean;
  progress: boolean;
  cache: CacheMode;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: "sweep",
  describe: "Run a grid of config variants (several --vary give the product) in parallel; variants that differ only in decisions reuse forecasts",
  builder: (y) =>
    y
      .option("config", { alias: "c", type: "string", demandOption: true, describe: "Base run config" })
      .option("dataset", { alias: "d", type: "string", demandOption: true, describe: "Dataset folder" })
      .option("vary", { type: "string", array: true, demandOption: true, describe: "key=v1,v2,… with a dotted key into the config (repeat for a grid)" })
      .option("concurrency", { type: "number", describe: "Runs at once (default: the number of cores)" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print the variants as JSON (for scripts); no progress bar" })
      .option("progress", { type: "boolean", default: true, describe: "Show a progress bar on a terminal" })
      .options(cacheModeOption)
      .example("$0 sweep -c strategies/configs/momentum.json -d datasets/sample --vary risk.kellyFraction=0.1,0.25 --vary risk.minEdge=0.01,0.03", "4 sizing variants, one set of forecasts") as never,
  handler: async (args) => {
    let plan;
    try {
      const base = JSON.parse(readFileSync(args.config, "utf8")) as Record<string, unknown>;
      const varies: Vary[] = args.vary.map(parseVary);
      plan = planSweep(base, varies);
    } catch (error) {
      throw new CliError(`sweep: ${(error as Error).message}`, 2);
    }
    const described = await ReplaySource.open(args.dataset).then((s) => s.describe()).catch((error: Error) => {
      throw new CliError(error.message, 2);
    });
    const db = await DuckDbStore.open(args.db);
    const bar = args.progress && !args.json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: `sweep [{bar}] {percentage}% | {value}/{total} events over ${plan.length} variants | ETA {eta_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    bar?.start((described.events ?? 0) * plan.length, 0);
    let outcome;
    try {
      outcome = await runSweep({
        variants: plan,
        datasetDir: args.dataset,
        db,
        ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
        onProgress: (events) => bar?.update(events),
        cacheMode: args.cache,
      });
    } finally {
      bar?.stop();
      db.close();
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ sweepId: outcome.sweepId, wallMs: outcome.wallMs, runs: outcome.variants.map((v) => ({ label: v.variant.label, reusedFrom: v.reusedFrom, ...v.outcome })) }, null, 2)}\n`);
      return;
    }
    const rows = outcome.variants.map(({ variant, outcome: o, reusedFrom }) => [
      variant.label || "base",
      o.runId,
      reusedFrom ? "reused" : "called",
      metricValue(o.metrics, "*", "forecasts"),
      // Requests that reached a provider and answers the cache gave are different things: never one "calls" figure.
      metricValue(o.metrics, "*", "provider_calls"),
      (metricValue(o.metrics, "*", "cache_exact_hits") ?? 0) + (metricValue(o.metrics, "*", "cache_semantic_hits") ?? 0),
      metricValue(o.metrics, "*", "signals"),
      metricValue(o.metrics, "*", "trades"),
      metricValue(o.metrics, "*", "pnl_usd"),
      metricValue(o.metrics, "*", "ai_spend_usd"),
      metricValue(o.metrics, "*", "net_pnl_usd"),
    ]);
    process.stdout.write(
      `${formatTable(["variant", "run", "forecasts by", "forecasts", "provider requests", "cache hits", "signals", "trades", "P&L $", "AI $", "net $"], rows)}\n\n` +
        `sweep ${outcome.sweepId}: ${plan.length} variants in ${(outcome.wallMs / 1000).toFixed(1)} s; results in ${args.db}\n`,
    );
  },
};
