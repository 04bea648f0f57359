import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_FEE_SCHEDULE, FeeScheduleOverridesSchema, feePerContractEstimate, fillFee, orderFee, scheduleFor,
} from "../../harness/broker/fees.ts";

const price = fc.integer({ min: 1, max: 9999 });

describe("Kalshi fees (issue 3 done-when figures)", () => {
  it("100 contracts at $0.50 as taker cost exactly $1.75", () => {
    const f = fillFee(100, 5000, "taker");
    expect(f).toBe(17_500);
    expect(orderFee([f])).toBe(17_500);
  });

  it("1 contract at $0.50 is a 175-unit fill fee, charged $0.02 on the order", () => {
    const f = fillFee(1, 5000, "taker");
    expect(f).toBe(175);
    expect(orderFee([f])).toBe(200);
  });

  it("rounds each fill up to $0.0001: 10 contracts at $0.37 is 1631.7 → 1632 units, order $0.17", () => {
    expect(fillFee(10, 3700, "taker")).toBe(1632);
    expect(orderFee([1632])).toBe(1700);
  });

  it("charges makers 0.0175 only where the series charges makers", () => {
    expect(fillFee(100, 5000, "maker")).toBe(0);
    expect(fillFee(100, 5000, "maker", { ...DEFAULT_FEE_SCHEDULE, makerFees: true })).toBe(4375);
    expect(fillFee(1, 5000, "maker", { ...DEFAULT_FEE_SCHEDULE, makerFees: true })).toBe(44); // 43.75 up
  });

  it("applies the per-series multiplier to taker and maker rates", () => {
    const half = { ...DEFAULT_FEE_SCHEDULE, multiplier: 0.5, makerFees: true };
    expect(fillFee(100, 5000, "taker", half)).toBe(8750);
    expect(fillFee(100, 5000, "maker", half)).toBe(2188); // 2187.5 up
    expect(fillFee(100, 5000, "taker", { ...DEFAULT_FEE_SCHEDULE, multiplier: 2 })).toBe(35_000);
  });

  it("handles fractional contracts to 0.01 and rejects finer ones", () => {
    expect(fillFee(0.5, 5000, "taker")).toBe(88); // 87.5 up
    expect(() => fillFee(0.001, 5000, "taker")).toThrow(/multiple of 0.01/);
    expect(() => fillFee(1, 10_000, "taker")).toThrow(/1\.\.9999/);
  });

  it("sums an order's fills before rounding to the cent", () => {
    expect(orderFee([175, 175, 175])).toBe(600); // 525 → 600, not 3 × 200
    expect(orderFee([])).toBe(0);
    expect(() => orderFee([1.5])).toThrow(/fill fee #0/);
  });

  it("looks up series overrides: exact key, then the longest prefix, missing fields keep the base", () => {
    const overrides = FeeScheduleOverridesSchema.parse({ "KX*": { multiplier: 2 }, "KXINX*": { multiplier: 0.5 }, KXINXD: { makerFees: true } });
    expect(scheduleFor("KXINXD", overrides)).toEqual({ ...DEFAULT_FEE_SCHEDULE, makerFees: true });
    expect(scheduleFor("KXINXU", overrides).multiplier).toBe(0.5);
    expect(scheduleFor("KXBTC", overrides).multiplier).toBe(2);
    expect(scheduleFor("OTHER", overrides)).toEqual(DEFAULT_FEE_SCHEDULE);
  });

  it("estimates the fee per contract before rounding", () => {
    expect(feePerContractEstimate(5000)).toBeCloseTo(175, 10);
    expect(feePerContractEstimate(3700)).toBeCloseTo(163.17, 10);
  });
});

describe("fee properties", () => {
  it("matches an exact integer oracle ceil(7·C·p·(10000−p) / 1e6) for integer contracts", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), price, (c, p) => {
      const num = 7 * c * p * (10_000 - p); // < 2^53 for these ranges
      expect(fillFee(c, p, "taker")).toBe(Math.ceil(num / 1_000_000));
    }));
  });

  it("is non-negative and symmetric in P ↔ 1 − P", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), price, fc.boolean(), (c, p, maker) => {
      const s = { ...DEFAULT_FEE_SCHEDULE, makerFees: true };
      const liq = maker ? "maker" : "taker";
      const f = fillFee(c, p, liq, s);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(f)).toBe(true);
      expect(fillFee(c, 10_000 - p, liq, s)).toBe(f);
    }));
  });

  it("never falls when contracts grow", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), price, (a, b, p) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      expect(fillFee(lo, p, "taker")).toBeLessThanOrEqual(fillFee(hi, p, "taker"));
    }));
  });

  it("order fee is a whole number of cents, ≥ the sum of fill fees and < sum + 100", () => {
    fc.assert(fc.property(fc.array(fc.record({ c: fc.integer({ min: 1, max: 5000 }), p: price }), { maxLength: 20 }), (fills) => {
      const fees = fills.map((x) => fillFee(x.c, x.p, "taker"));
      const sum = fees.reduce((a, b) => a + b, 0);
      const o = orderFee(fees);
      expect(o % 100).toBe(0);
      expect(o).toBeGreaterThanOrEqual(sum);
      expect(o).toBeLessThan(sum + 100);
    }));
  });
});
