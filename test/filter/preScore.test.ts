import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { preScore, UNSEEN_SCORE } from "../../harness/filter/preScore.ts";
import type { PreScoreInputs } from "../../harness/filter/preScore.ts";

const scales = { priceChangePct: 2, volumeSpike: 3, volatility: 0.02, closingSoonMs: 3_600_000, newsRecentMs: 3_600_000 };
const quiet: PreScoreInputs = { priceChangePct: 0, volumeRatio: 0, volatility: 0, msToClose: 86_400_000, newsAgeMs: null, unseen: false };

const inputs = fc.record({
  priceChangePct: fc.double({ min: 0, max: 500, noNaN: true }),
  volumeRatio: fc.double({ min: 0, max: 100, noNaN: true }),
  volatility: fc.double({ min: 0, max: 0.5, noNaN: true }),
  msToClose: fc.integer({ min: -86_400_000, max: 10 * 86_400_000 }),
  newsAgeMs: fc.option(fc.integer({ min: 0, max: 10 * 3_600_000 }), { nil: null }),
  unseen: fc.boolean(),
});

describe("pre-score", () => {
  it("is 0 for a quiet market and 0.5 exactly at one trigger's threshold", () => {
    expect(preScore(quiet, scales)).toBe(0);
    expect(preScore({ ...quiet, priceChangePct: 2 }, scales)).toBeCloseTo(0.5, 12);
    expect(preScore({ ...quiet, volumeRatio: 3 }, scales)).toBeCloseTo(0.5, 12);
    expect(preScore({ ...quiet, volatility: 0.02 }, scales)).toBeCloseTo(0.5, 12);
  });

  it("combines signals as a noisy-or: two half signals make 0.75", () => {
    expect(preScore({ ...quiet, priceChangePct: 2, volumeRatio: 3 }, scales)).toBeCloseTo(0.75, 12);
  });

  it("fresh news is a full signal that fades linearly over newsRecentMs", () => {
    expect(preScore({ ...quiet, newsAgeMs: 0 }, scales)).toBe(1);
    expect(preScore({ ...quiet, newsAgeMs: 2_700_000 }, scales)).toBeCloseTo(0.25, 12);
    expect(preScore({ ...quiet, newsAgeMs: 3_600_001 }, scales)).toBe(0);
  });

  it("a market about to close scores up to 0.5; a never-called market scores UNSEEN_SCORE", () => {
    expect(preScore({ ...quiet, msToClose: 0 }, scales)).toBeCloseTo(0.5, 12);
    expect(preScore({ ...quiet, msToClose: 1_800_000 }, scales)).toBeCloseTo(0.25, 12);
    expect(preScore({ ...quiet, msToClose: -1 }, scales)).toBe(0);
    expect(preScore({ ...quiet, unseen: true }, scales)).toBe(UNSEEN_SCORE);
  });

  it("always lies in [0, 1]", () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const s = preScore(i, scales);
        return s >= 0 && s <= 1;
      }),
    );
  });

  it("never falls when any one signal grows", () => {
    fc.assert(
      fc.property(inputs, fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 0.3, noNaN: true }), (i, dPct, dVol) => {
        const s = preScore(i, scales);
        return (
          preScore({ ...i, priceChangePct: i.priceChangePct + dPct }, scales) >= s &&
          preScore({ ...i, volumeRatio: i.volumeRatio + dPct }, scales) >= s &&
          preScore({ ...i, volatility: i.volatility + dVol }, scales) >= s &&
          preScore({ ...i, unseen: true }, scales) >= s
        );
      }),
    );
  });
});
