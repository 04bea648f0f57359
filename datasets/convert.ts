/**
 * Unit conversions at the dataset edge, as pure functions. The SQL importers
 * use the same rules (see sqlConvert.ts); a property test checks both agree.
 */

/** Dataset prices keep at most 4 decimals ($0.0001, the money unit). */
export const PRICE_DECIMALS = 4;

/** Round a dollar value to the dataset's 4 decimals (half away from zero, float-noise safe). */
export function roundDollars(dollars: number): number {
  const scaled = Math.abs(dollars) * 10 ** PRICE_DECIMALS;
  return (Math.sign(dollars) * Math.round(scaled + 1e-7)) / 10 ** PRICE_DECIMALS;
}

/** Legacy Kalshi integer cents (e.g. `yes_bid: 42`) to dollars (0.42). */
export function centsToDollars(cents: number): number {
  return roundDollars(cents / 100);
}

/** Kalshi `*_dollars` strings ("0.4200") or numbers to dollars; null when absent or not a number. */
export function parseDollars(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? roundDollars(n) : null;
}

/** Kalshi publishes bids only: a YES bid at X is a NO ask at 1 − X (and vice versa). */
export function complementPrice(dollars: number): number {
  return roundDollars(1 - dollars);
}

/** True when a dollar price is a valid binary-contract price, strictly inside (0, 1). */
export function isValidDollarPrice(dollars: number): boolean {
  return Number.isFinite(dollars) && dollars > 0 && dollars < 1;
}

/** Epoch seconds (old API `_ts`, candlestick `end_period_ts`) to epoch ms. */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

const ZONE_SUFFIX = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * ISO-8601 to epoch ms. A time without a zone is UTC (the news scraper and
 * several recorders write naive UTC). Fractions beyond ms are truncated.
 */
export function isoToMs(iso: string): number | null {
  const s = iso.trim().replace(" ", "T");
  if (s === "") return null;
  const withZone = ZONE_SUFFIX.test(s) || !s.includes("T") ? s : `${s}Z`;
  // Date.parse accepts at most ms precision reliably: cut extra fraction digits.
  const trimmed = withZone.replace(/(\.\d{3})\d+/, "$1");
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed;
  const ms = Date.parse(dateOnly);
  return Number.isFinite(ms) ? ms : null;
}
