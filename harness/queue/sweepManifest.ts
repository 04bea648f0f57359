/**
 * A sweep's manifest in Redis (`tapedeck:sweep:<id>:manifest`): which replay
 * jobs make it up, in plan order, so a coordinator started later
 * (`sweep --attach <id>`) knows what to wait for and merge. Written once
 * (SET NX): resubmitting the same sweep keeps the first.
 */
import type { Redis } from "ioredis";
import { z } from "zod";

export const sweepManifest = z.object({
  sweepId: z.string().min(1),
  datasetDir: z.string().min(1),
  /** Events of the dataset (progress totals). */
  eventsPerRun: z.number().int().nonnegative().nullable(),
  createdAt: z.string(),
  runs: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      label: z.string(),
      role: z.enum(["leader", "variant"]),
      jobId: z.string().min(1),
      /** Variants: their leader's job. */
      leaderJobId: z.string().nullable(),
    }),
  ),
});
export type SweepManifest = z.infer<typeof sweepManifest>;

export const manifestKey = (sweepId: string) => `tapedeck:sweep:${sweepId}:manifest`;

/** Stores the manifest unless one is there; returns the one that is. */
export async function saveManifest(redis: Redis, manifest: SweepManifest): Promise<SweepManifest> {
  await redis.set(manifestKey(manifest.sweepId), JSON.stringify(manifest), "NX");
  return loadManifest(redis, manifest.sweepId);
}

export async function loadManifest(redis: Redis, sweepId: string): Promise<SweepManifest> {
  const text = await redis.get(manifestKey(sweepId));
  if (text === null) throw new Error(`sweep ${sweepId}: no such sweep on this queue (no ${manifestKey(sweepId)})`);
  const parsed = sweepManifest.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${manifestKey(sweepId)}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
