/**
 * Seeded percentile bootstrap. The same seed and the same input give the
 * same interval on every machine: indices come from pure-rand's
 * xoroshiro128+ through its exact uniformInt, and each resample is scored by
 * a caller-supplied statistic over row indices (so no rows are copied).
 *
 * Interval: the (1 − level)/2 and (1 + level)/2 quantiles of the resampled
 * statistics, linear interpolation between order statistics (R's type 7).
 * Resamples whose statistic is not finite (e.g. skill when a resample's
 * market Brier is 0) are dropped and counted in `dropped`.
 *
 * Paired bootstrap: two statistics scored on the same resampled indices; the
 * interval is for their difference a − b, which keeps the correlation
 * between them (model vs market on the same questions).
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";

export interface BootstrapOptions {
  /** Number of resamples, e.g. 1000. */
  samples: number;
  /** 32-bit integer seed. */
  seed: number;
  /** Coverage, default 0.95. */
  level?: number;
}

export interface BootstrapInterval {
  /** The statistic on the original sample. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  /** Resamples used (finite statistics). */
  samples: number;
  /** Resamples dropped because the statistic was not finite. */
  dropped: number;
}

export type IndexStatistic = (idx: Uint32Array) => number;

/** Quantile q of sorted values, type 7 (linear between order statistics). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}

function checkOptions(n: number, opts: BootstrapOptions): number {
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bootstrap: row count must be a non-negative integer, got ${String(n)}`);
  if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new RangeError(`bootstrap: samples must be a positive integer, got ${String(opts.samples)}`);
  if (!Number.isInteger(opts.seed)) throw new RangeError(`bootstrap: seed must be an integer, got ${String(opts.seed)}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must be in (0, 1), got ${String(level)}`);
  return level;
}

function identity(n: number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/**
 * Resampled statistics: for each of `samples` resamples of n rows with
 * replacement, the value of every statistic on it. Deterministic in seed.
 */
export function resampleStatistics(n: number, statistics: readonly IndexStatistic[], opts: BootstrapOptions): Float64Array[] {
  checkOptions(n, opts);
  const out = statistics.map(() => new Float64Array(opts.samples));
  if (n === 0) {
    for (const o of out) o.fill(Number.NaN);
    return out;
  }
  const rng = xoroshiro128plus(opts.seed | 0);
  const idx = new Uint32Array(n);
  for (let s = 0; s < opts.samples; s++) {
    for (let i = 0; i < n; i++) idx[i] = uniformInt(rng, 0, n - 1);
    for (let k = 0; k < statistics.length; k++) out[k]![s] = statistics[k]!(idx);
  }
  return out;
}

function intervalFrom(estimate: number, values: Float64Array, level: number): BootstrapInterval {
  const finite = Array.from(values).filter((v) => Number.isFinite(v));
  finite.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return {
    estimate,
    lower: quantileSorted(finite, alpha),
    upper: quantileSorted(finite, 1 - alpha),
    level,
    samples: finite.length,
    dropped: values.length - finite.length,
  };
}

/** Percentile bootstrap interval for one statistic of n rows. */
export function bootstrapInterval(n: number, statistic: IndexStatistic, opts: BootstrapOptions): BootstrapInterval {
  const level = checkOptions(n, opts);
  const [values] = resampleStatistics(n, [statistic], opts);
  return intervalFrom(statistic(identity(n)), values!, level);
}

/** Paired percentile bootstrap for a − b, both scored on the same resamples. */
export function pairedBootstrapDifference(n: number, a: IndexStatistic, b: IndexStatistic, opts: BootstrapOptions): BootstrapInterval {
  const level = checkOptions(n, opts);
  const diff: IndexStatistic = (idx) => a(idx) - b(idx);
  const [values] = resampleStatistics(n, [diff], opts);
  return intervalFrom(diff(identity(n)), values!, level);
}

/** Interval for the sum of integer values (e.g. per-market P&L in units); sums are exact while under 2^53. */
export function bootstrapSum(values: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  return bootstrapInterval(values.length, (idx) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += values[idx[i]!]!;
    return s;
  }, opts);
}
