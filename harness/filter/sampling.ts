/**
 * Sampling strategies: a gate that thins the candidates the triggers let
 * through, deciding per market whether it is time to look again. They are
 * pure functions of the last sample (the last model call on the market) and
 * what is visible now:
 * - periodic: at most one sample per period;
 * - change: the price moved at least `minChange` dollars since the last sample;
 * - threshold: the price crossed one of the `levels` since the last sample;
 * - adaptive: a periodic gate whose period shrinks as volatility grows.
 * A market never sampled is always sampled.
 */
import type { SamplingConfig } from "./filterConfig.ts";

export interface LastSample {
  ts: number;
  /** Market price at the sample, dollars; null when none was known. */
  price: number | null;
}

/** Period of the adaptive gate: baseMs x target / volatility, clamped to [minMs, maxMs]. */
export function adaptiveIntervalMs(volatility: number, c: Pick<SamplingConfig, "baseMs" | "minMs" | "maxMs" | "targetVolatility">): number {
  if (!(volatility > 0)) return c.maxMs;
  const raw = (c.baseMs * c.targetVolatility) / volatility;
  return Math.min(c.maxMs, Math.max(c.minMs, raw));
}

/** How many levels lie at or below the price: two prices are on the same side of every level iff equal bands. */
export function levelBand(price: number, levels: readonly number[]): number {
  let band = 0;
  for (const l of levels) if (price >= l) band++;
  return band;
}

export function shouldSample(c: SamplingConfig, last: LastSample | null, now: number, price: number | null, volatility: number): boolean {
  if (last === null) return true;
  switch (c.strategy) {
    case "periodic":
      return now - last.ts >= c.periodMs;
    case "adaptive":
      return now - last.ts >= adaptiveIntervalMs(volatility, c);
    case "change":
      if (price === null || last.price === null) return price !== last.price;
      // Rounded to the unit ($0.0001) so 0.52 - 0.50 counts as 0.02, not 0.0199999.
      return Math.round(Math.abs(price - last.price) * 10_000) >= Math.round(c.minChange * 10_000);
    case "threshold":
      if (price === null || last.price === null) return price !== last.price;
      return levelBand(price, c.levels) !== levelBand(last.price, c.levels);
  }
}
