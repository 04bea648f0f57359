import { describe, expect, it } from "vitest";
import { summarizeForecasts } from "../../harness/metrics/forecastSummary.ts";
import type { ForecastRow } from "../../harness/metrics/scoring.ts";

// A deterministic synthetic run: the model is sharper than the market on the same questions.
function syntheticRows(n: number): ForecastRow[] {
  const rows: ForecastRow[] = [];
  let x = 12345;
  const next = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  for (let i = 0; i < n; i++) {
    const truth = next();
    const outcome = next() < truth ? 1 : 0;
    rows.push({ p: Math.min(1, Math.max(0, truth + (next() - 0.5) * 0.1)), outcome, marketP: 0.5 + (truth - 0.5) * 0.5 });
  }
  return rows;
}

describe("summarizeForecasts", () => {
  const rows = syntheticRows(400);
  it("reports every number, with seeded intervals that repeat exactly", () => {
    const a = summarizeForecasts(rows, { bins: 10, bootstrap: { samples: 300, seed: 2025 } });
    const b = summarizeForecasts(rows, { bins: 10, bootstrap: { samples: 300, seed: 2025 } });
    expect(b).toEqual(a);
    expect(a.forecasts).toBe(400);
    expect(a.withMarket).toBe(400);
    expect(a.bins).toHaveLength(10);
    expect(a.logLossClip).toBe(1e-6);
    expect(a.brier).toBeLessThan(a.brierMarket);
    expect(a.brierSkill).toBeGreaterThan(0);
    const iv = a.intervals!;
    expect(iv.brier.lower).toBeLessThan(a.brier);
    expect(iv.brier.upper).toBeGreaterThan(a.brier);
    expect(iv.brierSkill!.estimate).toBeCloseTo(a.brierSkill, 12);
    expect(iv.brierMinusMarket!.estimate).toBeCloseTo(a.brier - a.brierMarket, 12);
    expect(iv.brierMinusMarket!.upper).toBeLessThan(0); // model better than market, with confidence
  });

  it("skips intervals without a bootstrap, and market fields without market prices", () => {
    const s = summarizeForecasts(rows.map((r) => ({ p: r.p, outcome: r.outcome })), { bins: 5 });
    expect(s.intervals).toBeNull();
    expect(s.withMarket).toBe(0);
    expect(s.brierSkill).toBeNaN();
    const s2 = summarizeForecasts(rows.map((r) => ({ p: r.p, outcome: r.outcome })), { bins: 5, bootstrap: { samples: 50, seed: 1 } });
    expect(s2.intervals?.brierSkill).toBeNull();
  });
});
