import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { correlation } from "../../harness/metrics/correlation.ts";

describe("correlation", () => {
  it("is 1 for a copy, −1 for a mirror, null without variance", () => {
    expect(correlation([0.1, 0.4, 0.9], [0.1, 0.4, 0.9])).toBeCloseTo(1, 12);
    expect(correlation([0.1, 0.4, 0.9], [0.9, 0.6, 0.1])).toBeCloseTo(-1, 12);
    expect(correlation([0.5, 0.5], [0.1, 0.9])).toBeNull();
    expect(correlation([0.5], [0.5])).toBeNull();
  });

  it("stays within [−1, 1] when the variances are tiny enough for their product to underflow", () => {
    const r = correlation([0, 2.4e-162, 0], [2.4e-162, 0, 0]);
    expect(r).not.toBeNull();
    expect(Math.abs(r!)).toBeLessThanOrEqual(1);
  });

  it("is symmetric, within [−1, 1], and unchanged by shifting and scaling (property)", () => {
    // Prices and forecasts as they come: probabilities to 4 decimals.
    const p = fc.integer({ min: 1, max: 9999 }).map((u) => u / 10_000);
    const pairs = fc.array(fc.tuple(p, p), { minLength: 2, maxLength: 40 });
    fc.assert(
      fc.property(pairs, (rows) => {
        const a = rows.map((r) => r[0]);
        const b = rows.map((r) => r[1]);
        const r = correlation(a, b);
        if (r === null) return;
        expect(r).toBeGreaterThanOrEqual(-1 - 1e-9);
        expect(r).toBeLessThanOrEqual(1 + 1e-9);
        expect(correlation(b, a)).toBeCloseTo(r, 9);
        const shifted = correlation(a.map((x) => 2 * x + 0.5), b);
        if (shifted !== null) expect(shifted).toBeCloseTo(r, 6);
      }),
    );
  });
});
