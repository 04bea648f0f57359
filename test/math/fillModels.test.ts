import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  fillAgainstBook, fillAgainstQuote, fillAgainstTradePrint, filledContracts, fillNotional, type BookState, type OrderIntent,
} from "../../harness/broker/fillModels.ts";

const order = (o: Partial<OrderIntent>): OrderIntent => ({ ticker: "KXT-1", side: "yes", action: "buy", limitUnits: 5500, contracts: 10, ...o });

describe("quote fill model", () => {
  const q = { yesBid: 4800, yesAsk: 5200 };
  it("buys YES at the ask and sells YES at the bid when marketable", () => {
    expect(fillAgainstQuote(order({}), q)).toEqual([{ priceUnits: 5200, contracts: 10, liquidity: "taker" }]);
    expect(fillAgainstQuote(order({ limitUnits: 5199 }), q)).toEqual([]);
    expect(fillAgainstQuote(order({ action: "sell", limitUnits: 4800 }), q)).toEqual([{ priceUnits: 4800, contracts: 10, liquidity: "taker" }]);
    expect(fillAgainstQuote(order({ action: "sell", limitUnits: 4801 }), q)).toEqual([]);
  });
  it("mirrors NO through 10000 − price: NO ask = 10000 − YES bid, NO bid = 10000 − YES ask", () => {
    expect(fillAgainstQuote(order({ side: "no", limitUnits: 5200 }), q)[0]?.priceUnits).toBe(5200);
    expect(fillAgainstQuote(order({ side: "no", limitUnits: 5100 }), q)).toEqual([]);
    expect(fillAgainstQuote(order({ side: "no", action: "sell", limitUnits: 4700 }), q)[0]?.priceUnits).toBe(4800);
  });
  it("caps size at what the quote shows, and at the configured cap when it shows none", () => {
    expect(fillAgainstQuote(order({}), { ...q, yesAskSize: 3 })[0]?.contracts).toBe(3);
    expect(fillAgainstQuote(order({}), q, { maxContractsWithoutSize: 4 })[0]?.contracts).toBe(4);
    expect(fillAgainstQuote(order({}), { ...q, yesAskSize: 0 })).toEqual([]);
  });
  it("does not fill against a missing side, and rejects bad orders", () => {
    expect(fillAgainstQuote(order({}), { yesBid: 4800, yesAsk: null })).toEqual([]);
    expect(() => fillAgainstQuote(order({ contracts: 1.5 }), q)).toThrow(/KXT-1: contracts/);
    expect(() => fillAgainstQuote(order({ limitUnits: 0 }), q)).toThrow(/limitUnits/);
  });
});

describe("book fill model", () => {
  // YES bids 48¢×10, 47¢×20; NO bids 50¢×5, 49¢×10 → YES asks 50¢×5, 51¢×10. Given out of order on purpose.
  const book: BookState = { yes: [[4700, 20], [4800, 10]], no: [[4900, 10], [5000, 5]] };
  it("walks YES asks (mirrored NO bids) best first up to the limit", () => {
    expect(fillAgainstBook(order({ contracts: 12, limitUnits: 5100 }), book)).toEqual([
      { priceUnits: 5000, contracts: 5, liquidity: "taker" },
      { priceUnits: 5100, contracts: 7, liquidity: "taker" },
    ]);
    expect(fillAgainstBook(order({ contracts: 12, limitUnits: 5050 }), book)).toEqual([{ priceUnits: 5000, contracts: 5, liquidity: "taker" }]);
  });
  it("buys NO by hitting YES bids at 10000 − bid, and sells YES into YES bids", () => {
    const noFills = fillAgainstBook(order({ side: "no", contracts: 15, limitUnits: 5300 }), book);
    expect(noFills).toEqual([
      { priceUnits: 5200, contracts: 10, liquidity: "taker" },
      { priceUnits: 5300, contracts: 5, liquidity: "taker" },
    ]);
    expect(fillAgainstBook(order({ action: "sell", contracts: 40, limitUnits: 4700 }), book)).toEqual([
      { priceUnits: 4800, contracts: 10, liquidity: "taker" },
      { priceUnits: 4700, contracts: 20, liquidity: "taker" },
    ]);
    expect(filledContracts(noFills)).toBe(15);
    expect(fillNotional(noFills)).toBe(10 * 5200 + 5 * 5300);
  });
  it("property: never overfills, every fill at or through the limit, prices worsen monotonically", () => {
    const level = fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 50 }));
    fc.assert(fc.property(
      fc.array(level, { maxLength: 8 }), fc.array(level, { maxLength: 8 }),
      fc.constantFrom("yes" as const, "no" as const), fc.constantFrom("buy" as const, "sell" as const),
      fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 200 }),
      (yes, no, side, action, limitUnits, contracts) => {
        const fills = fillAgainstBook({ ticker: "T", side, action, limitUnits, contracts }, { yes, no });
        expect(filledContracts(fills)).toBeLessThanOrEqual(contracts);
        for (let i = 0; i < fills.length; i++) {
          const f = fills[i]!;
          expect(f.contracts).toBeGreaterThan(0);
          if (action === "buy") expect(f.priceUnits).toBeLessThanOrEqual(limitUnits);
          else expect(f.priceUnits).toBeGreaterThanOrEqual(limitUnits);
          if (i > 0) {
            const prev = fills[i - 1]!.priceUnits;
            if (action === "buy") expect(f.priceUnits).toBeGreaterThanOrEqual(prev);
            else expect(f.priceUnits).toBeLessThanOrEqual(prev);
          }
        }
      },
    ));
  });
});

describe("trade-print fill model", () => {
  const opts = { halfSpreadUnits: 100, participation: 0.1 };
  const print = { yesPrice: 5000, count: 100, takerSide: "yes" as const };
  it("fills a buy at print + half-spread when that is at or through the limit, capped by participation", () => {
    expect(fillAgainstTradePrint({ order: order({ limitUnits: 5100, contracts: 50 }), remaining: 50 }, print, opts))
      .toEqual([{ priceUnits: 5100, contracts: 10, liquidity: "taker" }]);
    expect(fillAgainstTradePrint({ order: order({ limitUnits: 5099 }), remaining: 10 }, print, opts)).toEqual([]);
  });
  it("never fills more than remains, mirrors NO prices, and sells at print − half-spread", () => {
    expect(fillAgainstTradePrint({ order: order({ contracts: 10 }), remaining: 3 }, print, opts)[0]?.contracts).toBe(3);
    const no = fillAgainstTradePrint({ order: order({ side: "no", limitUnits: 3200 }), remaining: 10 }, { ...print, yesPrice: 6900 }, opts);
    expect(no).toEqual([{ priceUnits: 3200, contracts: 10, liquidity: "taker" }]);
    const sell = fillAgainstTradePrint({ order: order({ action: "sell", limitUnits: 4900 }), remaining: 10 }, print, opts);
    expect(sell[0]?.priceUnits).toBe(4900);
  });
  it("keeps participation exact despite float products (0.29 × 100 = 29)", () => {
    const f = fillAgainstTradePrint({ order: order({ contracts: 100 }), remaining: 100 }, print, { halfSpreadUnits: 0, participation: 0.29 });
    expect(f[0]?.contracts).toBe(29);
    expect(() => fillAgainstTradePrint({ order: order({}), remaining: 1 }, print, { halfSpreadUnits: 0, participation: 0 })).toThrow(/participation/);
  });
});
