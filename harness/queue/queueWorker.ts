/**
 * `tapedeck worker`: a BullMQ worker on the sweep queue. Each replay job runs
 * in a worker thread (shardRun.ts, replayThreads.ts), so this thread only moves
 * messages and renews job locks: a busy replay never loses its lock. A
 * worker that dies (kill -9) stops renewing; once its lock expires another
 * worker's stalled-job check puts the job back and the next attempt resumes
 * from the shard the dead one left. Fan-out jobs run here: they only enqueue
 * the decision-only variants once their leader completed.
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { connectionFor, SWEEP_QUEUE } from "./redisConnection.ts";
import { ReplayThreads } from "./replayThreads.ts";
import { fanoutJobData, parseJob, replayJobData, replayJobResult, type ReplayJobResult } from "./sweepJobs.ts";
import { replayJobOptions } from "./enqueueSweep.ts";

export interface QueueWorkerOptions {
  url: string;
  /** Jobs at once in this worker (each replay in its own thread). */
  concurrency: number;
  /** The results folder shards are written to (shared by every worker and the coordinator). */
  resultsDir: string;
  /** Shown in progress and results; default host:pid. */
  name?: string;
  /** How long a job lock lives without renewal (ms); a dead worker's job is taken back after about this. */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (ms). */
  stalledMs?: number;
  onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: "started"; jobId: string; label: string; role: string }
  | { type: "completed"; jobId: string; label: string; result: ReplayJobResult }
  | { type: "fanout"; jobId: string; added: number }
  | { type: "failed"; jobId: string; message: string };

export interface QueueWorker {
  readonly name: string;
  /** Finishes the jobs in progress, then disconnects. */
  close(): Promise<void>;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const connection = connectionFor(options.url);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const resultsDir = resolve(options.resultsDir);
  const queue = new Queue(SWEEP_QUEUE, { connection });
  const emit = (event: WorkerEvent) => options.onEvent?.(event);
  const threads = new ReplayThreads();

  const processor = async (job: Job): Promise<unknown> => {
    const id = job.id ?? "?";
    if (job.name === "fanout") {
      const data = parseJob(fanoutJobData, job.data, `job ${id}`);
      const values = await job.getChildrenValues<unknown>();
      const leaderValue = Object.entries(values).find(([key]) => key.endsWith(`:${data.leaderJobId}`))?.[1];
      const leader = parseJob(replayJobResult, leaderValue, `job ${id}: its leader ${data.leaderJobId}'s result`);
      // A leader that stopped (its cap) gives its variants nothing to re-decide: no retry can change that.
      if (!leader.forecastsParquet) throw new UnrecoverableError(`job ${id}: leader ${data.leaderJobId} exported no forecasts (run ${leader.status}${leader.stopReason ? `: ${leader.stopReason}` : ""})`);
      const forecasts = { runId: leader.runId, forecastsParquet: leader.forecastsParquet };
      // Derived ids: adding again after a crash of this job adds nothing twice.
      await queue.addBulk(data.variants.map((v) => ({ name: "replay", data: { ...v.data, leader: forecasts }, opts: { ...replayJobOptions, jobId: v.jobId } })));
      emit({ type: "fanout", jobId: id, added: data.variants.length });
      return { added: data.variants.length };
    }
    const data = parseJob(replayJobData, job.data, `job ${id}`);
    const label = data.label || "base";
    emit({ type: "started", jobId: id, label, role: data.role });
    const dir = join(resultsDir, data.sweepId);
    mkdirSync(dir, { recursive: true });
    const result = await threads.run({ job: data, shard: join(dir, `${id}.duckdb`), queueUrl: options.url, worker: name }, (events, total) => {
      job.updateProgress({ worker: name, events, total }).catch(() => undefined);
    });
    emit({ type: "completed", jobId: id, label, result });
    return result;
  };

  const worker = new Worker(SWEEP_QUEUE, processor, {
    connection,
    concurrency: options.concurrency,
    name,
    ...(options.lockMs !== undefined ? { lockDuration: options.lockMs } : {}),
    ...(options.stalledMs !== undefined ? { stalledInterval: options.stalledMs } : {}),
    // A job whose worker died is taken back this many times before it fails.
    maxStalledCount: 3,
  });
  worker.on("failed", (job, error) => emit({ type: "failed", jobId: job?.id ?? "?", message: error.message }));
  worker.on("error", () => {}); // connection hiccups are retried by ioredis; job errors come through "failed"
  await worker.waitUntilReady();
  return {
    name,
    async close() {
      await worker.close();
      await queue.close();
      await threads.close();
    },
  };
}

