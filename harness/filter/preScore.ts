/**
 * A cheap score in [0, 1] of how much a market's visible state deserves a
 * model call, computed without any model. Each signal is scaled so that its
 * trigger threshold scores 0.5, then the signals are combined as a noisy-or
 * (1 - product of (1 - s)): any one strong signal is enough, weak ones add up,
 * and the result never leaves [0, 1]. Below the configured threshold (default
 * 0.20) no model is called.
 */

export interface PreScoreInputs {
  /** |relative price change| since the last call on the market, percent. */
  priceChangePct: number;
  /** Current-window volume over the rolling mean; 0 when there is no baseline. */
  volumeRatio: number;
  /** Std of the market price over the volatility window, dollars. */
  volatility: number;
  /** Time until the market closes (negative once past). */
  msToClose: number;
  /** Age of the newest headline matched to the market, or null for none. */
  newsAgeMs: number | null;
  /** The candidate is a first look at a market never called. */
  unseen: boolean;
}

export interface PreScoreScales {
  priceChangePct: number;
  volumeSpike: number;
  volatility: number;
  closingSoonMs: number;
  newsRecentMs: number;
}

/** Weight of "never looked at" alone: passes the default 0.20, not a stricter threshold. */
export const UNSEEN_SCORE = 0.25;

export function clamp01(x: number): number {
  if (!(x > 0)) return 0; // also NaN
  return x >= 1 ? 1 : x;
}

/** The per-signal scores, each in [0, 1]. */
export function preScoreComponents(i: PreScoreInputs, s: PreScoreScales): number[] {
  const closing = i.msToClose >= 0 && i.msToClose <= s.closingSoonMs ? 0.5 * (1 - i.msToClose / s.closingSoonMs) : 0;
  const news = i.newsAgeMs !== null && i.newsAgeMs >= 0 && i.newsAgeMs <= s.newsRecentMs ? 1 - i.newsAgeMs / s.newsRecentMs : 0;
  return [
    clamp01(i.priceChangePct / (2 * s.priceChangePct)),
    clamp01(i.volumeRatio / (2 * s.volumeSpike)),
    clamp01(i.volatility / (2 * s.volatility)),
    clamp01(closing),
    clamp01(news),
    i.unseen ? UNSEEN_SCORE : 0,
  ];
}

export function preScore(i: PreScoreInputs, s: PreScoreScales): number {
  let keep = 1;
  for (const c of preScoreComponents(i, s)) keep *= 1 - c;
  return clamp01(1 - keep);
}
