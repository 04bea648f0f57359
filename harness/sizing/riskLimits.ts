/**
 * Risk limits: a pure gate between a sized proposal and the broker. Defaults
 * are the conservative profile users run today (issue 3): quarter Kelly,
 * confidence ≥ 0.65, at most 3% of bankroll per position, at most 10 open
 * positions, market volume ≥ 500 contracts, at most 10 trades per hour, edge
 * ≥ 2¢ net of fees and spread, and no new trades once the day's loss reaches
 * 5% of the equity the UTC day started with.
 *
 * The gate applies to orders that open or add to a position; closing orders
 * reduce risk and are the caller's to let through. Rules are checked in a
 * fixed order (the order of RISK_RULES) and the first failure is reported, so
 * a rejected proposal always names the same rule.
 */
import { z } from "zod";
import type { Units } from "../money/money.ts";

export const RiskLimitsSchema = z.object({
  /** Fraction of full Kelly to bet (sizing reads it; here for one config object). */
  kellyFraction: z.number().min(0).max(1).default(0.25),
  /** Smallest model confidence that may trade. */
  minConfidence: z.number().min(0).max(1).default(0.65),
  /** Largest position cost (price + fees) as a fraction of current equity. */
  maxPositionFraction: z.number().gt(0).max(1).default(0.03),
  /** Most positions open at once. */
  maxOpenPositions: z.number().int().min(0).default(10),
  /** Smallest market volume (contracts) worth trading; markets with unknown volume fail unless this is 0. */
  minVolume: z.number().min(0).default(500),
  /** Most trades in any trailing hour of the run's clock. */
  maxTradesPerHour: z.number().int().min(0).default(10),
  /** Smallest edge per contract in dollars, net of fees and spread. */
  minEdge: z.number().min(0).max(1).default(0.02),
  /**
   * Stop opening trades once (day-start equity − equity) ≥ this fraction of day-start equity.
   * The paper broker values open positions at cost, so this counts realized losses (settlements, fees).
   */
  dailyLossLimitFraction: z.number().gt(0).max(1).default(0.05),
  /** Whether a second order may add to a market already held. */
  allowAddToPosition: z.boolean().default(false),
})
  // A typo (`kellyFracton`) would otherwise leave the default in force, silently.
  .strict();
export type RiskLimits = z.infer<typeof RiskLimitsSchema>;

/** The conservative profile, all defaults. */
export const DEFAULT_RISK_LIMITS: Readonly<RiskLimits> = Object.freeze(RiskLimitsSchema.parse({}));

/** What the gate may know about the portfolio and the market, at decision time. */
export interface PortfolioView {
  openPositions: number;
  hasPositionIn(ticker: string): boolean;
  tradesInLastHour: number;
  dayStartEquityUnits: Units;
  equityUnits: Units;
  /** Market volume in contracts, null when the data has none. */
  marketVolume: number | null;
}

export interface TradeProposal {
  ticker: string;
  /** Model confidence in [0, 1]. */
  confidence: number;
  /** Edge per contract in dollars, net of fees and spread (from sizing). */
  edge: number;
  contracts: number;
  /** Price plus fees of the whole order, in units. */
  costUnits: Units;
}

export const RISK_RULES = [
  "contracts",
  "minConfidence",
  "minEdge",
  "minVolume",
  "dailyLossLimit",
  "maxTradesPerHour",
  "existingPosition",
  "maxOpenPositions",
  "maxPosition",
] as const;
export type RiskRule = (typeof RISK_RULES)[number];

export type RiskVerdict = { ok: true } | { ok: false; rule: RiskRule; detail: string };

type RuleCheck = (limits: Readonly<RiskLimits>, view: PortfolioView, p: TradeProposal) => string | null;

const CHECKS: Readonly<Record<RiskRule, RuleCheck>> = {
  contracts: (_l, _v, p) => (p.contracts > 0 ? null : `order for ${p.contracts} contracts`),
  minConfidence: (l, _v, p) => (p.confidence >= l.minConfidence ? null : `confidence ${p.confidence} < ${l.minConfidence}`),
  minEdge: (l, _v, p) => (p.edge >= l.minEdge ? null : `edge ${p.edge.toFixed(4)} < ${l.minEdge} net of fees`),
  minVolume: (l, v) => {
    if (l.minVolume <= 0) return null;
    if (v.marketVolume === null) return `market volume unknown (minimum ${l.minVolume})`;
    return v.marketVolume >= l.minVolume ? null : `market volume ${v.marketVolume} < ${l.minVolume}`;
  },
  dailyLossLimit: (l, v) => {
    const loss = v.dayStartEquityUnits - v.equityUnits;
    const limit = l.dailyLossLimitFraction * v.dayStartEquityUnits;
    return loss > 0 && loss >= limit ? `day's loss ${loss} units ≥ ${l.dailyLossLimitFraction} × day-start equity ${v.dayStartEquityUnits}` : null;
  },
  maxTradesPerHour: (l, v) => (v.tradesInLastHour < l.maxTradesPerHour ? null : `${v.tradesInLastHour} trades in the last hour (max ${l.maxTradesPerHour})`),
  existingPosition: (l, v, p) => (l.allowAddToPosition || !v.hasPositionIn(p.ticker) ? null : `already holding ${p.ticker}`),
  maxOpenPositions: (l, v, p) => {
    if (v.hasPositionIn(p.ticker)) return null; // adding to a held market opens nothing new
    return v.openPositions < l.maxOpenPositions ? null : `${v.openPositions} positions open (max ${l.maxOpenPositions})`;
  },
  maxPosition: (l, v, p) => {
    const cap = Math.floor(l.maxPositionFraction * v.equityUnits);
    return p.costUnits <= cap ? null : `cost ${p.costUnits} units > ${l.maxPositionFraction} × equity ${v.equityUnits} = ${cap}`;
  },
};

/** Every rule the proposal breaks, in RISK_RULES order (for reports that count rejections by rule). */
export function riskViolations(limits: Readonly<RiskLimits>, view: PortfolioView, proposal: TradeProposal): Array<{ rule: RiskRule; detail: string }> {
  const out: Array<{ rule: RiskRule; detail: string }> = [];
  for (const rule of RISK_RULES) {
    const detail = CHECKS[rule](limits, view, proposal);
    if (detail !== null) out.push({ rule, detail });
  }
  return out;
}

/** The first rule the proposal breaks, or ok. */
export function checkRisk(limits: Readonly<RiskLimits>, view: PortfolioView, proposal: TradeProposal): RiskVerdict {
  for (const rule of RISK_RULES) {
    const detail = CHECKS[rule](limits, view, proposal);
    if (detail !== null) return { ok: false, rule, detail };
  }
  return { ok: true };
}
