import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fillOnPrint, printReach, restingYesQuote, type OrderIntent, type TradePrint } from "../../harness/broker/fillModels.ts";

const order = (o: Partial<OrderIntent>): OrderIntent => ({ ticker: "KXT-1", side: "yes", action: "buy", limitUnits: 5500, contracts: 10, ...o });
const print = (yesPrice: number, takerSide: "yes" | "no", count = 100): TradePrint => ({ yesPrice, takerSide, count });
const opts = { participation: 0.1, queueAheadContracts: null };

describe("print-maker fill model", () => {
  it("rests a buy YES / sell NO as a YES bid and a sell YES / buy NO as a YES ask, NO prices mirrored", () => {
    expect(restingYesQuote(order({}))).toEqual({ book: "bid", yesPrice: 5500 });
    expect(restingYesQuote(order({ side: "no", action: "sell", limitUnits: 4500 }))).toEqual({ book: "bid", yesPrice: 5500 });
    expect(restingYesQuote(order({ action: "sell" }))).toEqual({ book: "ask", yesPrice: 5500 });
    expect(restingYesQuote(order({ side: "no", limitUnits: 3000 }))).toEqual({ book: "ask", yesPrice: 7000 });
  });

  it("a YES bid is reached only by sellers of YES at or below it; a YES ask only by buyers at or above it", () => {
    const bid = order({});
    expect(printReach(bid, print(5400, "no"))).toBe("through");
    expect(printReach(bid, print(5500, "no"))).toBe("at");
    expect(printReach(bid, print(5600, "no"))).toBe("none");
    expect(printReach(bid, print(2000, "yes"))).toBe("none"); // a buyer far below: not a trade against a bid
    const ask = order({ side: "no", limitUnits: 3000 }); // YES ask at 7000
    expect(printReach(ask, print(7100, "yes"))).toBe("through");
    expect(printReach(ask, print(7000, "yes"))).toBe("at");
    expect(printReach(ask, print(9000, "no"))).toBe("none");
  });

  it("fills at its own limit as a maker, capped by participation and by what remains", () => {
    expect(fillOnPrint({ order: order({}), remaining: 10, queueAhead: null }, print(2100, "no", 50), opts).fills).toEqual([
      { priceUnits: 5500, contracts: 5, liquidity: "maker" },
    ]);
    expect(fillOnPrint({ order: order({}), remaining: 3, queueAhead: null }, print(2100, "no", 500), opts).fills).toEqual([
      { priceUnits: 5500, contracts: 3, liquidity: "maker" },
    ]);
    // NO buy at 0.30 (YES ask 0.70) lifted by a YES buyer at 0.75: filled at 0.30 for NO.
    expect(fillOnPrint({ order: order({ side: "no", limitUnits: 3000 }), remaining: 10, queueAhead: null }, print(7500, "yes", 100), opts).fills).toEqual([
      { priceUnits: 3000, contracts: 10, liquidity: "maker" },
    ]);
  });

  it("prints at its price never fill it when the queue ahead is unknown, and use up a known queue first", () => {
    expect(fillOnPrint({ order: order({}), remaining: 10, queueAhead: null }, print(5500, "no", 10_000), opts)).toEqual({ fills: [], queueAhead: null });
    const q = { participation: 1, queueAheadContracts: 120 };
    const a = fillOnPrint({ order: order({}), remaining: 10, queueAhead: 120 }, print(5500, "no", 100), q);
    expect(a).toEqual({ fills: [], queueAhead: 20 });
    const b = fillOnPrint({ order: order({}), remaining: 10, queueAhead: a.queueAhead }, print(5500, "no", 25), q);
    expect(b).toEqual({ fills: [{ priceUnits: 5500, contracts: 5, liquidity: "maker" }], queueAhead: 0 });
    // A print through our price does not wait for the queue: it swept the whole level.
    expect(fillOnPrint({ order: order({}), remaining: 10, queueAhead: 500 }, print(5400, "no", 10), q).fills[0]?.contracts).toBe(10);
  });

  it("property: every fill is at the limit, a maker fill, never more than remains or the participation cap, and only against a taker on the other side", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("yes" as const, "no" as const),
        fc.constantFrom("buy" as const, "sell" as const),
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 9999 }),
        fc.constantFrom("yes" as const, "no" as const),
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
        (side, action, limitUnits, remaining, yesPrice, takerSide, count, participation, queueAhead) => {
          const o = order({ side, action, limitUnits, contracts: remaining });
          const { fills } = fillOnPrint({ order: o, remaining, queueAhead }, { yesPrice, takerSide, count }, { participation, queueAheadContracts: queueAhead });
          for (const f of fills) {
            expect(f.priceUnits).toBe(limitUnits);
            expect(f.liquidity).toBe("maker");
            expect(f.contracts).toBeGreaterThan(0);
            expect(f.contracts).toBeLessThanOrEqual(Math.min(remaining, Math.floor(participation * count + 1e-9)));
            const { book } = restingYesQuote(o);
            expect(takerSide).toBe(book === "bid" ? "no" : "yes");
          }
        },
      ),
    );
  });
});
