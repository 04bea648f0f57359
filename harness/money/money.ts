/**
 * Exact money. Inside the engine every dollar amount is an integer number of
 * units of $0.0001 (Kalshi's finest fee precision), so sums never drift.
 * Prices are the same units: a YES price of $0.4250 is 4250.
 * JS numbers hold integers exactly up to 2^53 units ($900 billion), enough for
 * any bankroll this tool will see, and are far faster than bigint on the hot path.
 */
export type Units = number;

/** Units per dollar. */
export const UNITS_PER_DOLLAR = 10_000;
/** A whole contract pays $1 = 10,000 units. */
export const CONTRACT_PAYOUT: Units = UNITS_PER_DOLLAR;

/** Dollars (as quoted, e.g. 0.4250 or "0.4250") to exact units, rounding to the nearest unit. */
export function dollarsToUnits(dollars: number | string): Units {
  const d = typeof dollars === "string" ? Number(dollars) : dollars;
  if (!Number.isFinite(d)) throw new RangeError(`not a dollar amount: ${String(dollars)}`);
  // Round half away from zero on a value already near an integer; the epsilon guards 0.29*1e4 = 2899.9999999999995.
  return Math.sign(d) * Math.round(Math.abs(d) * UNITS_PER_DOLLAR + 1e-7);
}

/** Legacy integer cents (Kalshi's old `yes_bid: 42`) to units. */
export function centsToUnits(cents: number): Units {
  if (!Number.isFinite(cents)) throw new RangeError(`not a cent amount: ${String(cents)}`);
  return Math.round(cents * 100);
}

/** Units to dollars, for display and for float maths (probabilities). Never sum the result. */
export function unitsToDollars(units: Units): number {
  return units / UNITS_PER_DOLLAR;
}

/** Format units as a dollar string with 4 decimals, e.g. -12345 → "-1.2345". */
export function formatUnits(units: Units, decimals = 4): string {
  const sign = units < 0 ? "-" : "";
  const abs = Math.abs(units);
  const whole = Math.floor(abs / UNITS_PER_DOLLAR);
  const frac = String(abs % UNITS_PER_DOLLAR).padStart(4, "0").slice(0, decimals);
  return decimals > 0 ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** True when a price in units is a valid binary-contract price, strictly inside (0, $1). */
export function isValidPrice(units: Units): boolean {
  return Number.isInteger(units) && units > 0 && units < CONTRACT_PAYOUT;
}
