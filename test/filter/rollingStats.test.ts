import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_PRICE_SAMPLES, PriceWindow, VolumeBuckets } from "../../harness/filter/rollingStats.ts";

function naiveStd(prices: number[]): number {
  if (prices.length < 2) return 0;
  const mean = prices.reduce((a, b) => a + b, 0) / prices.length;
  return Math.sqrt(prices.reduce((a, p) => a + (p - mean) ** 2, 0) / prices.length) / 10_000;
}

describe("PriceWindow", () => {
  it("std of 0.40 and 0.60 is 0.10; samples leave after windowMs", () => {
    const w = new PriceWindow(1_000);
    w.push(0, 4_000);
    w.push(500, 6_000);
    expect(w.std(500)).toBeCloseTo(0.1, 12);
    expect(w.std(1_000)).toBe(0); // the first left: one sample
    expect(w.size).toBe(1);
  });

  it("matches a naive std over the samples inside the window", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 9_999 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 20_000 }),
        (steps, windowMs) => {
          const w = new PriceWindow(windowMs);
          const seen: Array<[number, number]> = [];
          let ts = 0;
          for (const [dt, p] of steps) {
            ts += dt;
            w.push(ts, p);
            seen.push([ts, p]);
            const inside = seen.filter(([t]) => ts - t < windowMs).slice(-MAX_PRICE_SAMPLES).map(([, q]) => q);
            if (Math.abs(w.std(ts) - naiveStd(inside)) > 1e-9) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe("VolumeBuckets", () => {
  it("compares the current bucket with the mean of the earlier ones, empty ones as zero", () => {
    const v = new VolumeBuckets(60_000, 3);
    v.add(0, 10); // bucket 0
    v.add(60_000, 20); // bucket 1
    expect(v.ratio(60_000)).toBe(2); // 20 / mean(10)
    v.add(180_000, 30); // bucket 3; bucket 2 empty
    expect(v.ratio(180_000)).toBe(3); // 30 / mean(10, 20, 0)
    v.add(240_000, 5); // bucket 4: lookback is 1..3 = 20, 0, 30
    expect(v.ratio(240_000)).toBeCloseTo(5 / (50 / 3), 12);
  });

  it("has no baseline before a second bucket, nor when earlier buckets were empty", () => {
    const v = new VolumeBuckets(60_000, 12);
    v.add(0, 0);
    v.add(30_000, 100);
    expect(v.ratio(30_000)).toBe(0);
    expect(v.ratio(60_000)).toBe(0); // earlier bucket 100, current 0
    const quiet = new VolumeBuckets(60_000, 12);
    quiet.add(0, 0);
    quiet.add(60_000, 50);
    expect(quiet.ratio(60_000)).toBe(0);
  });
});
