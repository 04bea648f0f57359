/**
 * `tapedeck sweep -c <config> -d <dataset> --vary key=a,b,c …`: a grid of runs, models asked once per forecast.
 * With `--queue redis://…` the runs become BullMQ jobs for `tapedeck worker` processes (harness/queue/).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
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
import { runQueuedSweep, type QueuedSweepOptions } from "../queue/queuedSweep.ts";
import { SWEEP_ID, sweepIdFor } from "../queue/sweepJobs.ts";
import type { MergeHooks } from "../queue/shardMerge.ts";

/**
 * Fault injection for the exactly-once merge test: TAPEDECK_FAULT_MERGE_STALL_AFTER=n stalls each merge
 * (inside its transaction) after n tables and says so on stderr, for the test to kill -9 the process there.
 */
function faultHooks(): MergeHooks | undefined {
  const n = Number(process.env["TAPEDECK_FAULT_MERGE_STALL_AFTER"] ?? "");
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return {
    afterTable: async (table, done) => {
      if (done !== n) return;
      process.stderr.write(`merge stalled after ${table}\n`);
      await new Promise(() => {});
    },
  };
}

async function queuedSweep(args: SweepArgs, url: string, sweepId: string, plan: QueuedSweepOptions["plan"]): Promise<void> {
  const db = await DuckDbStore.open(args.db);
  let out;
  try {
    const hooks = faultHooks();
    out = await runQueuedSweep({
      url,
      db,
      sweepId,
      ...(plan ? { plan } : {}),
      detach: args.detach,
      bars: args.progress && !args.json && process.stderr.isTTY,
      quiet: args.json,
      ...(hooks ? { mergeHooks: hooks } : {}),
    });
  } catch (error) {
    throw new CliError(`sweep: ${(error as Error).message}`, 1);
  } finally {
    db.close();
  }
  const runs = out.coordinated?.runs ?? [];
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ sweepId: out.sweepId, added: out.added, wallMs: out.coordinated?.wallMs ?? null, runs: runs.map((r) => ({ index: r.index, label: r.label, role: r.role, jobId: r.jobId, mergedRows: r.rows, mergeMs: r.mergeMs, ...r.result })) }, null, 2)}\n`,
    );
    return;
  }
  if (!out.coordinated) {
    process.stdout.write(`sweep ${out.sweepId} enqueued; follow it with: tapedeck sweep --attach ${out.sweepId} --queue <url>\n`);
    return;
  }
  const rows = runs.map((r) => {
    const m = out.metrics.get(r.result.runId) ?? [];
    return [r.label || "base", r.result.runId, r.role === "leader" ? "called" : "reused", r.result.worker, metricValue(m, "*", "forecasts"), metricValue(m, "*", "trades"), metricValue(m, "*", "pnl_usd"), metricValue(m, "*", "ai_spend_usd")];
  });
  process.stdout.write(
    `${formatTable(["variant", "run", "forecasts by", "worker", "forecasts", "trades", "P&L $", "AI $"], rows)}\n\n` +
      `sweep ${out.sweepId}: ${runs.length} runs in ${(out.coordinated.wallMs / 1000).toFixed(1)} s; results in ${args.db}\n`,
  );
}

interface SweepArgs {
  config?: string;
  dataset?: string;
  vary?: string[];
  queue?: string;
  attach?: string;
  sweepId?: string;
  detach: boolean;
  checkpointEvery: number;
  sweepUsd?: number;
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
      .option("config", { alias: "c", type: "string", describe: "Base run config (not with --attach)" })
      .option("dataset", { alias: "d", type: "string", describe: "Dataset folder (not with --attach)" })
      .option("vary", { type: "string", array: true, describe: "key=v1,v2,… with a dotted key into the config (repeat for a grid)" })
      .option("concurrency", { type: "number", describe: "Runs at once (default: the number of cores); in-process sweeps only" })
      .option("queue", { type: "string", describe: "redis://host:port: run the variants as BullMQ jobs for `tapedeck worker` processes, merge their result shards here" })
      .option("attach", { type: "string", describe: "With --queue: coordinate (progress, merges) an enqueued sweep by its id, e.g. after its sweep process was closed" })
      .option("sweep-id", { type: "string", describe: "With --queue: name the sweep (default: derived from the configs and the dataset, so resubmitting is a no-op for finished runs)" })
      .option("detach", { type: "boolean", default: false, describe: "With --queue: enqueue and exit; `--attach <id>` merges later" })
      .option("sweep-usd", { type: "number", describe: "With --queue: real money the whole sweep may spend on model calls, across all workers (a Redis counter); runs stop resumably once it is reached" })
      .option("checkpoint-every", { type: "number", default: 250_000, describe: "With --queue: events between checkpoints of each run's shard (a killed job resumes from the last)" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print the variants as JSON (for scripts); no progress bar" })
      .option("progress", { type: "boolean", default: true, describe: "Show a progress bar on a terminal" })
      .options(cacheModeOption)
      .example("$0 sweep -c strategies/configs/momentum.json -d datasets/sample --vary risk.kellyFraction=0.1,0.25 --vary risk.minEdge=0.01,0.03", "4 sizing variants, one set of forecasts")
      .example("$0 sweep -c cfg.json -d datasets/sample --vary risk.minEdge=0.01,0.03 --queue redis://127.0.0.1:6379", "the same on `tapedeck worker` processes")
      .example("$0 sweep --attach sw-0123456789ab --queue redis://127.0.0.1:6379", "progress and merges of a sweep already enqueued") as never,
  handler: async (args) => {
    if (args.attach !== undefined) {
      if (args.queue === undefined) throw new CliError("sweep: --attach needs --queue redis://…", 2);
      if (args.config !== undefined || args.vary !== undefined) throw new CliError("sweep: --attach takes the sweep as enqueued; leave out --config and --vary", 2);
      return queuedSweep(args, args.queue, args.attach, undefined);
    }
    if (args.config === undefined || args.dataset === undefined || args.vary === undefined) throw new CliError("sweep: --config, --dataset and --vary are required (or --attach with --queue)", 2);
    let plan;
    try {
      const base = JSON.parse(readFileSync(args.config, "utf8")) as Record<string, unknown>;
      const varies: Vary[] = args.vary.map(parseVary);
      plan = planSweep(base, varies);
    } catch (error) {
      throw new CliError(`sweep: ${(error as Error).message}`, 2);
    }
    const dataset = args.dataset;
    const described = await ReplaySource.open(dataset).then((s) => s.describe()).catch((error: Error) => {
      throw new CliError(error.message, 2);
    });
    if (args.sweepUsd !== undefined && (args.queue === undefined || !(args.sweepUsd > 0))) throw new CliError("sweep: --sweep-usd needs --queue and a positive amount (in-process sweeps share one router budget: budget.runUsd)", 2);
    if (args.queue !== undefined) {
      const sweepId = args.sweepId ?? sweepIdFor(plan, described.hash, args.cache);
      if (!SWEEP_ID.test(sweepId)) throw new CliError(`sweep: --sweep-id ${sweepId}: letters, digits, '_', '.', '-' only (up to 64)`, 2);
      return queuedSweep(args, args.queue, sweepId, { variants: plan, datasetDir: resolve(dataset), eventsPerRun: described.events ?? null, checkpointEvery: args.checkpointEvery, cacheMode: args.cache, ...(args.sweepUsd !== undefined ? { sweepUsd: args.sweepUsd } : {}) });
    }
    const db = await DuckDbStore.open(args.db);
    const bar = args.progress && !args.json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: `sweep [{bar}] {percentage}% | {value}/{total} events over ${plan.length} variants | ETA {eta_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    bar?.start((described.events ?? 0) * plan.length, 0);
    let outcome;
    try {
      outcome = await runSweep({
        variants: plan,
        datasetDir: dataset,
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
