/**
 * Model latency: how long after a decision's time its forecast takes effect
 * (DESIGN.md "The pipeline", item 6). A live bot decides on the state it
 * sees when the model answers, not when it asked; a replay that acts at the
 * asking instant trades on prices that were already gone. The model is named
 * in the run config and reported with the run:
 *
 * - `none`: the forecast takes effect at the decision's time (no delay; the
 *   optimistic bound, and what runs before this model existed did).
 * - `fixed`: a constant delay in ms of the run's clock.
 * - `recorded`: the latency the provider took for this answer (for a cached
 *   or cassette answer, the latency recorded with it); 0 for a rule strategy.
 *
 * The order's own trip to the exchange is the broker's latency
 * (harness/broker/paperBroker.ts `latencyMs`), applied after this one.
 */
import { z } from "zod";

export const ModelLatencyConfig = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }).strict(),
  z.object({ kind: z.literal("fixed"), ms: z.number().int().min(0) }).strict(),
  z.object({ kind: z.literal("recorded") }).strict(),
]);
export type ModelLatencyConfig = z.infer<typeof ModelLatencyConfig>;

/** Delay in ms between a decision's time and the moment its forecast takes effect. */
export function modelLatencyMs(config: ModelLatencyConfig, recordedMs: number | undefined): number {
  switch (config.kind) {
    case "none":
      return 0;
    case "fixed":
      return config.ms;
    case "recorded":
      return recordedMs === undefined || !Number.isFinite(recordedMs) || recordedMs < 0 ? 0 : Math.round(recordedMs);
  }
}

/** How the report names it: "none", "fixed 1500 ms", "recorded". */
export function describeModelLatency(config: ModelLatencyConfig): string {
  return config.kind === "fixed" ? `fixed ${config.ms} ms` : config.kind;
}
