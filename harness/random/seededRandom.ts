/**
 * mulberry32: a small seeded generator of floats in [0, 1), for scripts that must
 * replay the same way from one seed (the fake exchange's scripted session, the
 * chaos bench's fault schedules, synthetic test markets). Not for statistics:
 * the bootstrap draws its indices from pure-rand (harness/metrics/bootstrap.ts).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
