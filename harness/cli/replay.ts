/** `tapedeck replay -c <config> -d <dataset>`: one replay run into the results DB. */
import type { CommandModule } from "yargs";
import { DatasetError } from "../events/replaySource.ts";
import { ManifestError } from "../../datasets/manifest.ts";
import { loadRunForResume, runReplay, type ReplayOutcome } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { ConfigError, loadRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { replayProgressBar } from "./progress.ts";
import { formatTable } from "./table.ts";
import { metricValue } from "../results/runMetrics.ts";
import { runIdArg } from "./runs.ts";
import { cacheModeOption, type CacheMode } from "../cache/cacheMode.ts";
import { runCounts, runVerdict, UNUSABLE_RUN_EXIT } from "./runVerdict.ts";

interface ReplayArgs {
  config?: string;
  dataset?: string;
  db: string;
  resume?: string;
  label?: string;
  json: boolean;
  progress: boolean;
  verbose: boolean;
  checkpointEvery: number;
  runUsd?: number;
  cache: CacheMode;
  maxAbstainRate?: number;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay",
  describe: "Replay a recorded dataset through one config; results go to the results DB",
  builder: (y) =>
    y
      .option("config", { alias: "c", type: "string", describe: "Run config JSON (see strategies/configs/)" })
      .option("dataset", { alias: "d", type: "string", describe: "Dataset folder (with dataset.json)" })
      .options(dbOption)
      .option("resume", { type: "string", describe: "Continue an unfinished run by id (its config and dataset are reused)" })
      .option("label", { type: "string", describe: "Free-text label stored with the run" })
      .option("json", { type: "boolean", default: false, describe: "Print the outcome as JSON (for scripts); no progress bar" })
      .option("progress", { type: "boolean", default: true, describe: "Show a progress bar on a terminal" })
      .option("verbose", { type: "boolean", default: false, describe: "Log each durable checkpoint to stderr" })
      .option("run-usd", {
        type: "number",
        describe: "Real money this run may spend on model calls, in dollars: replaces the config's budget.runUsd for this process (raise it to resume a run that stopped at its cap)",
      })
      .options(cacheModeOption)
      .option("max-abstain-rate", {
        type: "number",
        describe: `Fail (exit ${UNUSABLE_RUN_EXIT}) when more than this share (0..1) of the forecasts abstained; a run that scored no forecast always fails`,
      })
      .option("checkpoint-every", { type: "number", default: 250_000, describe: "Events between durable checkpoints (resume points)" })
      .example("$0 replay -c strategies/configs/market.json -d datasets/sample", "score the market baseline on the bundled sample")
      .example("$0 replay --resume market-20251107-120000-ab12cd", "continue a run that was interrupted") as never,
  handler: async (args) => {
    if (!args.resume && (!args.config || !args.dataset)) throw new CliError("replay needs -c <config> and -d <dataset> (or --resume <run>)", 2);
    if (args.runUsd !== undefined && !(args.runUsd >= 0)) throw new CliError(`--run-usd must be a dollar amount >= 0 (got ${args.runUsd})`, 2);
    if (args.maxAbstainRate !== undefined && !(args.maxAbstainRate >= 0 && args.maxAbstainRate <= 1)) throw new CliError(`--max-abstain-rate must be between 0 and 1 (got ${args.maxAbstainRate})`, 2);
    const outcome = await replayFromArgs(args);
    if (args.json) process.stdout.write(`${JSON.stringify(withCounts(outcome), null, 2)}\n`);
    else if (outcome.stopReason) process.stdout.write(`run ${outcome.runId} stopped after ${outcome.events.toLocaleString("en-US")} events, resumable\n`);
    else process.stdout.write(`${formatReplaySummary(outcome, args.db)}\n`);
    // Stopped at its cap: say so in one line and exit non-zero, so a script does not take it for a finished run.
    if (outcome.stopReason) throw new CliError(`run ${outcome.runId}: ${outcome.stopReason} (then: tapedeck replay --resume ${outcome.runId} --run-usd <more>)`, 3);
    // A run whose forecasts all failed is not a result: say why and exit non-zero (`tapedeck show <run>` has the details).
    const verdict = runVerdict(outcome, args.maxAbstainRate);
    if (verdict !== null) throw new CliError(`${verdict}; see \`tapedeck show ${outcome.runId}\``, UNUSABLE_RUN_EXIT);
  },
};

export async function replayFromArgs(args: ReplayArgs): Promise<ReplayOutcome> {
  const db = await DuckDbStore.open(args.db);
  const bar = replayProgressBar(args.progress && !args.json);
  try {
    if (args.resume !== undefined) args = { ...args, resume: await runIdArg(db, args.resume) };
    const { config, datasetDir } = args.resume
      ? await loadRunForResume(db, args.resume)
      : { config: loadRunConfig(args.config!), datasetDir: args.dataset! };
    return await runReplay({
      config,
      datasetDir,
      db,
      ...(args.resume ? { resumeRunId: args.resume } : {}),
      ...(args.label ? { label: args.label } : {}),
      checkpointEvery: args.checkpointEvery,
      ...(args.runUsd !== undefined ? { runUsd: args.runUsd } : {}),
      ...(args.cache !== undefined ? { cacheMode: args.cache } : {}),
      onProgress: (p) => bar.update(p),
      ...(args.verbose
        ? {
            onStart: (runId: string) => process.stderr.write(`run ${runId}\n`),
            onCheckpoint: (ev: number) => process.stderr.write(`checkpoint ${ev}\n`),
          }
        : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DatasetError || error instanceof ManifestError) throw new CliError(error.message, 2);
    throw error;
  } finally {
    bar.stop();
    db.close();
  }
}

/** The outcome with its forecast counts and the share of forecasts its Brier and skill are measured on (for --json). */
export function withCounts(o: ReplayOutcome): ReplayOutcome & { counts: ReturnType<typeof runCounts> & { scoredShare: number | null; providerRequests: number; cacheHits: number } } {
  const c = runCounts(o);
  const get = (metric: string) => metricValue(o.metrics, "*", metric) ?? 0;
  return {
    ...o,
    counts: { ...c, scoredShare: c.forecasts > 0 ? c.scored / c.forecasts : null, providerRequests: get("provider_calls"), cacheHits: get("cache_exact_hits") + get("cache_semantic_hits") },
  };
}

export function formatReplaySummary(o: ReplayOutcome, dbPath: string): string {
  const models = [...new Set(o.metrics.map((m) => m.model))].sort((a, b) => (a === "*" ? 1 : b === "*" ? -1 : a.localeCompare(b)));
  const get = (model: string, metric: string) => metricValue(o.metrics, model, metric);
  // Brier and skill are measured on the scored forecasts only: the share says how much of the run that is.
  const share = (m: string) => {
    const n = get(m, "forecasts");
    const scored = get(m, "scored");
    return n && scored !== null ? `${((100 * scored) / n).toFixed(1)}%` : null;
  };
  const perModel = formatTable(
    ["model", "forecasts", "abstained", "scored", "scored share", "brier", "log loss", "skill vs mkt", "ECE", "accuracy"],
    models
      .filter((m) => m !== "*")
      .map((m) => [m, get(m, "forecasts"), get(m, "abstentions"), get(m, "scored"), share(m), get(m, "brier"), get(m, "log_loss"), get(m, "brier_skill"), get(m, "ece"), get(m, "accuracy")]),
  );
  const counts = runCounts(o);
  const abstained = o.abstentions.length > 0 ? `abstentions: ${counts.abstained} of ${counts.forecasts} forecasts (${o.abstentions.map((a) => `${a.reason} ${a.n}`).join(", ")})` : "abstentions: none";
  const calls = `model calls: ${get("*", "provider_calls") ?? 0} provider requests, ${(get("*", "cache_exact_hits") ?? 0) + (get("*", "cache_semantic_hits") ?? 0)} cache hits (${get("*", "cache_exact_hits") ?? 0} exact, ${get("*", "cache_semantic_hits") ?? 0} semantic)`;
  const money = formatTable(
    ["signals", "trades", "fees $", "P&L $", "ROI", "Sharpe (daily)", "max DD $", "AI $", "net $"],
    [["signals", "trades", "fees_usd", "pnl_usd", "roi", "sharpe_daily", "max_drawdown_usd", "ai_spend_usd", "net_pnl_usd"].map((k) => get("*", k))],
  );
  return [
    `run ${o.runId} ${o.status} on ${o.datasetName}: ${o.events.toLocaleString("en-US")} events in ${(o.wallMs / 1000).toFixed(2)} s (${Math.round(o.eventsPerSecond).toLocaleString("en-US")} ev/s), fill model ${o.fillModel}`,
    "",
    perModel,
    abstained,
    calls,
    "",
    money,
    "",
    `digest ${o.digest ?? "-"}`,
    `results in ${dbPath}`,
  ].join("\n");
}
