/**
 * Pearson correlation of paired samples (a model's forecasts against the
 * market's price: near 1, the model copies the market). Null when there are
 * fewer than two pairs or either side has no variance.
 */
export function correlation(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n < 2) return null;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  // sqrt each side first: va × vb underflows to 0 for tiny variances; clamp the last-digit overshoot.
  const r = cov / (Math.sqrt(va) * Math.sqrt(vb));
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : null;
}
