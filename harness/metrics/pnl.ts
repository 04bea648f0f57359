/**
 * Money metrics of a run: ROI, daily Sharpe, max drawdown.
 *
 * - ROI = net P&L after fees / capital deployed (the sum of every entry's
 *   price plus fees). `totalReturn` = final equity / starting equity − 1 is
 *   the bankroll view of the same run.
 * - Daily Sharpe: the equity curve is sampled once per UTC day at the last
 *   point of that day (a day with no point carries the previous close
 *   forward), from the first point's day to the last point's day. Daily
 *   returns are close_d / close_{d−1} − 1, with the first point's equity as
 *   the close before the first day. Sharpe = mean / sample standard deviation
 *   (n − 1), risk-free rate 0; annualized × √365 because Kalshi trades every
 *   day. Null with fewer than 2 returns or zero deviation.
 * - Max drawdown over every point of the curve (not just daily closes): the
 *   largest fall from a running peak, in units and as a fraction of the peak.
 */
import type { Units } from "../money/money.ts";
import { orderedSum } from "./sum.ts";

export interface EquityPoint {
  /** UTC epoch ms. */
  ts: number;
  equityUnits: Units;
}

const DAY_MS = 86_400_000;

/** ROI as a fraction; NaN when nothing was deployed. */
export function roi(netPnlUnits: Units, capitalDeployedUnits: Units): number {
  return capitalDeployedUnits > 0 ? netPnlUnits / capitalDeployedUnits : Number.NaN;
}

/** Final equity over starting equity, minus 1; NaN when starting equity is not positive. */
export function totalReturn(startEquityUnits: Units, endEquityUnits: Units): number {
  return startEquityUnits > 0 ? endEquityUnits / startEquityUnits - 1 : Number.NaN;
}

function assertCurve(curve: readonly EquityPoint[]): void {
  for (let i = 0; i < curve.length; i++) {
    const pt = curve[i]!;
    if (!Number.isFinite(pt.ts) || !Number.isFinite(pt.equityUnits)) throw new RangeError(`equity curve[${i}]: ts and equityUnits must be finite`);
    if (i > 0 && pt.ts < curve[i - 1]!.ts) throw new RangeError(`equity curve[${i}]: ts ${pt.ts} is before the previous point's ${curve[i - 1]!.ts}; the curve must be in time order`);
  }
}

/** One close per UTC day from the first point's day to the last's, carrying forward over empty days. */
export function dailyCloses(curve: readonly EquityPoint[]): Array<{ dayStartMs: number; equityUnits: Units }> {
  assertCurve(curve);
  if (curve.length === 0) return [];
  const firstDay = Math.floor(curve[0]!.ts / DAY_MS);
  const lastDay = Math.floor(curve[curve.length - 1]!.ts / DAY_MS);
  const out: Array<{ dayStartMs: number; equityUnits: Units }> = [];
  let i = 0;
  let close = curve[0]!.equityUnits;
  for (let day = firstDay; day <= lastDay; day++) {
    const end = (day + 1) * DAY_MS;
    while (i < curve.length && curve[i]!.ts < end) close = curve[i++]!.equityUnits;
    out.push({ dayStartMs: day * DAY_MS, equityUnits: close });
  }
  return out;
}

/** Daily simple returns, the first against the curve's first point. */
export function dailyReturns(curve: readonly EquityPoint[]): number[] {
  const closes = dailyCloses(curve);
  if (closes.length === 0) return [];
  const out: number[] = [];
  let prev = curve[0]!.equityUnits;
  for (const c of closes) {
    out.push(prev > 0 ? c.equityUnits / prev - 1 : Number.NaN);
    prev = c.equityUnits;
  }
  return out;
}

export interface SharpeResult {
  dailySharpe: number | null;
  annualizedSharpe: number | null;
  /** Number of daily returns. */
  days: number;
  meanDailyReturn: number | null;
  stdDailyReturn: number | null;
}

/** Sharpe of daily returns (risk-free 0), and annualized by √365. */
export function dailySharpe(curve: readonly EquityPoint[]): SharpeResult {
  const r = dailyReturns(curve);
  const days = r.length;
  if (days < 2 || r.some((x) => !Number.isFinite(x))) {
    return { dailySharpe: null, annualizedSharpe: null, days, meanDailyReturn: days > 0 ? orderedSum(r) / days : null, stdDailyReturn: null };
  }
  const mean = orderedSum(r) / days;
  const sq = r.map((x) => (x - mean) * (x - mean));
  const sd = Math.sqrt(orderedSum(sq) / (days - 1));
  if (!(sd > 0)) return { dailySharpe: null, annualizedSharpe: null, days, meanDailyReturn: mean, stdDailyReturn: sd };
  const s = mean / sd;
  return { dailySharpe: s, annualizedSharpe: s * Math.sqrt(365), days, meanDailyReturn: mean, stdDailyReturn: sd };
}

export interface Drawdown {
  /** Largest peak-to-trough fall, in units (≥ 0). */
  maxDrawdownUnits: Units;
  /** That fall as a fraction of its peak, in [0, 1] for positive equity; 0 for an empty or rising curve. */
  maxDrawdownFraction: number;
  peakTs: number | null;
  troughTs: number | null;
}

/**
 * Max drawdown over every point. The fraction is the largest (peak − e)/peak
 * and the units figure the largest peak − e; they are tracked separately and
 * can come from different falls. peakTs/troughTs belong to the largest
 * fractional fall.
 */
export function maxDrawdown(curve: readonly EquityPoint[]): Drawdown {
  assertCurve(curve);
  let peak = -Infinity, peakTs: number | null = null;
  let ddUnits = 0, ddFrac = 0, bestPeakTs: number | null = null, bestTroughTs: number | null = null;
  for (const pt of curve) {
    if (pt.equityUnits > peak) { peak = pt.equityUnits; peakTs = pt.ts; }
    const fall = peak - pt.equityUnits;
    if (fall > ddUnits) ddUnits = fall;
    const frac = peak > 0 ? fall / peak : 0;
    if (frac > ddFrac) { ddFrac = frac; bestPeakTs = peakTs; bestTroughTs = pt.ts; }
  }
  return { maxDrawdownUnits: ddUnits, maxDrawdownFraction: ddFrac, peakTs: bestPeakTs, troughTs: bestTroughTs };
}

export interface PnlSummary {
  startEquityUnits: Units | null;
  endEquityUnits: Units | null;
  netPnlUnits: Units | null;
  capitalDeployedUnits: Units;
  roi: number;
  totalReturn: number;
  sharpe: SharpeResult;
  drawdown: Drawdown;
}

/** All money metrics from an equity curve (after fees) and the capital the run deployed. */
export function summarizePnl(curve: readonly EquityPoint[], capitalDeployedUnits: Units): PnlSummary {
  const start = curve.length > 0 ? curve[0]!.equityUnits : null;
  const end = curve.length > 0 ? curve[curve.length - 1]!.equityUnits : null;
  const net = start !== null && end !== null ? end - start : null;
  return {
    startEquityUnits: start,
    endEquityUnits: end,
    netPnlUnits: net,
    capitalDeployedUnits,
    roi: net === null ? Number.NaN : roi(net, capitalDeployedUnits),
    totalReturn: start === null || end === null ? Number.NaN : totalReturn(start, end),
    sharpe: dailySharpe(curve),
    drawdown: maxDrawdown(curve),
  };
}
