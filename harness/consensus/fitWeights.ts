/**
 * Walk-forward fit of consensus weights and an extremizing factor.
 *
 * Items are decisions the pool would have made (a market at a decision time,
 * each member's forecast as of then, and the market's outcome), ordered by
 * decision time. The fit never sees the future of what it is scored on: the
 * items are cut into folds+1 consecutive blocks; fold k is scored on block k
 * with weights fitted only on items made strictly before block k's first
 * decision AND whose outcome was known (`known`, the settle time) strictly
 * before it: what a forecaster could have fitted on when the fold starts. In-sample scores (fit
 * and score on everything) are reported beside the out-of-sample ones so the
 * gap shows how much the fit overfits. Pure and deterministic.
 */
import { clipProbability, pool, type PoolKind } from "./pools.ts";

export type FitLoss = "log_loss" | "brier";

export interface FitItem {
  /** Market id, for reports and for the test that checks fold boundaries. */
  readonly key: string;
  /** When the pool would have decided (epoch ms): the walk-forward order. */
  readonly time: number;
  /** When the outcome became known (settle time, epoch ms); absent: at `time`. */
  readonly known?: number;
  readonly outcome: 0 | 1;
  /** One probability per model, in the order of FitOptions.models. */
  readonly probabilities: readonly number[];
}

export interface FitOptions {
  readonly models: readonly string[];
  readonly pool: PoolKind;
  readonly loss: FitLoss;
  /** Number of out-of-sample folds (blocks after the first). */
  readonly folds: number;
  /** A fold with fewer training items than this is skipped. */
  readonly minTrain: number;
  readonly iterations: number;
}

export const DEFAULT_FIT_OPTIONS: Omit<FitOptions, "models"> = {
  pool: "log-odds",
  loss: "log_loss",
  folds: 4,
  minTrain: 10,
  iterations: 400,
};

export interface Combination {
  readonly weights: readonly number[];
  readonly extremize: number;
}

export interface FoldReport {
  readonly fold: number;
  readonly trainKeys: readonly string[];
  readonly testKeys: readonly string[];
  readonly trainMaxTime: number;
  readonly testMinTime: number;
  readonly fitted: Combination;
  readonly bestSingleModel: string;
  readonly scores: { readonly fitted: number; readonly equal: number; readonly bestSingle: number };
}

export interface ScoreSet {
  readonly n: number;
  readonly fitted: number;
  readonly equal: number;
  readonly bestSingle: { readonly model: string; readonly score: number };
  readonly perModel: Readonly<Record<string, number>>;
}

export interface FitResult {
  readonly models: readonly string[];
  readonly pool: PoolKind;
  readonly loss: FitLoss;
  /** Fitted on every item: the combination to deploy. */
  readonly final: Combination;
  readonly inSample: ScoreSet;
  /** Null when there were too few items for one fold. */
  readonly outOfSample: ScoreSet | null;
  readonly folds: readonly FoldReport[];
}

export function itemLoss(loss: FitLoss, probability: number, outcome: 0 | 1): number {
  if (loss === "brier") return (probability - outcome) ** 2;
  const p = clipProbability(probability);
  return -(outcome === 1 ? Math.log(p) : Math.log(1 - p));
}

export function meanLoss(loss: FitLoss, items: readonly FitItem[], combine: (item: FitItem) => number): number {
  if (items.length === 0) return Number.NaN;
  let sum = 0;
  for (const item of items) sum += itemLoss(loss, combine(item), item.outcome);
  return sum / items.length;
}

function combineWith(kind: PoolKind, c: Combination): (item: FitItem) => number {
  return (item) => pool(kind, item.probabilities, c.weights, c.extremize);
}

const MIN_EXTREMIZE = 0.25;
const MAX_EXTREMIZE = 5;

function softmax(theta: readonly number[]): number[] {
  const m = Math.max(...theta);
  const e = theta.map((t) => Math.exp(t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function toCombination(params: readonly number[], k: number): Combination {
  const a = Math.exp(params[k] ?? 0);
  return { weights: softmax(params.slice(0, k)), extremize: Math.min(MAX_EXTREMIZE, Math.max(MIN_EXTREMIZE, a)) };
}

/**
 * Minimise the mean loss over weights on the simplex (softmax parameters)
 * and log of the extremizing factor, by Adam on central-difference gradients
 * from equal weights and factor 1. Deterministic: same items, same answer.
 */
export function fitCombination(items: readonly FitItem[], k: number, kind: PoolKind, loss: FitLoss, iterations: number): Combination {
  if (items.length === 0) throw new RangeError("fit: no items to fit on");
  const params = new Array<number>(k + 1).fill(0);
  const objective = (p: readonly number[]): number => {
    const c = toCombination(p, k);
    // A small ridge on the softmax logits keeps them bounded when a weight wants to go to 0.
    let ridge = 0;
    for (let i = 0; i < k; i++) ridge += (p[i] ?? 0) ** 2;
    return meanLoss(loss, items, combineWith(kind, c)) + 1e-5 * ridge;
  };
  const m = new Array<number>(k + 1).fill(0);
  const v = new Array<number>(k + 1).fill(0);
  const lr = 0.05;
  const h = 1e-4;
  for (let t = 1; t <= iterations; t++) {
    for (let i = 0; i <= k; i++) {
      const up = params.slice();
      const down = params.slice();
      up[i] = (up[i] ?? 0) + h;
      down[i] = (down[i] ?? 0) - h;
      const g = (objective(up) - objective(down)) / (2 * h);
      m[i] = 0.9 * (m[i] ?? 0) + 0.1 * g;
      v[i] = 0.999 * (v[i] ?? 0) + 0.001 * g * g;
      const mHat = (m[i] ?? 0) / (1 - 0.9 ** t);
      const vHat = (v[i] ?? 0) / (1 - 0.999 ** t);
      params[i] = (params[i] ?? 0) - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
    params[k] = Math.min(Math.log(MAX_EXTREMIZE), Math.max(Math.log(MIN_EXTREMIZE), params[k] ?? 0));
  }
  return toCombination(params, k);
}

function equalCombination(k: number): Combination {
  return { weights: new Array<number>(k).fill(1 / k), extremize: 1 };
}

function singleScores(items: readonly FitItem[], models: readonly string[], loss: FitLoss): Record<string, number> {
  const out: Record<string, number> = {};
  models.forEach((model, i) => {
    out[model] = meanLoss(loss, items, (item) => item.probabilities[i] ?? Number.NaN);
  });
  return out;
}

function bestOf(scores: Readonly<Record<string, number>>): { model: string; score: number } {
  let best = { model: "", score: Number.POSITIVE_INFINITY };
  for (const [model, score] of Object.entries(scores)) if (score < best.score) best = { model, score };
  return best;
}

/** Sort by time then key so ties break the same way on every machine. */
export function orderItems(items: readonly FitItem[]): FitItem[] {
  return [...items].sort((a, b) => a.time - b.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The walk-forward splits: for each fold, the test block and the training
 * set, which holds only items decided, and resolved, strictly before the
 * block's first decision.
 */
export function walkForwardSplits(items: readonly FitItem[], folds: number, minTrain: number): Array<{ train: FitItem[]; test: FitItem[] }> {
  const sorted = orderItems(items);
  const blocks = folds + 1;
  const splits: Array<{ train: FitItem[]; test: FitItem[] }> = [];
  for (let b = 1; b < blocks; b++) {
    const start = Math.floor((b * sorted.length) / blocks);
    const end = Math.floor(((b + 1) * sorted.length) / blocks);
    const test = sorted.slice(start, end);
    const first = test[0];
    if (!first) continue;
    const train = sorted.filter((item) => item.time < first.time && (item.known ?? item.time) < first.time);
    if (train.length < minTrain) continue;
    splits.push({ train, test });
  }
  return splits;
}

export function fitWeightsWalkForward(items: readonly FitItem[], options: FitOptions): FitResult {
  const k = options.models.length;
  if (k === 0) throw new RangeError("fit: no models");
  for (const item of items) {
    if (item.probabilities.length !== k) {
      throw new RangeError(`fit: item ${item.key} has ${item.probabilities.length} forecasts for ${k} models`);
    }
  }
  const { pool: kind, loss } = options;
  const equal = equalCombination(k);

  const final = fitCombination(items, k, kind, loss, options.iterations);
  const inPerModel = singleScores(items, options.models, loss);
  const inSample: ScoreSet = {
    n: items.length,
    fitted: meanLoss(loss, items, combineWith(kind, final)),
    equal: meanLoss(loss, items, combineWith(kind, equal)),
    bestSingle: bestOf(inPerModel),
    perModel: inPerModel,
  };

  const foldReports: FoldReport[] = [];
  let sumFitted = 0;
  let sumEqual = 0;
  let sumBest = 0;
  const allTest: FitItem[] = [];
  walkForwardSplits(items, options.folds, options.minTrain).forEach(({ train, test }, i) => {
    const fitted = fitCombination(train, k, kind, loss, options.iterations);
    // The best single model is chosen on the training data too: choosing it on the test block would be lookahead.
    const best = bestOf(singleScores(train, options.models, loss));
    const bestIndex = options.models.indexOf(best.model);
    const scores = {
      fitted: meanLoss(loss, test, combineWith(kind, fitted)),
      equal: meanLoss(loss, test, combineWith(kind, equal)),
      bestSingle: meanLoss(loss, test, (item) => item.probabilities[bestIndex] ?? Number.NaN),
    };
    sumFitted += scores.fitted * test.length;
    sumEqual += scores.equal * test.length;
    sumBest += scores.bestSingle * test.length;
    allTest.push(...test);
    foldReports.push({
      fold: i + 1,
      trainKeys: train.map((x) => x.key),
      testKeys: test.map((x) => x.key),
      trainMaxTime: Math.max(...train.map((x) => x.time)),
      testMinTime: Math.min(...test.map((x) => x.time)),
      fitted,
      bestSingleModel: best.model,
      scores,
    });
  });

  let outOfSample: ScoreSet | null = null;
  if (allTest.length > 0) {
    const perModel = singleScores(allTest, options.models, loss);
    outOfSample = {
      n: allTest.length,
      fitted: sumFitted / allTest.length,
      equal: sumEqual / allTest.length,
      bestSingle: { model: foldReports.map((f) => f.bestSingleModel).join(" → "), score: sumBest / allTest.length },
      perModel,
    };
  }
  return { models: options.models, pool: kind, loss, final, inSample, outOfSample, folds: foldReports };
}
