/**
 * Per-cluster sums for a cluster bootstrap. Forecasts of one market share
 * one outcome, so they are not independent draws: intervals resample whole
 * markets (with all their forecasts). Summing per market first also makes a
 * resample cost one pass over markets, not over forecasts.
 */
export interface ClusterSums<K extends string> {
  /** Number of clusters. */
  n: number;
  /** Per cluster, in first-seen order: the sum of each named term, and the row count. */
  sums: Record<K, number[]>;
  count: number[];
  /** Σ numerator / Σ denominator over the resampled clusters, summed in index order. */
  ratio(idx: Uint32Array, num: readonly number[], den: readonly number[]): number;
}

export function clusterSums<K extends string>(clusterOf: readonly string[], terms: Readonly<Record<K, ArrayLike<number>>>): ClusterSums<K> {
  const names = Object.keys(terms) as K[];
  const index = new Map<string, number>();
  const sums = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const count: number[] = [];
  for (let i = 0; i < clusterOf.length; i++) {
    let k = index.get(clusterOf[i]!);
    if (k === undefined) {
      index.set(clusterOf[i]!, (k = count.length));
      count.push(0);
      for (const name of names) sums[name].push(0);
    }
    count[k]! += 1;
    for (const name of names) sums[name][k]! += terms[name][i]!;
  }
  return {
    n: count.length,
    sums,
    count,
    ratio(idx, num, den) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < idx.length; i++) {
        a += num[idx[i]!]!;
        b += den[idx[i]!]!;
      }
      return a / b;
    },
  };
}
