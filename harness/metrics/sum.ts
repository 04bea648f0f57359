/**
 * Float sums in a fixed order. Metrics feed a run digest, so every sum walks
 * its input front to back (never a parallel or reordered reduction), with
 * Neumaier compensation so long sums of small terms stay accurate.
 */

/** Compensated sum of `values` in array order. */
export function orderedSum(values: ArrayLike<number>): number {
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}

/** Compensated sum of f(i) for i = 0..n−1, in index order. */
export function orderedSumBy(n: number, f: (i: number) => number): number {
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < n; i++) {
    const v = f(i);
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}

/** Arithmetic mean in array order; NaN for an empty input. */
export function orderedMean(values: ArrayLike<number>): number {
  return values.length === 0 ? Number.NaN : orderedSum(values) / values.length;
}
