/**
 * `sweep --queue`: the plan as BullMQ jobs. One replay job per variant; per
 * forecasting group a flow whose child is the leader and whose parent is a
 * fan-out job (BullMQ runs a parent only once its children completed), which
 * then enqueues the group's decision-only variants. Job ids are derived
 * (sweepJobs.ts), finished jobs are kept, so resubmitting the same sweep adds
 * nothing that is there: a finished variant never runs twice.
 */
import { FlowProducer, Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { CacheMode } from "../cache/cacheMode.ts";
import { groupByForecasts, type Variant } from "../replay/sweepPlan.ts";
import { connectionFor, SWEEP_QUEUE } from "./redisConnection.ts";
import { fanoutJobId, replayJobId, type FanoutJobData, type ReplayJobData } from "./sweepJobs.ts";
import { saveManifest, type SweepManifest } from "./sweepManifest.ts";

/** Kept when finished (the dedup of resubmissions), retried on errors; a dead worker's job comes back through stalled-job detection. */
export const replayJobOptions: JobsOptions = { attempts: 3, backoff: { type: "exponential", delay: 1_000 }, removeOnComplete: false, removeOnFail: false };

export interface EnqueueOptions {
  url: string;
  redis: Redis;
  sweepId: string;
  variants: readonly Variant[];
  datasetDir: string;
  eventsPerRun: number | null;
  checkpointEvery: number;
  /** A sweep-wide cap on real money, dollars (sweepBudget.ts). */
  sweepUsd?: number;
  /** `--cache`: how the leaders use the response cache (default on). */
  cacheMode?: CacheMode;
}

export interface Enqueued {
  manifest: SweepManifest;
  /** Replay jobs (leaders and groups) added now; 0 when the sweep was all there already. */
  added: number;
  /** Jobs of the sweep that had failed (attempts exhausted) and were put back to run again. */
  retried: number;
}

export async function enqueueSweep(options: EnqueueOptions): Promise<Enqueued> {
  const { sweepId } = options;
  const groups = groupByForecasts(options.variants);
  const data = (v: Variant, role: ReplayJobData["role"], exportForecasts: boolean): ReplayJobData => ({
    kind: "replay",
    sweepId,
    index: v.index,
    label: v.label,
    role,
    config: JSON.parse(JSON.stringify(v.config)) as Record<string, unknown>,
    datasetDir: options.datasetDir,
    checkpointEvery: options.checkpointEvery,
    exportForecasts,
    sweepNusd: options.sweepUsd !== undefined ? Math.round(options.sweepUsd * 1e9) : null,
    cacheMode: options.cacheMode ?? "on",
  });
  const ids = new Map<string, Variant>();
  for (const v of options.variants) {
    const id = replayJobId(sweepId, v.config);
    const other = ids.get(id);
    if (other) throw new Error(`sweep: variants ${other.index + 1} and ${v.index + 1} have the same config (${other.label || "base"}); list each value once`);
    ids.set(id, v);
  }
  const manifest = await saveManifest(options.redis, {
    sweepId,
    datasetDir: options.datasetDir,
    eventsPerRun: options.eventsPerRun,
    createdAt: new Date().toISOString(),
    runs: groups
      .flatMap((group) => group.map((v, i) => ({ v, leader: group[0]!, role: i === 0 ? ("leader" as const) : ("variant" as const) })))
      .sort((a, b) => a.v.index - b.v.index)
      .map(({ v, leader, role }) => ({
        index: v.index,
        label: v.label,
        role,
        jobId: replayJobId(sweepId, v.config),
        leaderJobId: role === "variant" ? replayJobId(sweepId, leader.config) : null,
      })),
  });

  const planned = new Set(ids.keys());
  if (manifest.runs.length !== planned.size || manifest.runs.some((r) => !planned.has(r.jobId))) {
    throw new Error(`sweep id ${sweepId} already names another sweep on this queue (other configs or dataset); choose another --sweep-id`);
  }
  const connection = connectionFor(options.url);
  const queue = new Queue(SWEEP_QUEUE, { connection });
  const flows = new FlowProducer({ connection });
  let added = 0;
  let retried = 0;
  try {
    for (const group of groups) {
      const leader = group[0]!;
      const leaderId = replayJobId(sweepId, leader.config);
      if (group.length === 1) {
        if (await queue.getJob(leaderId)) continue;
        await queue.add("replay", data(leader, "leader", false), { ...replayJobOptions, jobId: leaderId });
        added += 1;
        continue;
      }
      const fanoutId = fanoutJobId(sweepId, leader.config);
      // A flow is added whole or not at all; one that is there already (a resubmission) is left as it is.
      if (await queue.getJob(fanoutId)) continue;
      const fanout: FanoutJobData = {
        kind: "fanout",
        sweepId,
        leaderJobId: leaderId,
        variants: group.slice(1).map((v) => ({ jobId: replayJobId(sweepId, v.config), data: data(v, "variant", false) })),
      };
      await flows.add({
        name: "fanout",
        queueName: SWEEP_QUEUE,
        data: fanout,
        opts: { ...replayJobOptions, jobId: fanoutId },
        children: [{ name: "replay", queueName: SWEEP_QUEUE, data: data(leader, "leader", true), opts: { ...replayJobOptions, jobId: leaderId } }],
      });
      added += 1;
    }
    // Failed jobs are kept (removeOnFail: false), so an id that is there may name a job that gave up: resubmitting
    // after fixing its cause (an outage, a missing key) runs it again from its shard. Leaders first: a fan-out job
    // waits for its leader, and a variant's job exists only once its fan-out ran.
    for (const group of groups) {
      const ids = [replayJobId(sweepId, group[0]!.config), ...(group.length > 1 ? [fanoutJobId(sweepId, group[0]!.config)] : []), ...group.slice(1).map((v) => replayJobId(sweepId, v.config))];
      for (const id of ids) {
        const job = await queue.getJob(id);
        if (job && (await job.getState()) === "failed") {
          await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
          retried += 1;
        }
      }
    }
  } finally {
    await flows.close();
    await queue.close();
  }
  return { manifest, added, retried };
}
