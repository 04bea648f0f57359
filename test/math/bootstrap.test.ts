import { describe, expect, it } from "vitest";
import { bootstrapInterval, bootstrapSum, pairedBootstrapDifference, quantileSorted, resampleStatistics } from "../../harness/metrics/bootstrap.ts";

const values = Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) / 100); // a fixed, spread sample
const mean = (idx: Uint32Array): number => { let s = 0; for (let i = 0; i < idx.length; i++) s += values[idx[i]!]!; return s / idx.length; };

describe("seeded bootstrap", () => {
  it("gives the same interval for the same seed, bit for bit, and another for another seed", () => {
    const a = bootstrapInterval(values.length, mean, { samples: 500, seed: 42 });
    const b = bootstrapInterval(values.length, mean, { samples: 500, seed: 42 });
    const c = bootstrapInterval(values.length, mean, { samples: 500, seed: 43 });
    expect(b).toEqual(a);
    expect(c.lower === a.lower && c.upper === a.upper).toBe(false);
    expect(a.level).toBe(0.95);
    expect(a.samples).toBe(500);
  });

  it("brackets the sample mean and narrows like 1/√n", () => {
    const ci = bootstrapInterval(values.length, mean, { samples: 1000, seed: 7 });
    expect(ci.lower).toBeLessThan(ci.estimate);
    expect(ci.upper).toBeGreaterThan(ci.estimate);
    // Standard error of the mean ≈ sd/√n; a 95% interval ≈ 3.92 standard errors wide.
    const m = ci.estimate;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
    const width = ci.upper - ci.lower;
    expect(width / (3.92 * sd / Math.sqrt(values.length))).toBeGreaterThan(0.85);
    expect(width / (3.92 * sd / Math.sqrt(values.length))).toBeLessThan(1.15);
  });

  it("collapses to the value for constant data, and a paired difference of a statistic with itself is 0", () => {
    const ones = new Array<number>(30).fill(250);
    expect(bootstrapSum(ones, { samples: 100, seed: 1 })).toMatchObject({ estimate: 7500, lower: 7500, upper: 7500 });
    const d = pairedBootstrapDifference(values.length, mean, mean, { samples: 200, seed: 3 });
    expect([d.estimate, d.lower, d.upper]).toEqual([0, 0, 0]);
  });

  it("drops resamples whose statistic is not finite and counts them", () => {
    const first = (idx: Uint32Array): number => (idx[0] === 0 ? Number.NaN : 1);
    const ci = bootstrapInterval(5, first, { samples: 400, seed: 9 });
    expect(ci.dropped).toBeGreaterThan(0);
    expect(ci.samples + ci.dropped).toBe(400);
  });

  it("type-7 quantiles and input checks", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(() => bootstrapInterval(3, mean, { samples: 0, seed: 1 })).toThrow(/samples/);
    expect(() => bootstrapInterval(3, mean, { samples: 10, seed: 1.5 })).toThrow(/seed/);
    expect(resampleStatistics(0, [mean], { samples: 2, seed: 1 })[0]?.every(Number.isNaN)).toBe(true);
  });
});
