/**
 * Calibration: reliability bins and expected calibration error (ECE).
 *
 * Bins are equal-width over [0, 1]: bin k holds k/B ≤ p < (k+1)/B, compared
 * exactly against the edges k/B as doubles (binIndex), and p = 1 falls in the
 * last bin. ECE = Σ_k (n_k / n) × |mean p_k − rate_k|,
 * summed over non-empty bins in bin order. Empty bins are reported with
 * count 0 and null means so a chart can still draw every bin.
 */
import type { ForecastRow, RowIndices } from "./scoring.ts";

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean forecast in the bin; null when empty. */
  meanP: number | null;
  /** Share of YES outcomes in the bin; null when empty. */
  observedRate: number | null;
}

/**
 * The bin of p: the k with k/B ≤ p < (k+1)/B, the edges being the doubles
 * k/B that the bins report as `lower`/`upper`. floor(p × B) alone is wrong
 * where the product rounds up across an edge: 0.8999999999999999 × 10 is
 * exactly 9 in doubles, yet 0.8999999999999999 < 0.9, so it belongs to bin 8.
 * p ≥ 1 goes to the last bin, p < 0 to the first.
 */
export function binIndex(p: number, bins: number): number {
  let k = Math.floor(p * bins);
  if (k >= bins) return bins - 1;
  if (k < 0) return 0;
  // Step across an edge the product rounded over, either way.
  if (p < k / bins) k -= 1;
  else if (k + 1 < bins && p >= (k + 1) / bins) k += 1;
  return k;
}

/** Reliability bins over the rows (or a resample of them). */
export function reliabilityBins(rows: readonly ForecastRow[], bins = 10, idx?: RowIndices): ReliabilityBin[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${String(bins)}`);
  const n = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumO = new Array<number>(bins).fill(0);
  const total = idx === undefined ? rows.length : idx.length;
  for (let k = 0; k < total; k++) {
    const r = rows[idx === undefined ? k : idx[k]!]!;
    const b = binIndex(r.p, bins);
    n[b]! += 1;
    sumP[b]! += r.p;
    sumO[b]! += r.outcome;
  }
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = n[b]!;
    out.push({
      lower: b / bins,
      upper: (b + 1) / bins,
      count: c,
      meanP: c > 0 ? sumP[b]! / c : null,
      observedRate: c > 0 ? sumO[b]! / c : null,
    });
  }
  return out;
}

/** Expected calibration error from reliability bins; NaN when all bins are empty. */
export function expectedCalibrationError(binsOut: readonly ReliabilityBin[]): number {
  let n = 0;
  for (const b of binsOut) n += b.count;
  if (n === 0) return Number.NaN;
  let ece = 0;
  for (const b of binsOut) {
    if (b.count === 0 || b.meanP === null || b.observedRate === null) continue;
    ece += (b.count / n) * Math.abs(b.meanP - b.observedRate);
  }
  return ece;
}

/** ECE straight from rows. */
export function ece(rows: readonly ForecastRow[], bins = 10, idx?: RowIndices): number {
  return expectedCalibrationError(reliabilityBins(rows, bins, idx));
}
