import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bootstrapInterval } from "../../harness/metrics/bootstrap.ts";
import { clusterSums } from "../../harness/metrics/clusterSums.ts";

describe("clusterSums", () => {
  it("sums per cluster in first-seen order", () => {
    const c = clusterSums(["b", "a", "b"], { x: [1, 2, 3] });
    expect(c.n).toBe(2);
    expect(c.sums.x).toEqual([4, 2]);
    expect(c.count).toEqual([2, 1]);
  });

  it("over all clusters, the ratio is the plain mean of the rows (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("m1", "m2", "m3", "m4"), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 60 }), (rows) => {
        const c = clusterSums(rows.map((r) => r[0]), { x: rows.map((r) => r[1]) });
        const all = Uint32Array.from({ length: c.n }, (_, i) => i);
        const mean = rows.reduce((a, r) => a + r[1], 0) / rows.length;
        expect(c.ratio(all, c.sums.x, c.count)).toBeCloseTo(mean, 12);
      }),
    );
  });

  it("gives a wider interval than a row bootstrap when rows of a market move together", () => {
    // 10 markets, 20 identical forecasts each: the information is 10 draws, not 200.
    const keys: string[] = [];
    const err: number[] = [];
    for (let m = 0; m < 10; m++) for (let k = 0; k < 20; k++) (keys.push(`m${m}`), err.push(m % 2 === 0 ? 0.04 : 0.64));
    const c = clusterSums(keys, { e: err });
    const opts = { samples: 2000, seed: 7 };
    const byMarket = bootstrapInterval(c.n, (idx) => c.ratio(idx, c.sums.e, c.count), opts);
    const byRow = bootstrapInterval(err.length, (idx) => idx.reduce((a, i) => a + err[i]!, 0) / idx.length, opts);
    expect(byMarket.upper - byMarket.lower).toBeGreaterThan(2 * (byRow.upper - byRow.lower));
  });
});
