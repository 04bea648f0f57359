/** ECE bins and accuracy exactly as documented (harness/metrics/calibration.ts, scoring.ts), at their edges. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binIndex, ece, reliabilityBins } from "../../harness/metrics/calibration.ts";
import { accuracy } from "../../harness/metrics/scoring.ts";

describe("reliability bin edges: bin k holds k/B ≤ p < (k+1)/B", () => {
  it("puts 0.8999999999999999 in the 0.8 bin although 0.8999999999999999 × 10 is exactly 9 in doubles", () => {
    expect(0.8999999999999999 * 10).toBe(9);
    expect(binIndex(0.8999999999999999, 10)).toBe(8);
    expect(binIndex(0.9, 10)).toBe(9);
    expect(binIndex(0.29999999999999993, 10)).toBe(2);
    expect(binIndex(0.3, 10)).toBe(3);
    expect(binIndex(0, 10)).toBe(0);
    expect(binIndex(1, 10)).toBe(9); // p = 1 falls in the last bin
    const bins = reliabilityBins([{ p: 0.8999999999999999, outcome: 1 }, { p: 0.9, outcome: 0 }], 10);
    expect(bins[8]!.count).toBe(1);
    expect(bins[9]!.count).toBe(1);
    // ECE with one row per bin: |0.8999999999999999 − 1| and |0.9 − 0|, weighted ½ each.
    expect(ece([{ p: 0.8999999999999999, outcome: 1 }, { p: 0.9, outcome: 0 }], 10)).toBeCloseTo(0.5 * (1 - 0.8999999999999999) + 0.5 * 0.9, 15);
  });

  it("property: every p in [0, 1) lands in the bin whose reported edges contain it", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 40 }), (p, B) => {
        const k = binIndex(p, B);
        const bin = reliabilityBins([{ p, outcome: 0 }], B)[k]!;
        expect(bin.count).toBe(1);
        expect(bin.lower <= p).toBe(true);
        expect(p < bin.upper).toBe(true);
      }),
    );
  });

  it("property: the edges themselves, k/B, open bin k", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), (B, j) => {
        const k = j % B;
        expect(binIndex(k / B, B)).toBe(k);
      }),
    );
  });
});

describe("accuracy at 0.5", () => {
  it("counts exactly 0.5 as half right whatever the outcome; just above 0.5 is a YES call", () => {
    expect(accuracy([{ p: 0.5, outcome: 1 }])).toBe(0.5);
    expect(accuracy([{ p: 0.5, outcome: 0 }])).toBe(0.5);
    expect(accuracy([{ p: 0.5000000000000001, outcome: 1 }])).toBe(1);
    expect(accuracy([{ p: 0.49999999999999994, outcome: 1 }])).toBe(0);
    expect(accuracy([{ p: 0.5, outcome: 1 }, { p: 0.9, outcome: 1 }, { p: 0.2, outcome: 1 }])).toBeCloseTo(1.5 / 3, 15);
  });

  it("property: accuracy of a set is the mean of each row's score, 0.5 rows scoring ½", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ p: fc.oneof(fc.constant(0.5), fc.double({ min: 0, max: 1, noNaN: true })), outcome: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 30 }), (rows) => {
        const each = rows.map((r): number => (r.p === 0.5 ? 0.5 : (r.p > 0.5 ? 1 : 0) === r.outcome ? 1 : 0));
        expect(accuracy(rows)).toBeCloseTo(each.reduce((a, b) => a + b, 0) / rows.length, 12);
      }),
    );
  });
});
