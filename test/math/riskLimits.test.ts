import { describe, expect, it } from "vitest";
import { checkRisk, DEFAULT_RISK_LIMITS, riskViolations, RiskLimitsSchema, type PortfolioView, type TradeProposal } from "../../harness/sizing/riskLimits.ts";

const view = (v: Partial<Omit<PortfolioView, "hasPositionIn">> & { held?: string[] } = {}): PortfolioView => {
  const held = new Set(v.held ?? []);
  return {
    openPositions: v.openPositions ?? held.size,
    hasPositionIn: (t) => held.has(t),
    tradesInLastHour: v.tradesInLastHour ?? 0,
    dayStartEquityUnits: v.dayStartEquityUnits ?? 1_000_000,
    equityUnits: v.equityUnits ?? 1_000_000,
    marketVolume: v.marketVolume === undefined ? 10_000 : v.marketVolume,
  };
};
const proposal = (p: Partial<TradeProposal> = {}): TradeProposal => ({ ticker: "KXA", confidence: 0.8, edge: 0.05, contracts: 5, costUnits: 25_900, ...p });
const L = DEFAULT_RISK_LIMITS;

describe("risk limits", () => {
  it("has the conservative profile as defaults and validates config", () => {
    expect(L).toEqual({
      kellyFraction: 0.25, minConfidence: 0.65, maxPositionFraction: 0.03, maxOpenPositions: 10, minVolume: 500,
      maxTradesPerHour: 10, minEdge: 0.02, dailyLossLimitFraction: 0.05, allowAddToPosition: false,
    });
    expect(RiskLimitsSchema.parse({ minEdge: 0.05 }).minEdge).toBe(0.05);
    expect(() => RiskLimitsSchema.parse({ maxOpenPositions: 2.5 })).toThrow();
  });

  it("passes a proposal inside every limit", () => {
    expect(checkRisk(L, view(), proposal())).toEqual({ ok: true });
  });

  const cases: Array<[string, PortfolioView, TradeProposal]> = [
    ["contracts", view(), proposal({ contracts: 0 })],
    ["minConfidence", view(), proposal({ confidence: 0.64 })],
    ["minEdge", view(), proposal({ edge: 0.019 })],
    ["minVolume", view({ marketVolume: 499 }), proposal()],
    ["minVolume", view({ marketVolume: null }), proposal()],
    ["dailyLossLimit", view({ equityUnits: 950_000 }), proposal()], // exactly 5% down
    ["maxTradesPerHour", view({ tradesInLastHour: 10 }), proposal()],
    ["existingPosition", view({ held: ["KXA"] }), proposal()],
    ["maxOpenPositions", view({ openPositions: 10 }), proposal()],
    ["maxPosition", view(), proposal({ costUnits: 30_001 })], // 3% of 1,000,000 = 30,000
  ];
  it.each(cases)("rejects by rule %s", (rule, v, p) => {
    const verdict = checkRisk(L, v, p);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.rule).toBe(rule);
      expect(verdict.detail.length).toBeGreaterThan(0);
    }
  });

  it("sits exactly on the limits without rejecting", () => {
    // 3% of current equity 950,001 is 28,500 units (floored).
    const v = view({ marketVolume: 500, tradesInLastHour: 9, openPositions: 9, equityUnits: 950_001 });
    expect(checkRisk(L, v, proposal({ confidence: 0.65, edge: 0.02, costUnits: 28_500 }))).toEqual({ ok: true });
  });

  it("lets a held market be added to when allowed, without counting a new open position", () => {
    const limits = { ...L, allowAddToPosition: true };
    expect(checkRisk(limits, view({ held: ["KXA"], openPositions: 10 }), proposal())).toEqual({ ok: true });
  });

  it("ignores unknown volume when minVolume is 0, and a gain is never a daily loss", () => {
    expect(checkRisk({ ...L, minVolume: 0 }, view({ marketVolume: null }), proposal())).toEqual({ ok: true });
    expect(checkRisk(L, view({ equityUnits: 2_000_000 }), proposal({ costUnits: 30_000 }))).toEqual({ ok: true });
  });

  it("lists every broken rule in a fixed order", () => {
    const all = riskViolations(L, view({ tradesInLastHour: 50, marketVolume: 1 }), proposal({ confidence: 0.1 }));
    expect(all.map((x) => x.rule)).toEqual(["minConfidence", "minVolume", "maxTradesPerHour"]);
  });
});
