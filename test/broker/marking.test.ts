/** Marking to bid (harness/portfolio/marking.ts): the portfolio's equity, the day's start and the daily loss limit see marks, not cost. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { markToBid } from "../../harness/portfolio/marking.ts";
import { Portfolio } from "../../harness/portfolio/portfolio.ts";
import { checkRisk, DEFAULT_RISK_LIMITS } from "../../harness/sizing/riskLimits.ts";

const DAY = 86_400_000;

function longYes(p: Portfolio, ticker: string, contracts: number, priceUnits: number): void {
  const id = `o-${ticker}`;
  p.addPending({ clientOrderId: id, order: { ticker, side: "yes", action: "buy", limitUnits: priceUnits, contracts, reason: "t" }, submitTs: 0, maxFeeUnits: 0 });
  p.fill(id, "v", { priceUnits, contracts, feeUnits: 0, leaves: 0 });
  p.end(id, 0);
}

describe("marking to bid", () => {
  it("values long YES at the YES bid and long NO at 10000 − YES ask; a missing side is 0; nothing known is null", () => {
    expect(markToBid({ yes: 10, no: 0 }, 4200, 4400)).toBe(42_000);
    expect(markToBid({ yes: 0, no: 10 }, 4200, 4400)).toBe(56_000);
    expect(markToBid({ yes: 10, no: 0 }, null, 4400)).toBe(0);
    expect(markToBid({ yes: 10, no: 0 }, null, null)).toBeNull();
  });

  it("property: a mark never exceeds what the position pays at best ($1 a contract) and never falls below 0", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.option(fc.integer({ min: 1, max: 9999 })), fc.option(fc.integer({ min: 1, max: 9999 })), (yes, no, bid, ask) => {
        const v = markToBid({ yes, no }, bid, ask);
        if (bid === null && ask === null) expect(v).toBeNull();
        else {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual((yes + no) * 10_000);
        }
      }),
    );
  });

  it("equity, the day's start equity and the daily loss limit read marked positions", () => {
    const p = new Portfolio(1_000_000);
    p.observeTime(0);
    longYes(p, "KXA", 100, 5000); // cost 500,000
    expect(p.equityUnits()).toBe(1_000_000); // no price seen yet: at cost
    p.mark("KXA", (pos) => markToBid(pos, 3000, 3200));
    expect(p.equityUnits()).toBe(800_000);
    p.observeTime(DAY); // a new UTC day starts at the marked equity, not at cost
    expect(p.dayStartEquityUnits()).toBe(800_000);
    p.mark("KXA", (pos) => markToBid(pos, 2000, 2200));
    // Unrealized loss of 100,000 ≥ 5% of 800,000: the limit holds new trades though nothing has settled.
    const verdict = checkRisk(DEFAULT_RISK_LIMITS, {
      openPositions: p.openPositionCount(),
      hasPositionIn: (t) => p.position(t) !== undefined,
      tradesInLastHour: 0,
      dayStartEquityUnits: p.dayStartEquityUnits(),
      equityUnits: p.equityUnits(),
      marketVolume: 10_000,
    }, { ticker: "KXB", confidence: 0.9, edge: 0.1, contracts: 1, costUnits: 5000 });
    expect(verdict).toMatchObject({ ok: false, rule: "dailyLossLimit" });
  });
});
