/**
 * One queued replay, in a worker thread of `tapedeck worker` (so the
 * worker's main thread stays free to renew the job's lock however busy the
 * replay keeps this one; threads are kept between jobs, replayThreads.ts). The run writes into its result shard: a DuckDB file
 * of its own in the results folder, named after the job. What is in the
 * shard when the job starts decides what happens:
 * - nothing (or a run row never written): a fresh run;
 * - an unfinished leader run (an earlier attempt was killed): resumed from
 *   its checkpoint, its paid calls answered from the shard's call journal and
 *   from the shared cache, none paid again (runReplay.ts);
 * - an unfinished variant run: started over (it re-decides stored forecasts
 *   and pays nothing);
 * - a completed run (the attempt died before it could report): reported as is.
 * Leaders with dependent variants then export their forecasts as Parquet
 * beside the shard (written to a temporary name, then renamed).
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { sqlString, type Db } from "../db/duckdb.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { runReplay, type ReplayOutcome } from "../replay/runReplay.ts";
import type { ReplayJobData, ReplayJobResult } from "./sweepJobs.ts";
import { workerCache } from "./workerCache.ts";
import { SweepBudget } from "./sweepBudget.ts";

export interface ShardRunInput {
  job: ReplayJobData;
  shard: string;
  queueUrl: string;
  worker: string;
}

export type ShardRunMessage =
  | { type: "progress"; events: number; total: number | null }
  | { type: "done"; result: ReplayJobResult }
  | { type: "failed"; message: string };

interface ShardRow {
  run_id: string;
  status: string;
  digest: string | null;
  events: number;
  wall_ms: number;
}

async function shardRuns(db: Db): Promise<ShardRow[]> {
  const reader = await db.connection.runAndReadAll(`SELECT run_id, status, digest, coalesce(events, 0)::DOUBLE AS events, coalesce(wall_ms, 0)::DOUBLE AS wall_ms FROM runs`);
  return reader.getRowObjectsJS() as unknown as ShardRow[];
}

function removeShard(shard: string): void {
  for (const f of [shard, `${shard}.wal`]) rmSync(f, { force: true });
}

export async function runShard(input: ShardRunInput, onProgress: (events: number, total: number | null) => void): Promise<ReplayJobResult> {
  const { job, shard } = input;
  const config = parseRunConfig(job.config, `job ${job.sweepId} variant ${job.index} (${job.label || "base"})`);
  let db = await DuckDbStore.open(shard);
  let runs = await shardRuns(db);
  if (runs.length > 1) throw new Error(`shard ${shard}: holds ${runs.length} runs; a shard holds one`);
  let prior = runs[0];
  if (prior && prior.status !== "completed" && job.role === "variant") {
    db.close();
    removeShard(shard);
    db = await DuckDbStore.open(shard);
    runs = [];
    prior = undefined;
  }
  try {
    let outcome: Pick<ReplayOutcome, "runId" | "digest" | "status" | "events" | "wallMs" | "stopReason">;
    const resumed = prior !== undefined;
    if (prior?.status === "completed") {
      outcome = { runId: prior.run_id, digest: prior.digest, status: "completed", events: prior.events, wallMs: prior.wall_ms };
    } else {
      const { cache, redisUrl, mode } = workerCache(config, job.sweepId, input.queueUrl, process.env, job.cacheMode);
      const label = `${job.sweepId}:${job.label || "base"}`;
      const progress = (p: { events: number; totalEvents: number | null }) => onProgress(p.events, p.totalEvents);
      if (job.role === "variant") {
        if (!job.leader) throw new Error(`job ${job.sweepId} variant ${job.index}: no leader forecasts given`);
        // An attempt that failed before its run row was written left the borrowed forecasts here: borrow them once.
        await db.connection.run(`DELETE FROM forecasts WHERE run_id = $1`, [job.leader.runId]);
        await db.connection.run(`INSERT INTO forecasts SELECT * FROM read_parquet(${sqlString(job.leader.forecastsParquet)})`);
        outcome = await runReplay({ config, datasetDir: job.datasetDir, db, kind: "sweep", label, parentRunId: job.leader.runId, redecideFrom: job.leader.runId, onProgress: progress });
        // The leader's forecasts were only borrowed: they reach the results DB with the leader's shard.
        await db.connection.run(`DELETE FROM forecasts WHERE run_id = $1`, [job.leader.runId]);
      } else {
        // Other workers' spend reaches this run through the counter: read it a few times a second.
        const budget = job.sweepNusd ? await SweepBudget.open(input.queueUrl, job.sweepId, job.sweepNusd) : null;
        const refresh = budget ? setInterval(() => void budget.refresh().catch(() => undefined), 250) : null;
        try {
          outcome = await runReplay({
            config,
            datasetDir: job.datasetDir,
            db,
            kind: "sweep",
            label,
            ...(prior ? { resumeRunId: prior.run_id } : {}),
            checkpointEvery: job.checkpointEvery,
            cache,
            cacheMode: mode,
            env: { ...process.env, TAPEDECK_REDIS_URL: redisUrl },
            onProgress: progress,
            ...(budget ? { spendGuard: budget } : {}),
          });
        } finally {
          if (refresh) clearInterval(refresh);
          await budget?.close();
        }
      }
    }
    let forecastsParquet: string | null = null;
    if (job.exportForecasts && outcome.status === "completed") {
      forecastsParquet = `${shard}.forecasts.parquet`;
      if (!existsSync(forecastsParquet)) {
        const partial = `${forecastsParquet}.partial`;
        await db.connection.run(`COPY (SELECT * FROM forecasts WHERE run_id = ${sqlString(outcome.runId)} ORDER BY seq) TO ${sqlString(partial)} (FORMAT parquet)`);
        renameSync(partial, forecastsParquet);
      }
    }
    return {
      runId: outcome.runId,
      digest: outcome.digest,
      status: outcome.status,
      events: outcome.events,
      wallMs: outcome.wallMs,
      shard,
      forecastsParquet,
      worker: input.worker,
      resumed,
      stopReason: outcome.stopReason ?? null,
    };
  } finally {
    db.close();
  }
}

/** Thread entry (replayThreads.ts): runs one job per "run" message, one at a time, for as long as the thread lives. */
if (parentPort && (workerData as { replayThread?: unknown } | null)?.replayThread === true) {
  const port = parentPort;
  port.on("message", (input: ShardRunInput) => {
    let last = 0;
    runShard(input, (events, total) => {
      const now = performance.now();
      if (now - last < 200) return; // progress is for people: a few updates a second
      last = now;
      port.postMessage({ type: "progress", events, total } satisfies ShardRunMessage);
    }).then(
      (result) => port.postMessage({ type: "done", result } satisfies ShardRunMessage),
      (error: unknown) => port.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) } satisfies ShardRunMessage),
    );
  });
}
