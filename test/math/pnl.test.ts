import { describe, expect, it } from "vitest";
import { dailyCloses, dailyReturns, dailySharpe, maxDrawdown, roi, summarizePnl, totalReturn } from "../../harness/metrics/pnl.ts";

const t = (day: number, hour: number): number => Date.UTC(2025, 10, day, hour);
// $100 bankroll: +$1 on day 7, −$2 on day 8, nothing on day 9, +$3 on day 10.
const curve = [
  { ts: t(7, 1), equityUnits: 1_000_000 },
  { ts: t(7, 10), equityUnits: 1_010_000 },
  { ts: t(8, 12), equityUnits: 990_000 },
  { ts: t(10, 5), equityUnits: 1_020_000 },
];

describe("P&L metrics", () => {
  it("ROI on capital deployed and total return on bankroll", () => {
    expect(roi(5_000, 100_000)).toBe(0.05);
    expect(roi(5_000, 0)).toBeNaN();
    expect(totalReturn(1_000_000, 1_020_000)).toBeCloseTo(0.02, 15);
  });

  it("samples one close per UTC day, carrying an empty day forward", () => {
    expect(dailyCloses(curve).map((c) => c.equityUnits)).toEqual([1_010_000, 990_000, 990_000, 1_020_000]);
    expect(dailyCloses(curve)[2]?.dayStartMs).toBe(Date.UTC(2025, 10, 9));
  });

  it("daily Sharpe = mean/sd of daily returns, annualized by √365", () => {
    const r = [1_010_000 / 1_000_000 - 1, 990_000 / 1_010_000 - 1, 0, 1_020_000 / 990_000 - 1];
    expect(dailyReturns(curve)).toEqual(r);
    const m = (r[0]! + r[1]! + r[2]! + r[3]!) / 4;
    const sd = Math.sqrt(r.reduce((s, x) => s + (x - m) ** 2, 0) / 3);
    const s = dailySharpe(curve);
    expect(s.days).toBe(4);
    expect(s.dailySharpe).toBeCloseTo(m / sd, 12);
    expect(s.annualizedSharpe).toBeCloseTo((m / sd) * Math.sqrt(365), 10);
    expect(s.dailySharpe).toBeCloseTo(0.2457, 4); // by hand: mean 0.005125, sd 0.020859
  });

  it("has no Sharpe for a single day or a flat curve", () => {
    expect(dailySharpe(curve.slice(0, 2)).dailySharpe).toBeNull();
    expect(dailySharpe([{ ts: t(7, 1), equityUnits: 5 }, { ts: t(9, 1), equityUnits: 5 }]).dailySharpe).toBeNull();
  });

  it("max drawdown: $2 from the $101 peak", () => {
    const dd = maxDrawdown(curve);
    expect(dd.maxDrawdownUnits).toBe(20_000);
    expect(dd.maxDrawdownFraction).toBeCloseTo(20_000 / 1_010_000, 15);
    expect(dd.peakTs).toBe(t(7, 10));
    expect(dd.troughTs).toBe(t(8, 12));
    expect(maxDrawdown([]).maxDrawdownUnits).toBe(0);
  });

  it("summarizes a run and rejects a curve out of time order", () => {
    const s = summarizePnl(curve, 400_000);
    expect(s.netPnlUnits).toBe(20_000);
    expect(s.roi).toBe(0.05);
    expect(() => dailyCloses([curve[1]!, curve[0]!])).toThrow(/equity curve\[1\]/);
  });
});
