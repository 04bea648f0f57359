/**
 * What a fitted consensus should say before anyone adopts it: fitted
 * weights that score worse out of sample than equal weights, or than the
 * best single model (chosen walk-forward too), are overfit or not worth it.
 * Lower is better for both losses (log loss, Brier).
 */
import type { FitResult } from "./fitWeights.ts";

export function fitWarnings(fit: Pick<FitResult, "loss" | "outOfSample">): string[] {
  const oos = fit.outOfSample;
  if (!oos) return ["no out-of-sample fold (too few settled markets): the fitted weights are untested"];
  const out: string[] = [];
  const f = (v: number) => v.toFixed(4);
  if (oos.fitted > oos.equal) {
    out.push(`out of sample the fitted weights score worse than equal weights (${fit.loss} ${f(oos.fitted)} vs ${f(oos.equal)}): prefer equal weights`);
  }
  if (oos.fitted > oos.bestSingle.score) {
    out.push(`out of sample the fitted weights score worse than the best single model (${fit.loss} ${f(oos.fitted)} vs ${f(oos.bestSingle.score)}, ${oos.bestSingle.model})`);
  }
  return out;
}
