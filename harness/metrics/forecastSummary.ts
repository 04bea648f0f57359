/**
 * Every forecast metric of one run (or one model within a run) in one
 * object: scores, skill against the market, calibration, and seeded
 * bootstrap 95% intervals for Brier, skill and the model − market Brier
 * difference. Deterministic: the same rows in the same order and the same
 * seed give the same numbers, bit for bit.
 */
import { bootstrapInterval, pairedBootstrapDifference, type BootstrapInterval } from "./bootstrap.ts";
import { expectedCalibrationError, reliabilityBins, type ReliabilityBin } from "./calibration.ts";
import {
  accuracy, assertForecastRows, brier, brierSkill, LOG_LOSS_EPSILON, logLoss, marketRowIndices, pairedBrier,
  type ForecastRow,
} from "./scoring.ts";

export interface ForecastSummaryOptions {
  bins: number;
  /** Omit (or samples 0) to skip intervals. */
  bootstrap?: { samples: number; seed: number; level?: number };
}

export interface ForecastSummary {
  forecasts: number;
  brier: number;
  logLoss: number;
  logLossClip: number;
  accuracy: number;
  /** Rows that carry a market price at decision time. */
  withMarket: number;
  /** Brier of the model over the rows with a market price. */
  brierModelOnMarketRows: number;
  brierMarket: number;
  brierSkill: number;
  ece: number;
  bins: ReliabilityBin[];
  intervals: {
    brier: BootstrapInterval;
    brierSkill: BootstrapInterval | null;
    /** Brier(model) − Brier(market), paired on the same questions; < 0 means the model was better. */
    brierMinusMarket: BootstrapInterval | null;
  } | null;
}

export function summarizeForecasts(rows: readonly ForecastRow[], options: ForecastSummaryOptions = { bins: 10 }): ForecastSummary {
  assertForecastRows(rows);
  const bins = reliabilityBins(rows, options.bins);
  const paired = pairedBrier(rows);
  const summary: ForecastSummary = {
    forecasts: rows.length,
    brier: brier(rows),
    logLoss: logLoss(rows),
    logLossClip: LOG_LOSS_EPSILON,
    accuracy: accuracy(rows),
    withMarket: paired.n,
    brierModelOnMarketRows: paired.model,
    brierMarket: paired.market,
    brierSkill: brierSkill(rows),
    ece: expectedCalibrationError(bins),
    bins,
    intervals: null,
  };
  const boot = options.bootstrap;
  if (boot === undefined || boot.samples <= 0 || rows.length === 0) return summary;
  const opts = { samples: boot.samples, seed: boot.seed, level: boot.level ?? 0.95 };
  const brierCi = bootstrapInterval(rows.length, (idx) => brier(rows, idx), opts);
  let skillCi: BootstrapInterval | null = null;
  let diffCi: BootstrapInterval | null = null;
  if (paired.n > 0) {
    // Resample over the questions that have a market price, so model and market face the same draws.
    const m = marketRowIndices(rows);
    const sub = (idx: Uint32Array): Uint32Array => { const out = new Uint32Array(idx.length); for (let i = 0; i < idx.length; i++) out[i] = m[idx[i]!]!; return out; };
    skillCi = bootstrapInterval(m.length, (idx) => brierSkill(rows, sub(idx)), opts);
    diffCi = pairedBootstrapDifference(
      m.length,
      (idx) => pairedBrier(rows, sub(idx)).model,
      (idx) => pairedBrier(rows, sub(idx)).market,
      opts,
    );
  }
  summary.intervals = { brier: brierCi, brierSkill: skillCi, brierMinusMarket: diffCi };
  return summary;
}
