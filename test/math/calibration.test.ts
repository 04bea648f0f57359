import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { binIndex, ece, expectedCalibrationError, reliabilityBins } from "../../harness/metrics/calibration.ts";

describe("calibration", () => {
  const rows = [
    { p: 0.05, outcome: 0 as const },
    { p: 0.15, outcome: 1 as const },
    { p: 0.15, outcome: 0 as const },
    { p: 0.95, outcome: 1 as const },
    { p: 1.0, outcome: 1 as const },
  ];
  it("puts forecasts in equal-width bins (p = 1 in the last) with mean forecast and observed rate", () => {
    const bins = reliabilityBins(rows, 10);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toEqual({ lower: 0, upper: 0.1, count: 1, meanP: 0.05, observedRate: 0 });
    expect(bins[1]?.count).toBe(2);
    expect(bins[1]?.meanP).toBeCloseTo(0.15, 15);
    expect(bins[1]?.observedRate).toBe(0.5);
    expect(bins[5]).toEqual({ lower: 0.5, upper: 0.6, count: 0, meanP: null, observedRate: null });
    expect(bins[9]?.count).toBe(2);
    expect(bins[9]?.meanP).toBeCloseTo(0.975, 15);
    expect(binIndex(0.1, 10)).toBe(1);
  });
  it("ECE = Σ n_k/n |meanP − rate| = 0.2·0.05 + 0.4·0.35 + 0.4·0.025 = 0.16", () => {
    expect(ece(rows, 10)).toBeCloseTo(0.16, 12);
    expect(expectedCalibrationError(reliabilityBins([], 10))).toBeNaN();
  });
  it("a calibrated forecaster scores 0: 10 forecasts of 0.3 with 3 YES", () => {
    const calibrated = Array.from({ length: 10 }, (_, i) => ({ p: 0.3, outcome: (i < 3 ? 1 : 0) as 0 | 1 }));
    expect(ece(calibrated, 10)).toBeCloseTo(0, 12);
  });
  it("property: bin counts sum to n and ECE is in [0, 1]", () => {
    const row = fc.record({ p: fc.double({ min: 0, max: 1, noNaN: true }), outcome: fc.constantFrom(0 as const, 1 as const) });
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (rs, b) => {
      const bins = reliabilityBins(rs, b);
      expect(bins.reduce((a, x) => a + x.count, 0)).toBe(rs.length);
      const e = expectedCalibrationError(bins);
      expect(e).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThanOrEqual(1);
    }));
  });
});
