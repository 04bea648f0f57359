/**
 * Proper scores of probability forecasts of binary outcomes.
 *
 * - Brier: mean (p − o)², in [0, 1]; 0 is a perfect forecaster, 0.25 is
 *   always saying 0.5.
 * - Log loss: mean −[o ln p + (1 − o) ln(1 − p)] with p clipped to
 *   [LOG_LOSS_EPSILON, 1 − LOG_LOSS_EPSILON] = [1e-6, 1 − 1e-6], so one
 *   forecast of exactly 0 or 1 that turns out wrong costs ln(1e6) ≈ 13.8
 *   instead of infinity. Models do answer 0 and 1; the clip keeps the mean
 *   finite and comparable across runs. Report it beside the Brier score.
 * - Brier skill against the market: 1 − Brier(model) / Brier(market), over
 *   the rows that carry the market's own price at the same decision time.
 *   Positive means the model beat the market.
 * - Accuracy: p > 0.5 calls YES, p < 0.5 calls NO; p = 0.5 counts as half
 *   right (a coin flip, neither right nor wrong).
 *
 * Every function takes the rows and, optionally, a list of row indices (a
 * bootstrap resample). Sums run in index order (see sum.ts).
 */
import { z } from "zod";
import { orderedSumBy } from "./sum.ts";

export const LOG_LOSS_EPSILON = 1e-6;

export interface ForecastRow {
  /** Forecast probability of YES, in [0, 1]. */
  p: number;
  /** 1 when YES happened. */
  outcome: 0 | 1;
  /** The market's YES probability at the same decision time (e.g. mid or last price), when known. */
  marketP?: number | null | undefined;
}

const prob = z.number().min(0).max(1);
export const ForecastRowSchema = z.object({
  p: prob,
  outcome: z.union([z.literal(0), z.literal(1)]),
  marketP: prob.nullable().optional(),
});

/** Throws a RangeError naming the first bad row; forecasts enter the metrics only through here or typed code. */
export function assertForecastRows(rows: readonly ForecastRow[], where = "forecast rows"): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!(r.p >= 0 && r.p <= 1)) throw new RangeError(`${where}[${i}].p must be in [0, 1], got ${String(r.p)}`);
    if (r.outcome !== 0 && r.outcome !== 1) throw new RangeError(`${where}[${i}].outcome must be 0 or 1, got ${String(r.outcome)}`);
    const m = r.marketP;
    if (m !== undefined && m !== null && !(m >= 0 && m <= 1)) throw new RangeError(`${where}[${i}].marketP must be in [0, 1], got ${String(m)}`);
  }
}

/** Indices to score: the given resample, or every row. */
export type RowIndices = ArrayLike<number>;

function rowAt(rows: readonly ForecastRow[], idx: RowIndices | undefined, k: number): ForecastRow {
  return rows[idx === undefined ? k : idx[k]!]!;
}

function count(rows: readonly ForecastRow[], idx: RowIndices | undefined): number {
  return idx === undefined ? rows.length : idx.length;
}

export function brierTerm(p: number, outcome: 0 | 1): number {
  const d = p - outcome;
  return d * d;
}

export function logLossTerm(p: number, outcome: 0 | 1): number {
  const q = p < LOG_LOSS_EPSILON ? LOG_LOSS_EPSILON : p > 1 - LOG_LOSS_EPSILON ? 1 - LOG_LOSS_EPSILON : p;
  return outcome === 1 ? -Math.log(q) : -Math.log(1 - q);
}

/** Mean Brier score; NaN when there are no rows. */
export function brier(rows: readonly ForecastRow[], idx?: RowIndices): number {
  const n = count(rows, idx);
  if (n === 0) return Number.NaN;
  return orderedSumBy(n, (k) => { const r = rowAt(rows, idx, k); return brierTerm(r.p, r.outcome); }) / n;
}

/** Mean log loss with p clipped to [1e-6, 1 − 1e-6]; NaN when there are no rows. */
export function logLoss(rows: readonly ForecastRow[], idx?: RowIndices): number {
  const n = count(rows, idx);
  if (n === 0) return Number.NaN;
  return orderedSumBy(n, (k) => { const r = rowAt(rows, idx, k); return logLossTerm(r.p, r.outcome); }) / n;
}

/**
 * Share of forecasts on the right side of 0.5; NaN when there are no rows.
 * A forecast of exactly 0.5 takes no side, so it counts half right whatever
 * the outcome (as a coin flip would score on average), rather than being
 * dropped (which would change n) or counted as a NO call. Only p === 0.5
 * exactly: 0.5000000000000001 is a YES call.
 */
export function accuracy(rows: readonly ForecastRow[], idx?: RowIndices): number {
  const n = count(rows, idx);
  if (n === 0) return Number.NaN;
  return orderedSumBy(n, (k) => {
    const r = rowAt(rows, idx, k);
    if (r.p === 0.5) return 0.5;
    return (r.p > 0.5 ? 1 : 0) === r.outcome ? 1 : 0;
  }) / n;
}

function hasMarket(r: ForecastRow): r is ForecastRow & { marketP: number } {
  return r.marketP !== undefined && r.marketP !== null;
}

/** Indices of the rows that carry a market price, in order. */
export function marketRowIndices(rows: readonly ForecastRow[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) if (hasMarket(rows[i]!)) out.push(i);
  return out;
}

/**
 * Brier of the model and of the market over the same rows (those with a
 * market price). NaN for both when no row has one.
 */
export function pairedBrier(rows: readonly ForecastRow[], idx?: RowIndices): { model: number; market: number; n: number } {
  let model = 0, market = 0, n = 0;
  let cm = 0, ck = 0; // compensation terms (Neumaier) for the two sums
  const total = count(rows, idx);
  for (let k = 0; k < total; k++) {
    const r = rowAt(rows, idx, k);
    if (!hasMarket(r)) continue;
    n++;
    const a = brierTerm(r.p, r.outcome);
    const t1 = model + a;
    cm += Math.abs(model) >= Math.abs(a) ? model - t1 + a : a - t1 + model;
    model = t1;
    const b = brierTerm(r.marketP, r.outcome);
    const t2 = market + b;
    ck += Math.abs(market) >= Math.abs(b) ? market - t2 + b : b - t2 + market;
    market = t2;
  }
  if (n === 0) return { model: Number.NaN, market: Number.NaN, n: 0 };
  return { model: (model + cm) / n, market: (market + ck) / n, n };
}

/** 1 − Brier(model)/Brier(market) over rows with a market price; NaN when none, or when the market was perfect. */
export function brierSkill(rows: readonly ForecastRow[], idx?: RowIndices): number {
  const { model, market, n } = pairedBrier(rows, idx);
  if (n === 0 || !(market > 0)) return Number.NaN;
  return 1 - model / market;
}
