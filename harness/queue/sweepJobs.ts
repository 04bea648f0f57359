/**
 * What travels through the queue: the data of each job, its result, and its
 * id. Ids are derived, never random: a sweep id from the plan and the
 * dataset, a replay job id from the sweep id and the variant's config hash,
 * so resubmitting a sweep names the same jobs and BullMQ (which keeps
 * finished jobs) never runs a finished one again. Everything read back from
 * Redis is checked with zod: another version of tapedeck may have written it.
 *
 * Jobs of a sweep, per forecasting group (sweepPlan.ts):
 * - `replay` for the leader (calls the models);
 * - when the group has other variants, a `fanout` job, the leader's parent in
 *   a BullMQ flow: it becomes runnable only once the leader completed, and
 *   enqueues one `replay` job per decision-only variant, carrying where the
 *   leader's forecasts are. So a variant never starts before they exist.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson, configHash, type RunConfig } from "../../strategies/runConfig.ts";
import type { Variant } from "../replay/sweepPlan.ts";
import { CACHE_MODES, type CacheMode } from "../cache/cacheMode.ts";

/**
 * A sweep id: "sw-" and 12 hex digits of the plan's config hashes and the dataset's hash, and the
 * `--cache` mode unless "on" (so `--cache refresh` after a sweep on a broken endpoint is a new sweep,
 * not a resubmission that finds every run finished; ids of "on" sweeps are as they always were).
 */
export function sweepIdFor(variants: readonly Variant[], datasetHash: string, cacheMode: CacheMode = "on"): string {
  const plan = canonicalJson({ dataset: datasetHash, configs: variants.map((v) => configHash(v.config)), ...(cacheMode !== "on" ? { cacheMode } : {}) });
  return `sw-${createHash("sha256").update(plan).digest("hex").slice(0, 12)}`;
}

export const SWEEP_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** BullMQ forbids ':' in custom ids; ours use '.'. */
export function replayJobId(sweepId: string, config: RunConfig): string {
  return `${sweepId}.${configHash(config)}`;
}

export function fanoutJobId(sweepId: string, leader: RunConfig): string {
  return `${sweepId}.fanout.${configHash(leader)}`;
}

const leaderForecasts = z.object({
  runId: z.string().min(1),
  /** The leader's forecasts as Parquet, in the shared results folder. */
  forecastsParquet: z.string().min(1),
});

export const replayJobData = z.object({
  kind: z.literal("replay"),
  sweepId: z.string().regex(SWEEP_ID),
  index: z.number().int().nonnegative(),
  label: z.string(),
  role: z.enum(["leader", "variant"]),
  /** The variant's run config (JSON as planned; parsed again by the worker). */
  config: z.record(z.string(), z.unknown()),
  datasetDir: z.string().min(1),
  /** Events between checkpoints of the run's shard (what a resumed job replays without writing). */
  checkpointEvery: z.number().int().positive(),
  /** Leaders whose group has other variants export their forecasts for them. */
  exportForecasts: z.boolean(),
  /** Variants: the leader's run and forecasts they re-decide. */
  leader: leaderForecasts.optional(),
  /** The sweep-wide cap on real money, nano-dollars (sweepBudget.ts), or null. */
  sweepNusd: z.number().int().positive().nullable().default(null),
  /** `sweep --cache` (harness/cache/cacheMode.ts), applied by the worker as the in-process sweep applies it (workerCache.ts). */
  cacheMode: z.enum(CACHE_MODES).default("on"),
});
export type ReplayJobData = z.infer<typeof replayJobData>;

export const fanoutJobData = z.object({
  kind: z.literal("fanout"),
  sweepId: z.string().regex(SWEEP_ID),
  leaderJobId: z.string().min(1),
  /** The group's decision-only variants, as replay jobs still lacking `leader`. */
  variants: z.array(z.object({ jobId: z.string().min(1), data: replayJobData })),
});
export type FanoutJobData = z.infer<typeof fanoutJobData>;

export const replayJobResult = z.object({
  runId: z.string().min(1),
  digest: z.string().nullable(),
  status: z.enum(["completed", "interrupted"]),
  events: z.number().int().nonnegative(),
  wallMs: z.number().nonnegative(),
  /** The run's result shard: its own DuckDB file in the results folder. */
  shard: z.string().min(1),
  forecastsParquet: z.string().nullable(),
  /** The worker that finished it, and whether it resumed a shard an earlier attempt left. */
  worker: z.string(),
  resumed: z.boolean(),
  /** Why an interrupted run stopped (e.g. the sweep-wide cap). */
  stopReason: z.string().nullable().default(null),
});
export type ReplayJobResult = z.output<typeof replayJobResult>;

/** Reads a job's data or result, naming the job when it does not fit. */
export function parseJob<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The fan-out job of the group a leader job leads. */
export function fanoutIdOfLeaderJob(sweepId: string, leaderJobId: string): string {
  return `${sweepId}.fanout.${leaderJobId.slice(sweepId.length + 1)}`;
}
