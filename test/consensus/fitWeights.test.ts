import { describe, expect, it } from "vitest";
import { DEFAULT_FIT_OPTIONS, fitWeightsWalkForward, walkForwardSplits, type FitItem } from "../../harness/consensus/fitWeights.ts";
import { seededRandom } from "../../harness/random/seededRandom.ts";


/** Markets with a true probability q; "sharp" forecasts q with little noise, "noisy" is nearly a coin. */
function markets(n: number, seed: number): FitItem[] {
  const r = seededRandom(seed);
  const items: FitItem[] = [];
  for (let i = 0; i < n; i++) {
    const q = 0.05 + 0.9 * r();
    const outcome = r() < q ? 1 : 0;
    const sharp = Math.min(0.99, Math.max(0.01, q + 0.05 * (r() - 0.5)));
    const noisy = Math.min(0.99, Math.max(0.01, 0.5 + 0.6 * (r() - 0.5)));
    items.push({ key: `M${String(i).padStart(3, "0")}`, time: 1_000_000 + i * 3_600_000, outcome, probabilities: [sharp, noisy] });
  }
  return items;
}

const options = { ...DEFAULT_FIT_OPTIONS, models: ["sharp", "noisy"], iterations: 250 };

describe("walk-forward consensus fit", () => {
  it("scores every fold only on markets later than every market it was fitted on", () => {
    // Shuffled input with ties in time: the split must still never train on the same or a later time.
    const base = markets(120, 1);
    const tied = base.map((m, i) => ({ ...m, time: 1_000_000 + Math.floor(i / 3) * 3_600_000 }));
    const shuffled = [...tied].sort((a, b) => (a.key.charCodeAt(3) % 7) - (b.key.charCodeAt(3) % 7));
    const result = fitWeightsWalkForward(shuffled, options);
    const timeOf = new Map(tied.map((m) => [m.key, m.time]));
    expect(result.folds.length).toBe(DEFAULT_FIT_OPTIONS.folds);
    for (const fold of result.folds) {
      const latestTrain = Math.max(...fold.trainKeys.map((k) => timeOf.get(k)!));
      const earliestTest = Math.min(...fold.testKeys.map((k) => timeOf.get(k)!));
      expect(latestTrain).toBeLessThan(earliestTest);
      expect(fold.trainMaxTime).toBe(latestTrain);
      expect(fold.testMinTime).toBe(earliestTest);
      for (const k of fold.testKeys) expect(fold.trainKeys).not.toContain(k);
    }
    // Out-of-sample n is the union of test blocks: everything after the first block.
    expect(result.outOfSample?.n).toBe(result.folds.reduce((s, f) => s + f.testKeys.length, 0));
  });

  it("a fold's fitted weights do not change when later outcomes change (no lookahead)", () => {
    const items = markets(100, 2);
    const splits = walkForwardSplits(items, 4, 10);
    const firstTestStart = splits[0]!.test[0]!.time;
    // Flip every outcome from the first test block on: the future now says the opposite.
    const flipped = items.map((m) => (m.time >= firstTestStart ? { ...m, outcome: (1 - m.outcome) as 0 | 1 } : m));
    const a = fitWeightsWalkForward(items, options).folds[0]!;
    const b = fitWeightsWalkForward(flipped, options).folds[0]!;
    expect(b.fitted.weights).toEqual(a.fitted.weights);
    expect(b.fitted.extremize).toBe(a.fitted.extremize);
    expect(b.scores.fitted).not.toBe(a.scores.fitted);
  });

  it("trains a fold only on decisions made and resolved before it starts: an early forecast on a market settled later waits", () => {
    // Each decision's market settles 30 hours after it; decisions are hourly.
    const items = markets(100, 4).map((m) => ({ ...m, known: m.time + 30 * 3_600_000 }));
    for (const { train, test } of walkForwardSplits(items, 4, 10)) {
      const start = test[0]!.time;
      for (const t of train) {
        expect(t.time).toBeLessThan(start);
        expect(t.known).toBeLessThan(start);
      }
      // Exactly the decisions resolved before the fold: the 30 made just before it are left out.
      expect(train.length).toBe(items.filter((m) => m.known < start).length);
      expect(items.filter((m) => m.time < start).length - train.length).toBe(30);
    }
  });

  it("puts the weight on the sharp model and beats equal weights out of sample", () => {
    const result = fitWeightsWalkForward(markets(200, 3), options);
    expect(result.final.weights[0]).toBeGreaterThan(0.8);
    expect(result.final.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 9);
    const oos = result.outOfSample!;
    expect(oos.fitted).toBeLessThan(oos.equal);
    expect(result.inSample.bestSingle.model).toBe("sharp");
    // In-sample fit is never worse than equal weights (it starts from them).
    expect(result.inSample.fitted).toBeLessThanOrEqual(result.inSample.equal + 1e-9);
  });

  it("fits Brier too, deterministically", () => {
    const items = markets(80, 4);
    const a = fitWeightsWalkForward(items, { ...options, loss: "brier", pool: "linear" });
    const b = fitWeightsWalkForward(items, { ...options, loss: "brier", pool: "linear" });
    expect(a).toEqual(b);
    expect(a.inSample.fitted).toBeLessThanOrEqual(a.inSample.equal + 1e-9);
  });

  it("skips folds with too little training data and says so with a null score", () => {
    const result = fitWeightsWalkForward(markets(12, 5), { ...options, minTrain: 20 });
    expect(result.folds).toHaveLength(0);
    expect(result.outOfSample).toBeNull();
  });
});
