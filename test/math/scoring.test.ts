import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { accuracy, assertForecastRows, brier, brierSkill, LOG_LOSS_EPSILON, logLoss, pairedBrier, type ForecastRow } from "../../harness/metrics/scoring.ts";
import { orderedSum } from "../../harness/metrics/sum.ts";

const rows: ForecastRow[] = [
  { p: 0.9, outcome: 1, marketP: 0.7 },
  { p: 0.2, outcome: 0, marketP: 0.3 },
  { p: 0.6, outcome: 0, marketP: 0.5 },
];

describe("scores", () => {
  it("Brier, log loss and accuracy of a worked example", () => {
    expect(brier(rows)).toBeCloseTo(0.41 / 3, 15);
    expect(logLoss(rows)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.4)) / 3, 15);
    expect(accuracy(rows)).toBeCloseTo(2 / 3, 15);
  });

  it("skill against the market: 1 − 0.41/0.43", () => {
    const pb = pairedBrier(rows);
    expect(pb.market).toBeCloseTo(0.43 / 3, 15);
    expect(brierSkill(rows)).toBeCloseTo(0.02 / 0.43, 12);
    // Rows without a market price are left out of both sides.
    expect(brierSkill([...rows, { p: 1, outcome: 0 }])).toBeCloseTo(0.02 / 0.43, 12);
    expect(brierSkill([{ p: 0.5, outcome: 1 }])).toBeNaN();
  });

  it("clips log loss at 1e-6: a certain, wrong forecast costs ln(1e6)", () => {
    expect(LOG_LOSS_EPSILON).toBe(1e-6);
    expect(logLoss([{ p: 0, outcome: 1 }])).toBeCloseTo(Math.log(1e6), 9);
    expect(logLoss([{ p: 1, outcome: 0 }])).toBeCloseTo(Math.log(1e6), 9);
    expect(logLoss([{ p: 1, outcome: 1 }])).toBeCloseTo(1e-6, 9);
  });

  it("counts p = 0.5 as half right, and scores a resample by index", () => {
    expect(accuracy([{ p: 0.5, outcome: 1 }, { p: 0.5, outcome: 0 }])).toBe(0.5);
    expect(brier(rows, [0, 0, 2])).toBeCloseTo((0.01 + 0.01 + 0.36) / 3, 15);
    expect(brier([])).toBeNaN();
  });

  it("names the bad row", () => {
    expect(() => assertForecastRows([{ p: 0.2, outcome: 0 }, { p: 1.2, outcome: 1 }])).toThrow(/forecast rows\[1\]\.p/);
  });

  it("sums in a fixed order with compensation", () => {
    const xs = [1e16, 1, -1e16, 1];
    expect(orderedSum(xs)).toBe(2);
  });
});

describe("score properties", () => {
  const row = fc.record({ p: fc.double({ min: 0, max: 1, noNaN: true }), outcome: fc.constantFrom(0 as const, 1 as const) });
  it("Brier is in [0, 1], log loss ≥ 0 and ≤ ln(1e6)", () => {
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 50 }), (rs) => {
      const b = brier(rs), l = logLoss(rs);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThanOrEqual(1);
      expect(l).toBeGreaterThanOrEqual(0);
      expect(l).toBeLessThanOrEqual(Math.log(1e6) + 1e-9);
    }));
  });
  it("a perfect forecaster scores 0 Brier and 100% accuracy; always 0.5 scores 0.25", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(0 as const, 1 as const), { minLength: 1, maxLength: 50 }), (os) => {
      expect(brier(os.map((o) => ({ p: o, outcome: o })))).toBe(0);
      expect(accuracy(os.map((o) => ({ p: o, outcome: o })))).toBe(1);
      expect(brier(os.map((o) => ({ p: 0.5, outcome: o })))).toBeCloseTo(0.25, 12);
    }));
  });
  it("skill is 0 when the model says what the market says", () => {
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), (rs) => {
      const withMarket = rs.map((r) => ({ ...r, marketP: r.p }));
      const s = brierSkill(withMarket);
      if (Number.isFinite(s)) expect(s).toBeCloseTo(0, 9);
    }));
  });
});
