/**
 * The coordinator of a distributed sweep (the `sweep --queue` process, or
 * `sweep --attach <id>` started later): watches the sweep's jobs, reports
 * progress per worker and overall, and merges each finished run's shard into
 * the results DB exactly once (shardMerge.ts), one at a time. It holds no
 * state of its own: the queue and the merged_shards ledger say what is done,
 * so killing it and attaching again loses nothing and merges nothing twice.
 */
import { Queue, type Job } from "bullmq";
import type { Db } from "../db/duckdb.ts";
import { connectionFor, openRedis, SWEEP_QUEUE } from "./redisConnection.ts";
import { isMerged, mergeShard, type MergeHooks } from "./shardMerge.ts";
import { fanoutIdOfLeaderJob, parseJob, replayJobResult, type ReplayJobResult } from "./sweepJobs.ts";
import { loadManifest, type SweepManifest } from "./sweepManifest.ts";

export interface WorkerProgress {
  /** Events replayed by the runs this worker has in progress, and their total. */
  events: number;
  total: number;
  running: string[];
  /** Runs it finished. */
  finished: number;
}

export interface SweepProgress {
  workers: ReadonlyMap<string, WorkerProgress>;
  /** Events over every run of the sweep (finished runs count whole). */
  events: number;
  total: number;
  merged: number;
  runs: number;
}

export interface MergedRun {
  index: number;
  label: string;
  role: "leader" | "variant";
  jobId: string;
  result: ReplayJobResult;
  /** Rows this coordinator merged for it (0: an earlier coordinator did). */
  rows: number;
  mergeMs: number;
}

export interface CoordinateOptions {
  url: string;
  sweepId: string;
  db: Db;
  pollMs?: number;
  onProgress?: (progress: SweepProgress) => void;
  onMerged?: (run: MergedRun) => void;
  mergeHooks?: MergeHooks;
}

export interface CoordinatedSweep {
  manifest: SweepManifest;
  runs: MergedRun[];
  wallMs: number;
}

const progressShape = (value: unknown): { worker: string; events: number; total: number | null } | null => {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  return typeof v["worker"] === "string" && typeof v["events"] === "number" ? { worker: v["worker"], events: v["events"], total: typeof v["total"] === "number" ? v["total"] : null } : null;
};

export async function coordinateSweep(options: CoordinateOptions): Promise<CoordinatedSweep> {
  const started = performance.now();
  const redis = await openRedis(options.url);
  let manifest: SweepManifest;
  try {
    manifest = await loadManifest(redis, options.sweepId);
  } finally {
    await redis.quit();
  }
  const queue = new Queue(SWEEP_QUEUE, { connection: connectionFor(options.url) });
  const perRun = manifest.eventsPerRun ?? 0;
  const done = new Map<string, MergedRun>();
  const finishedBy = new Map<string, number>();
  try {
    for (;;) {
      const workers = new Map<string, WorkerProgress>();
      let events = 0;
      for (const run of manifest.runs) {
        const merged = done.get(run.jobId);
        if (merged) {
          events += merged.result.events;
          continue;
        }
        const job: Job | undefined = await queue.getJob(run.jobId);
        if (!job) {
          // A variant not enqueued yet: its group's fan-out job enqueues it once the leader completed.
          if (run.leaderJobId) {
            const fanout = await queue.getJob(fanoutIdOfLeaderJob(manifest.sweepId, run.leaderJobId));
            if (fanout && (await fanout.getState()) === "failed") throw new Error(`sweep ${manifest.sweepId}: ${run.label || "base"} cannot start: ${fanout.failedReason}`);
          }
          continue;
        }
        const state = await job.getState();
        if (state === "completed") {
          // The job was read before getState: one that completed in between carries no return value yet, so read it again.
          const returned = job.returnvalue ?? (await queue.getJob(run.jobId))?.returnvalue;
          const result = parseJob(replayJobResult, returned, `job ${run.jobId} result`);
          const shard = { shardId: run.jobId, sweepId: manifest.sweepId, runId: result.runId, path: result.shard };
          const outcome = (await isMerged(options.db, run.jobId)) ? { rows: 0, ms: 0 } : await mergeShard(options.db, shard, options.mergeHooks);
          const entry: MergedRun = { index: run.index, label: run.label, role: run.role, jobId: run.jobId, result, rows: outcome.rows, mergeMs: outcome.ms };
          done.set(run.jobId, entry);
          finishedBy.set(result.worker, (finishedBy.get(result.worker) ?? 0) + 1);
          options.onMerged?.(entry);
          events += result.events;
        } else if (state === "failed") {
          throw new Error(`sweep ${manifest.sweepId}: run ${run.label || "base"} (job ${run.jobId}) failed after ${job.attemptsMade} attempts: ${job.failedReason}`);
        } else if (state === "active") {
          const p = progressShape(job.progress);
          if (p) {
            const w = workers.get(p.worker) ?? { events: 0, total: 0, running: [], finished: 0 };
            w.events += p.events;
            w.total += p.total ?? perRun;
            w.running.push(run.label || "base");
            workers.set(p.worker, w);
            events += p.events;
          }
        }
      }
      for (const [name, n] of finishedBy) {
        const w = workers.get(name) ?? { events: 0, total: 0, running: [], finished: 0 };
        w.finished = n;
        workers.set(name, w);
      }
      options.onProgress?.({ workers, events, total: perRun * manifest.runs.length, merged: done.size, runs: manifest.runs.length });
      if (done.size === manifest.runs.length) break;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  } finally {
    await queue.close();
  }
  const runs = [...done.values()].sort((a, b) => a.index - b.index);
  return { manifest, runs, wallMs: performance.now() - started };
}
