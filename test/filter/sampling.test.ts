import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SamplingConfig } from "../../harness/filter/filterConfig.ts";
import { adaptiveIntervalMs, levelBand, shouldSample } from "../../harness/filter/sampling.ts";

const cfg = (over: Record<string, unknown>) => SamplingConfig.parse({ enabled: true, ...over });

describe("sampling strategies", () => {
  it("any strategy samples a market never sampled", () => {
    for (const strategy of ["periodic", "change", "threshold", "adaptive"] as const) {
      expect(shouldSample(cfg({ strategy }), null, 0, 0.5, 0)).toBe(true);
    }
  });

  it("periodic: once per period", () => {
    const c = cfg({ strategy: "periodic", periodMs: 300_000 });
    const last = { ts: 1_000_000, price: 0.5 };
    expect(shouldSample(c, last, 1_299_999, 0.9, 1)).toBe(false);
    expect(shouldSample(c, last, 1_300_000, 0.5, 0)).toBe(true);
  });

  it("change: the price moved at least minChange dollars since the last sample", () => {
    const c = cfg({ strategy: "change", minChange: 0.02 });
    const last = { ts: 0, price: 0.5 };
    expect(shouldSample(c, last, 1, 0.519, 0)).toBe(false);
    expect(shouldSample(c, last, 1, 0.52, 0)).toBe(true);
    expect(shouldSample(c, last, 1, 0.48, 0)).toBe(true);
    expect(shouldSample(c, { ts: 0, price: 0.29 }, 1, 0.31, 0)).toBe(true); // 0.31 - 0.29 is 0.0199999 in floats
  });

  it("threshold: the price crossed a level since the last sample", () => {
    const c = cfg({ strategy: "threshold", levels: [0.25, 0.5, 0.75] });
    const last = { ts: 0, price: 0.45 };
    expect(shouldSample(c, last, 1, 0.49, 0)).toBe(false);
    expect(shouldSample(c, last, 1, 0.5, 0)).toBe(true);
    expect(shouldSample(c, last, 1, 0.2, 0)).toBe(true);
    expect(levelBand(0.8, [0.25, 0.5, 0.75])).toBe(3);
  });

  it("adaptive: the period is baseMs x target / volatility within [minMs, maxMs]", () => {
    const c = cfg({ strategy: "adaptive", baseMs: 600_000, minMs: 60_000, maxMs: 3_600_000, targetVolatility: 0.02 });
    expect(adaptiveIntervalMs(0.02, c)).toBe(600_000);
    expect(adaptiveIntervalMs(0.04, c)).toBe(300_000);
    expect(adaptiveIntervalMs(1, c)).toBe(60_000);
    expect(adaptiveIntervalMs(0, c)).toBe(3_600_000);
    const last = { ts: 0, price: 0.5 };
    expect(shouldSample(c, last, 299_999, 0.5, 0.04)).toBe(false);
    expect(shouldSample(c, last, 300_000, 0.5, 0.04)).toBe(true);
    expect(shouldSample(c, last, 300_000, 0.5, 0.02)).toBe(false); // calmer market: waits 600 s
  });

  it("adaptive period never grows with volatility and stays in bounds", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (a, b, minMs, span) => {
          const c = cfg({ strategy: "adaptive", minMs, maxMs: minMs + span });
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const iLo = adaptiveIntervalMs(lo, c);
          const iHi = adaptiveIntervalMs(hi, c);
          return iHi <= iLo && iLo <= c.maxMs && iHi >= c.minMs;
        },
      ),
    );
  });

  it("rejects minMs above maxMs, naming the field", () => {
    const r = SamplingConfig.safeParse({ minMs: 10, maxMs: 5 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["minMs"]);
  });
});
