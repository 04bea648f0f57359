/**
 * Pure opinion pools: how several probability forecasts of one binary event
 * become one. Used by the consensus strategy (live and replay alike) and by
 * the walk-forward weight fit. No I/O, no state.
 *
 * Every function takes probabilities in [0, 1] and non-negative weights of
 * the same length; weights need not sum to 1 (they are normalised here).
 * Probabilities are clipped to [EPS, 1 - EPS] before taking log-odds so a
 * model that says 0 or 1 cannot produce an infinite pooled forecast.
 */

/** Clip margin for log-odds maths: 1e-6 keeps |logit| ≤ 13.8. */
export const EPS = 1e-6;

export function clipProbability(p: number): number {
  return Math.min(1 - EPS, Math.max(EPS, p));
}

export function logit(p: number): number {
  const q = clipProbability(p);
  return Math.log(q / (1 - q));
}

export function sigmoid(x: number): number {
  // Two branches keep exp() from overflowing for large |x|.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function checkedWeights(probabilities: readonly number[], weights: readonly number[]): number {
  if (probabilities.length === 0) throw new RangeError("pool of no forecasts");
  if (probabilities.length !== weights.length) {
    throw new RangeError(`pool: ${probabilities.length} forecasts but ${weights.length} weights`);
  }
  let total = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`pool: weight ${w} is not a finite non-negative number`);
    total += w;
  }
  if (total <= 0) throw new RangeError("pool: weights sum to zero");
  for (const p of probabilities) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`pool: probability ${p} is outside [0, 1]`);
  }
  return total;
}

/** Weighted linear pool: Σ wᵢ pᵢ / Σ wᵢ. Never more extreme than its most extreme member. */
export function linearPool(probabilities: readonly number[], weights: readonly number[]): number {
  const total = checkedWeights(probabilities, weights);
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += (weights[i] ?? 0) * (probabilities[i] ?? 0);
  return sum / total;
}

/**
 * Weighted log-odds (logarithmic) pool: σ(Σ wᵢ logit pᵢ / Σ wᵢ).
 * Agreeing confident members stay confident, unlike the linear pool.
 */
export function logOddsPool(probabilities: readonly number[], weights: readonly number[]): number {
  const total = checkedWeights(probabilities, weights);
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += (weights[i] ?? 0) * logit(probabilities[i] ?? 0.5);
  return sigmoid(sum / total);
}

/**
 * Extremize: σ(a · logit p). a > 1 pushes away from 0.5 (corrects the
 * under-confidence that averaging independent forecasters produces), a = 1
 * is the identity, 0 < a < 1 shrinks toward 0.5.
 */
export function extremize(probability: number, factor: number): number {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`extremize: factor ${factor} must be a positive number`);
  if (factor === 1) return probability;
  return sigmoid(factor * logit(probability));
}

export type PoolKind = "linear" | "log-odds";

/** A pool then an extremizing factor: the consensus forecast the strategy acts on. */
export function pool(kind: PoolKind, probabilities: readonly number[], weights: readonly number[], extremizeFactor = 1): number {
  const pooled = kind === "linear" ? linearPool(probabilities, weights) : logOddsPool(probabilities, weights);
  return extremize(pooled, extremizeFactor);
}
