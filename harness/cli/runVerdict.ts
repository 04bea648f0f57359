/**
 * Whether a finished run is fit to be read as a result, for the CLI's exit
 * code: a run that scored no forecast (every call failed, every market
 * void) or abstained above `--max-abstain-rate` fails loudly, naming the
 * top abstention reasons, instead of printing a table that looks like a
 * result and exiting 0.
 */
import type { ReplayOutcome } from "../replay/runReplay.ts";
import { metricValue } from "../results/runMetrics.ts";

/** Exit code of a run that completed but is not a usable result. */
export const UNUSABLE_RUN_EXIT = 4;

export function topReasons(abstentions: ReplayOutcome["abstentions"], n = 3): string {
  return abstentions.slice(0, n).map((a) => `${a.reason} ×${a.n}`).join(", ");
}

/** Forecasts, scored and abstained of the run, summed over its models. */
export function runCounts(o: Pick<ReplayOutcome, "metrics">): { forecasts: number; scored: number; abstained: number } {
  let scored = 0;
  let abstained = 0;
  for (const m of o.metrics) {
    if (m.model === "*") continue;
    if (m.metric === "scored") scored += m.value ?? 0;
    if (m.metric === "abstentions") abstained += m.value ?? 0;
  }
  return { forecasts: metricValue(o.metrics, "*", "forecasts") ?? 0, scored, abstained };
}

/** Null when the run is usable; else the one-line reason it is not. */
export function runVerdict(o: ReplayOutcome, maxAbstainRate?: number): string | null {
  if (o.status !== "completed") return null;
  const { forecasts, scored, abstained } = runCounts(o);
  const reasons = o.abstentions.length > 0 ? ` (top abstention reasons: ${topReasons(o.abstentions)})` : "";
  if (scored === 0) {
    if (forecasts === 0) return `run ${o.runId} made no forecast (the filter kept every event from the strategy, or the dataset has none to forecast)`;
    return `run ${o.runId} scored no forecast: ${forecasts} forecasts, ${abstained} abstained${reasons}${abstained < forecasts ? "; the others are on markets that did not settle YES or NO" : ""}`;
  }
  if (maxAbstainRate !== undefined && forecasts > 0 && abstained / forecasts > maxAbstainRate) {
    return `run ${o.runId} abstained on ${((100 * abstained) / forecasts).toFixed(1)}% of its forecasts, above --max-abstain-rate ${maxAbstainRate}${reasons}`;
  }
  return null;
}
