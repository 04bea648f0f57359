/**
 * `sweep --queue`: enqueue (unless attaching), then coordinate until every
 * run is merged, with one progress bar per worker and one overall on a
 * terminal, a line per merged run otherwise. What the sweep command prints
 * comes back as rows, with each run's metrics read from the results DB.
 */
import cliProgress from "cli-progress";
import type { Db } from "../db/duckdb.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import type { MetricRow } from "../store/resultsStore.ts";
import type { Variant } from "../replay/sweepPlan.ts";
import { coordinateSweep, type CoordinatedSweep, type SweepProgress } from "./coordinator.ts";
import { enqueueSweep } from "./enqueueSweep.ts";
import { openRedis } from "./redisConnection.ts";
import type { MergeHooks } from "./shardMerge.ts";

export interface QueuedSweepOptions {
  url: string;
  db: Db;
  /** A new sweep to enqueue; absent when attaching to `sweepId`. */
  plan?: { variants: readonly Variant[]; datasetDir: string; eventsPerRun: number | null; checkpointEvery: number; sweepUsd?: number; cacheMode?: CacheMode };
  sweepId: string;
  /** Enqueue and return without waiting (attach later). */
  detach?: boolean;
  /** Progress bars on this terminal; lines per merged run when false and not quiet. */
  bars: boolean;
  quiet: boolean;
  mergeHooks?: MergeHooks;
}

export interface QueuedSweepResult {
  sweepId: string;
  added: number;
  coordinated: CoordinatedSweep | null;
  metrics: Map<string, MetricRow[]>;
}

export async function runQueuedSweep(options: QueuedSweepOptions): Promise<QueuedSweepResult> {
  let added = 0;
  let retried = 0;
  if (options.plan) {
    const redis = await openRedis(options.url);
    try {
      ({ added, retried } = await enqueueSweep({ url: options.url, redis, sweepId: options.sweepId, ...options.plan }));
    } finally {
      await redis.quit();
    }
    if (!options.quiet) process.stderr.write(`sweep ${options.sweepId}: ${options.plan.variants.length} runs on the queue (${added} job trees added now${retried > 0 ? `, ${retried} failed jobs put back` : ""})\n`);
  }
  if (options.detach) return { sweepId: options.sweepId, added, coordinated: null, metrics: new Map() };

  const bars = options.bars ? new cliProgress.MultiBar({ stream: process.stderr, format: "{name} [{bar}] {value}/{total} events | {info}", hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic) : null;
  const overall = bars?.create(1, 0, { name: "overall".padEnd(24), info: "" });
  const perWorker = new Map<string, cliProgress.SingleBar>();
  const show = (p: SweepProgress) => {
    if (!bars || !overall) return;
    overall.setTotal(Math.max(1, p.total));
    overall.update(p.events, { info: `${p.merged}/${p.runs} runs merged` });
    for (const [name, w] of p.workers) {
      let bar = perWorker.get(name);
      if (!bar) perWorker.set(name, (bar = bars.create(1, 0, { name: name.slice(0, 24).padEnd(24), info: "" })));
      bar.setTotal(Math.max(1, w.total));
      bar.update(w.events, { info: `${w.finished} done${w.running.length ? `; running ${w.running.join(", ")}` : ""}` });
    }
  };
  let coordinated: CoordinatedSweep;
  try {
    coordinated = await coordinateSweep({
      url: options.url,
      sweepId: options.sweepId,
      db: options.db,
      onProgress: show,
      onMerged: (run) => {
        if (!bars && !options.quiet) {
          process.stderr.write(
            `merged ${run.label || "base"} (run ${run.result.runId}, ${run.rows} rows${run.rows > 0 ? ` in ${run.mergeMs.toFixed(0)} ms` : ", merged earlier"}; by ${run.result.worker}${run.result.resumed ? ", resumed" : ""})\n`,
          );
        }
      },
      ...(options.mergeHooks ? { mergeHooks: options.mergeHooks } : {}),
    });
  } finally {
    bars?.stop();
  }
  const metrics = new Map<string, MetricRow[]>();
  for (const run of coordinated.runs) {
    const reader = await options.db.connection.runAndReadAll(`SELECT model, metric, value, lo, hi FROM metrics WHERE run_id = $1`, [run.result.runId]);
    metrics.set(run.result.runId, reader.getRowObjectsJS() as unknown as MetricRow[]);
  }
  return { sweepId: options.sweepId, added, coordinated, metrics };
}
