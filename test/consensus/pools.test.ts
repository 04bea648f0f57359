import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extremize, linearPool, logOddsPool, logit, pool, sigmoid } from "../../harness/consensus/pools.ts";

const prob = fc.double({ min: 0.001, max: 0.999, noNaN: true });
const weight = fc.double({ min: 0.01, max: 10, noNaN: true });
const members = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.array(prob, { minLength: n, maxLength: n }), fc.array(weight, { minLength: n, maxLength: n })));

describe("opinion pools", () => {
  it("linear pool stays between its least and most extreme member", () => {
    fc.assert(
      fc.property(members, ([ps, ws]) => {
        const p = linearPool(ps, ws);
        expect(p).toBeGreaterThanOrEqual(Math.min(...ps) - 1e-12);
        expect(p).toBeLessThanOrEqual(Math.max(...ps) + 1e-12);
      }),
    );
  });

  it("log-odds pool also stays within its members and is symmetric in YES/NO", () => {
    fc.assert(
      fc.property(members, ([ps, ws]) => {
        const p = logOddsPool(ps, ws);
        expect(p).toBeGreaterThanOrEqual(Math.min(...ps) - 1e-9);
        expect(p).toBeLessThanOrEqual(Math.max(...ps) + 1e-9);
        expect(logOddsPool(ps.map((x) => 1 - x), ws)).toBeCloseTo(1 - p, 9);
      }),
    );
  });

  it("scaling all weights changes nothing", () => {
    fc.assert(
      fc.property(members, fc.double({ min: 0.1, max: 100, noNaN: true }), ([ps, ws], k) => {
        expect(linearPool(ps, ws.map((w) => w * k))).toBeCloseTo(linearPool(ps, ws), 9);
        expect(logOddsPool(ps, ws.map((w) => w * k))).toBeCloseTo(logOddsPool(ps, ws), 9);
      }),
    );
  });

  it("computes known figures", () => {
    expect(linearPool([0.2, 0.8], [1, 3])).toBeCloseTo(0.65, 12);
    // Equal-weight log-odds of 0.9 and 0.5: σ(ln 9 / 2) = 3/4.
    expect(logOddsPool([0.9, 0.5], [1, 1])).toBeCloseTo(0.75, 12);
    // Extremizing 0.75 by 2: odds 3 → 9, p = 0.9.
    expect(extremize(0.75, 2)).toBeCloseTo(0.9, 12);
    expect(pool("log-odds", [0.9, 0.5], [1, 1], 2)).toBeCloseTo(0.9, 12);
    expect(pool("linear", [0.2, 0.8], [1, 3])).toBeCloseTo(0.65, 12);
  });

  it("extremize is the identity at 1, moves away from 0.5 above 1 and toward it below", () => {
    fc.assert(
      fc.property(prob, fc.double({ min: 1.01, max: 5, noNaN: true }), (p, a) => {
        expect(extremize(p, 1)).toBe(p);
        expect(Math.abs(extremize(p, a) - 0.5)).toBeGreaterThanOrEqual(Math.abs(p - 0.5) - 1e-12);
        expect(Math.abs(extremize(p, 1 / a) - 0.5)).toBeLessThanOrEqual(Math.abs(p - 0.5) + 1e-12);
      }),
    );
  });

  it("sigmoid inverts logit and stays finite at 0 and 1", () => {
    fc.assert(
      fc.property(prob, (p) => {
        expect(sigmoid(logit(p))).toBeCloseTo(p, 9);
      }),
    );
    expect(Number.isFinite(logOddsPool([0, 1], [1, 1]))).toBe(true);
    expect(logOddsPool([0, 1], [1, 1])).toBeCloseTo(0.5, 9);
  });

  it("rejects bad input with a clear message", () => {
    expect(() => linearPool([0.5], [1, 2])).toThrow(/1 forecasts but 2 weights/);
    expect(() => linearPool([0.5, 0.4], [0, 0])).toThrow(/sum to zero/);
    expect(() => logOddsPool([1.2], [1])).toThrow(/outside \[0, 1\]/);
    expect(() => linearPool([], [])).toThrow(/no forecasts/);
    expect(() => extremize(0.5, 0)).toThrow(/positive/);
  });
});
