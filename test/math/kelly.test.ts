import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { chooseSide, effectiveEntry, kellyFraction, sizeBestSide, sizeOrder } from "../../harness/sizing/kelly.ts";
import { fillFee, orderFee } from "../../harness/broker/fees.ts";

const base = { bankrollUnits: 1_000_000, kellyMultiplier: 0.25, maxPositionFraction: 0.03 };

describe("Kelly for binary contracts", () => {
  it("f* = (p − c)/(1 − c), zero without edge", () => {
    expect(kellyFraction(0.6, 5000)).toBeCloseTo(0.2, 12);
    expect(kellyFraction(0.9, 2000)).toBeCloseTo(0.875, 12);
    expect(kellyFraction(0.5, 5000)).toBe(0);
    expect(kellyFraction(0.4, 5000)).toBe(0);
    expect(kellyFraction(1, 9999)).toBe(1);
    expect(effectiveEntry(5000, 175)).toBe(5175);
  });

  it("sizes $100 at p=0.7 vs a 50¢ ask: capped at 3% → 5 contracts costing $2.59 with fees", () => {
    const s = sizeOrder({ ...base, probability: 0.7, side: "yes", askUnits: 5000 });
    // Estimated effective price 5175 units; f* = (0.7 − 0.5175)/0.4825 ≈ 0.378; ¼ Kelly ≈ 9.5% > 3% cap = 30000 units.
    expect(s.kellyFraction).toBeCloseTo((0.7 - 0.5175) / 0.4825, 12);
    expect(s.contracts).toBe(5);
    expect(s.notionalUnits).toBe(25_000);
    expect(s.feeUnits).toBe(900); // 5 × 175 = 875 → 900 at the cent
    expect(s.costUnits).toBe(25_900);
    expect(s.effectivePriceUnits).toBe(5180);
    expect(s.edge).toBeCloseTo(0.182, 12);
  });

  it("uses the Kelly budget when it is under the cap", () => {
    // p=0.55 at 50¢: f* = (0.55 − 0.5175)/0.4825 ≈ 0.0674; ¼ Kelly ≈ 1.68% of $100 = 16839 units → 3 contracts.
    const s = sizeOrder({ ...base, probability: 0.55, side: "yes", askUnits: 5000 });
    expect(s.contracts).toBe(3);
    expect(s.costUnits).toBe(15_600); // 15000 + 525 → 600
  });

  it("refuses a trade whose edge vanishes once the fee is rounded to the cent", () => {
    // p=0.518 at 50¢: the estimate (5175) shows edge and full Kelly on $1000 buys 1 contract (2 cost 10400 > 10360),
    // but 1 contract pays 200 units of fee → 5200 per contract > 5180.
    const s = sizeOrder({ ...base, bankrollUnits: 10_000_000, kellyMultiplier: 1, maxPositionFraction: 1, probability: 0.518, side: "yes", askUnits: 5000 });
    expect(s.contracts).toBe(0);
    expect(s.effectivePriceUnits).toBe(5200);
    expect(s.edge).toBeCloseTo(-0.002, 12);
  });

  it("steps down to a count whose rounded fee still leaves edge (5 contracts pay 1.8¢ each, 4 pay 1.75¢)", () => {
    // p=0.5178 at 50¢, full Kelly on $4500: budget 27979 units affords 5 (25900), but 5180/contract > 5178.
    const s = sizeOrder({ ...base, bankrollUnits: 45_000_000, kellyMultiplier: 1, maxPositionFraction: 1, probability: 0.5178, side: "yes", askUnits: 5000 });
    expect(s.contracts).toBe(4);
    expect(s.costUnits).toBe(20_700);
    expect(s.edge).toBeCloseTo(0.5178 - 0.5175, 12);
  });

  it("chooses NO (at 10000 − YES bid, belief 1 − p) when that side has the edge", () => {
    const c = chooseSide(0.2, { yesBid: 4000, yesAsk: 4200 });
    expect(c?.side).toBe("no");
    expect(c?.priceUnits).toBe(6000);
    expect(c?.edge).toBeCloseTo(0.8 - 0.6168, 12);
    expect(chooseSide(0.5, { yesBid: 4800, yesAsk: 5200 })).toBeNull();
    const s = sizeBestSide({ ...base, probability: 0.2, yesBid: 4000, yesAsk: 4200 });
    expect(s?.side).toBe("no");
    expect(s?.contracts).toBe(4); // 30000 / 6168 → 4; 24000 + 672 → 700 = 24700 ≤ 30000
  });
});

describe("Kelly properties", () => {
  const prob = fc.double({ min: 0, max: 1, noNaN: true });
  const ask = fc.integer({ min: 1, max: 9999 });
  const bankroll = fc.integer({ min: 0, max: 100_000_000 });

  it("f* is in [0, 1] and non-decreasing in p", () => {
    fc.assert(fc.property(prob, prob, fc.integer({ min: 0, max: 10_000 }), (a, b, c) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const fl = kellyFraction(lo, c), fh = kellyFraction(hi, c);
      expect(fl).toBeGreaterThanOrEqual(0);
      expect(fh).toBeLessThanOrEqual(1);
      expect(fl).toBeLessThanOrEqual(fh);
    }));
  });

  it("never bets without edge net of the exact fee, and never spends past the position cap", () => {
    fc.assert(fc.property(prob, ask, bankroll, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom("yes" as const, "no" as const),
      (p, a, bank, km, cap, side) => {
        const s = sizeOrder({ probability: p, side, askUnits: a, bankrollUnits: bank, kellyMultiplier: km, maxPositionFraction: cap });
        const belief = side === "yes" ? p : 1 - p;
        expect(Number.isInteger(s.contracts)).toBe(true);
        if (belief <= a / 10_000) expect(s.contracts).toBe(0);
        if (s.contracts > 0) {
          const fee = orderFee([fillFee(s.contracts, a, "taker")]);
          expect(s.costUnits).toBe(s.contracts * a + fee);
          expect(belief * s.contracts * 10_000).toBeGreaterThan(s.costUnits);
          expect(s.costUnits).toBeLessThanOrEqual(cap * bank);
          expect(s.costUnits).toBeLessThanOrEqual(km * s.kellyFraction * bank);
        }
      }));
  });

  it("contract count is non-decreasing in p (same side, ask, bankroll)", () => {
    fc.assert(fc.property(prob, prob, ask, bankroll, (a, b, price, bank) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const common = { ...base, bankrollUnits: bank, side: "yes" as const, askUnits: price };
      expect(sizeOrder({ ...common, probability: lo }).contracts).toBeLessThanOrEqual(sizeOrder({ ...common, probability: hi }).contracts);
    }), { numRuns: 2000 });
  });

  it("contract count is non-decreasing in p on a dense grid where cent rounding bites (bankroll $500)", () => {
    // Random draws rarely land where rounding flips the edge; this grid (asks 2¢–4¢, p up to 6%) found 111
    // flips in a version that refused the order instead of stepping down to a smaller count.
    let violations = 0;
    for (let price = 200; price <= 400; price++) {
      let prev = 0;
      for (let i = 0; i <= 240; i++) {
        const c = sizeOrder({ ...base, bankrollUnits: 5_000_000, side: "yes", askUnits: price, probability: i / 4000 }).contracts;
        if (c < prev) violations++;
        prev = c;
      }
    }
    expect(violations).toBe(0);
  });
});
