/**
 * Kalshi's trading fees, as a named model (the one file to open when a fee
 * looks wrong).
 *
 *   taker fee = takerRate × multiplier × C × P × (1 − P)   (takerRate 0.07)
 *   maker fee = makerRate × multiplier × C × P × (1 − P)   (makerRate 0.0175, only
 *               on series that charge makers; otherwise 0)
 *
 * with C contracts at price P dollars. Rounding follows the brief of issue 3:
 * each fill's fee is rounded UP to $0.0001 (one money unit), and an order's
 * total fee is rounded UP to the cent (100 units). So 1 contract at $0.50 as
 * taker is a 175-unit fill fee and a 200-unit ($0.02) charge; 100 contracts
 * at $0.50 are exactly $1.75.
 *
 * The maths is exact: rates and multipliers are taken to 6 decimal places
 * (0.07 → 70000 millionths) and the product is formed in bigint, so no float
 * rounding can move a fee across a unit boundary.
 *
 * Fee types (a Kalshi series' `fee_type`, KALSHI.md "Fees"):
 * - `quadratic` (the default): the formula above; makers pay only where
 *   `makerFees` says so.
 * - `quadratic_with_maker_fees`: the same, and makers always pay makerRate.
 * - `quadratic_with_combo_maker_fees`: makers pay on combo markets only;
 *   tapedeck trades single markets, so it is charged as `quadratic`.
 * - `flat`: Kalshi's "Specific Trading Fees Table", which the API does not
 *   publish: a fixed `flatFeeUnits` per contract (× multiplier), which the
 *   run config must give; without it a fill is refused with a RangeError
 *   naming the field rather than charged a guess.
 * A series' schedule can change over time (feeChanges.ts): a fill is charged
 * by the schedule in force at its time.
 */
import { z } from "zod";
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../money/money.ts";

export type Liquidity = "taker" | "maker";

/** One series' fee terms. Rates are fractions of C × P × (1 − P) in dollars. */
export interface FeeSchedule {
  /** Taker rate, Kalshi's general schedule: 0.07. */
  takerRate: number;
  /** Maker rate where charged: 0.0175. */
  makerRate: number;
  /** Whether this series charges makers at all. */
  makerFees: boolean;
  /** Per-series multiplier on both rates (1 unless the series says otherwise). */
  multiplier: number;
  /** Kalshi's fee type for the series; absent means `quadratic`. */
  feeType?: FeeType | undefined;
  /** `flat` only: the fee per contract, units, before the multiplier. */
  flatFeeUnits?: number | undefined;
}

export const FEE_TYPES = ["quadratic", "quadratic_with_maker_fees", "quadratic_with_combo_maker_fees", "flat"] as const;
export const FeeType = z.enum(FEE_TYPES);
export type FeeType = z.infer<typeof FeeType>;

// Strict: a typo (`makerFee`) would otherwise leave the default in force, silently.
export const FeeScheduleSchema = z
  .object({
    takerRate: z.number().min(0).max(1).default(0.07),
    makerRate: z.number().min(0).max(1).default(0.0175),
    makerFees: z.boolean().default(false),
    multiplier: z.number().min(0).max(100).default(1),
    feeType: FeeType.optional(),
    flatFeeUnits: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();

/** Kalshi's general schedule: taker 0.07, maker fees off, multiplier 1. */
export const DEFAULT_FEE_SCHEDULE: Readonly<FeeSchedule> = Object.freeze({
  takerRate: 0.07,
  makerRate: 0.0175,
  makerFees: false,
  multiplier: 1,
});

/**
 * Per-series overrides, keyed by series ticker (e.g. "KXINX"). A key ending in
 * "*" is a prefix match ("KXNBA*"); an exact key wins over any prefix, and a
 * longer prefix over a shorter one, so the lookup never depends on key order.
 */
export type FeeScheduleOverride = { [K in keyof FeeSchedule]?: FeeSchedule[K] | undefined };
export type FeeScheduleOverrides = Readonly<Record<string, FeeScheduleOverride>>;
// No defaults here: a field an override leaves out must keep the base schedule's value.
export const FeeScheduleOverrideSchema = z
  .object({
    takerRate: z.number().min(0).max(1).optional(),
    makerRate: z.number().min(0).max(1).optional(),
    makerFees: z.boolean().optional(),
    multiplier: z.number().min(0).max(100).optional(),
    feeType: FeeType.optional(),
    flatFeeUnits: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();
export const FeeScheduleOverridesSchema = z.record(z.string().min(1), FeeScheduleOverrideSchema);

/** The fee schedule for one series: the default, overlaid with the best-matching override. */
export function scheduleFor(
  seriesTicker: string,
  overrides: FeeScheduleOverrides = {},
  base: Readonly<FeeSchedule> = DEFAULT_FEE_SCHEDULE,
): FeeSchedule {
  const exact = Object.hasOwn(overrides, seriesTicker) ? overrides[seriesTicker] : undefined;
  let best: FeeScheduleOverride | undefined = exact;
  if (best === undefined) {
    let bestLen = -1;
    for (const key of Object.keys(overrides)) {
      if (!key.endsWith("*")) continue;
      const prefix = key.slice(0, -1);
      if (seriesTicker.startsWith(prefix) && prefix.length > bestLen) {
        best = overrides[key];
        bestLen = prefix.length;
      }
    }
  }
  const out: FeeSchedule = { ...base };
  if (best !== undefined) {
    // Fields left undefined keep the base value (zod's partial() yields them).
    if (best.takerRate !== undefined) out.takerRate = best.takerRate;
    if (best.makerRate !== undefined) out.makerRate = best.makerRate;
    if (best.makerFees !== undefined) out.makerFees = best.makerFees;
    if (best.multiplier !== undefined) out.multiplier = best.multiplier;
    if (best.feeType !== undefined) out.feeType = best.feeType;
    if (best.flatFeeUnits !== undefined) out.flatFeeUnits = best.flatFeeUnits;
  }
  return out;
}


const MILLIONTHS = 1_000_000;
const CENTI = 100; // contracts are exact to 0.01 (Kalshi's fractional `_fp` counts)

function toMillionths(x: number, what: string): bigint {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`fee schedule ${what} must be a finite number ≥ 0, got ${String(x)}`);
  return BigInt(Math.round(x * MILLIONTHS));
}

function toCentiContracts(contracts: number): bigint {
  if (!Number.isFinite(contracts) || contracts < 0) {
    throw new RangeError(`contracts must be a finite number ≥ 0, got ${String(contracts)}`);
  }
  const scaled = Math.round(contracts * CENTI);
  if (Math.abs(scaled - contracts * CENTI) > 1e-6) {
    throw new RangeError(`contracts must be a multiple of 0.01, got ${String(contracts)}`);
  }
  return BigInt(scaled);
}

/** The rate (before multiplier) that applies to this liquidity, or null when it is free. */
function rateFor(liquidity: Liquidity, schedule: Readonly<FeeSchedule>): number | null {
  if (liquidity === "taker") return schedule.takerRate;
  return makerCharged(schedule) ? schedule.makerRate : null;
}

/** Whether this schedule charges makers: `quadratic_with_maker_fees` always does; otherwise the `makerFees` switch says. */
export function makerCharged(schedule: Readonly<FeeSchedule>): boolean {
  return schedule.feeType === "quadratic_with_maker_fees" || schedule.makerFees;
}

/** `flat`: flatFeeUnits × multiplier per contract, rounded up to a unit; free for makers where they are not charged. */
function flatFillFee(c: bigint, liquidity: Liquidity, schedule: Readonly<FeeSchedule>): Units {
  if (liquidity === "maker" && !makerCharged(schedule)) return 0;
  const flat = schedule.flatFeeUnits;
  if (flat === undefined || !Number.isSafeInteger(flat) || flat < 0) {
    throw new RangeError(`fee schedule: fee type flat needs flatFeeUnits (the fee per contract in units of $0.0001, from Kalshi's Specific Trading Fees Table), got ${String(flat)}`);
  }
  const numerator = BigInt(flat) * toMillionths(schedule.multiplier, "multiplier") * c;
  const den = BigInt(MILLIONTHS * CENTI);
  return Number((numerator + den - 1n) / den);
}

// fee units = rate × mult × C × pu × (10000 − pu) / 10000, with rate and mult
// in millionths and C in hundredths: denominator 1e6 × 1e6 × 100 × 1e4.
const FEE_DENOMINATOR = 10n ** 18n;

/**
 * The fee on one fill, in units, rounded UP to one unit ($0.0001).
 * `priceUnits` is the price paid for the side traded (a NO fill at $0.30 is
 * 3000); the formula is symmetric in P ↔ 1 − P, so YES and NO prices agree.
 */
export function fillFee(
  contracts: number,
  priceUnits: Units,
  liquidity: Liquidity,
  schedule: Readonly<FeeSchedule> = DEFAULT_FEE_SCHEDULE,
): Units {
  if (!isValidPrice(priceUnits)) throw new RangeError(`fill price must be an integer in 1..9999 units, got ${String(priceUnits)}`);
  const c = toCentiContracts(contracts);
  if (schedule.feeType === "flat") return c === 0n ? 0 : flatFillFee(c, liquidity, schedule);
  const rate = rateFor(liquidity, schedule);
  if (rate === null || c === 0n) return 0;
  const p = BigInt(priceUnits);
  const numerator =
    toMillionths(rate, liquidity === "taker" ? "takerRate" : "makerRate") *
    toMillionths(schedule.multiplier, "multiplier") *
    c *
    p *
    (BigInt(CONTRACT_PAYOUT) - p);
  return Number((numerator + FEE_DENOMINATOR - 1n) / FEE_DENOMINATOR);
}

/** An order's fee: the sum of its fills' fees, rounded UP to the cent (100 units). */
export function orderFee(fillFees: readonly Units[]): Units {
  let sum = 0;
  for (let i = 0; i < fillFees.length; i++) {
    const f = fillFees[i]!;
    if (!Number.isSafeInteger(f) || f < 0) throw new RangeError(`fill fee #${i} must be a non-negative integer of units, got ${String(f)}`);
    sum += f;
  }
  return Math.ceil(sum / 100) * 100;
}

/**
 * The taker fee per contract at this price in (fractional) units, before any
 * rounding: what sizing adds to the price to get an effective entry. Rounding
 * adds less than 1 unit per fill and less than 100 units per order on top;
 * sizing checks the exact fee of the final order separately.
 */
export function feePerContractEstimate(priceUnits: Units, schedule: Readonly<FeeSchedule> = DEFAULT_FEE_SCHEDULE): number {
  if (schedule.feeType === "flat") return (schedule.flatFeeUnits ?? 0) * schedule.multiplier;
  return (schedule.takerRate * schedule.multiplier * priceUnits * (CONTRACT_PAYOUT - priceUnits)) / CONTRACT_PAYOUT;
}

/**
 * The most an order's fee can come to, in units: all `contracts` at the price
 * within the limit where the fee is dearest (closest to $0.50: at or below the
 * limit for a buy, at or above it for a sell), at the dearer of the taker and
 * (where charged) maker rates, plus one unit per further fill for the per-fill
 * rounding, then rounded up to the cent. What a buying-power check reserves.
 */
export function maxOrderFee(
  action: "buy" | "sell",
  limitUnits: Units,
  contracts: number,
  schedule: Readonly<FeeSchedule> = DEFAULT_FEE_SCHEDULE,
): Units {
  const half = CONTRACT_PAYOUT / 2;
  const price = action === "buy" ? Math.min(limitUnits, half) : Math.max(limitUnits, half);
  const taker = fillFee(contracts, price, "taker", schedule);
  const maker = fillFee(contracts, price, "maker", schedule);
  const fills = Math.max(1, Math.ceil(contracts));
  return orderFee([Math.max(taker, maker) + fills - 1]);
}
