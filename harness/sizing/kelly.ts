/**
 * Fractional Kelly sizing for Kalshi binary contracts.
 *
 * A contract bought at cost c (dollars) pays $1 when it wins. With belief p
 * that it wins, the Kelly fraction of bankroll is f* = (p − c)/(1 − c), and 0
 * when p ≤ c. The cost c used everywhere here is the *effective* entry price:
 * the price we would actually pay (the ask, so the spread is already in it)
 * plus the taker fee per contract. Edge is p − c on that effective price, so
 * it is always net of fees and spread.
 *
 * YES is bought at the YES ask with belief p; NO is bought at the NO ask
 * (10000 − YES bid) with belief 1 − p. `chooseSide` picks the side with the
 * larger positive net edge; `sizeOrder` turns a side into integer contracts,
 * never spending (price + exact order fee) beyond min(kellyMultiplier × f* ×
 * bankroll, maxPositionFraction × bankroll).
 */
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../money/money.ts";
import { DEFAULT_FEE_SCHEDULE, feePerContractEstimate, fillFee, orderFee, type FeeSchedule } from "../broker/fees.ts";

export type Side = "yes" | "no";

/** f* = (p − c)/(1 − c) for cost c = costUnits / 10000, clamped to [0, 1]; 0 when there is no edge. */
export function kellyFraction(p: number, costUnits: number): number {
  const c = costUnits / CONTRACT_PAYOUT;
  if (!(p > c) || !(c < 1)) return 0;
  const f = (p - c) / (1 - c);
  return f > 1 ? 1 : f;
}

/** Price plus fee per contract: the effective cost of one contract, in (fractional) units. */
export function effectiveEntry(priceUnits: Units, feePerContract: number): number {
  return priceUnits + feePerContract;
}

export interface SideChoice {
  side: Side;
  /** The ask for that side, in units. */
  priceUnits: Units;
  /** Belief that this side wins. */
  belief: number;
  /** Ask plus estimated taker fee per contract, in units. */
  effectivePriceUnits: number;
  /** belief − effective price (dollars): the edge net of fees and spread. */
  edge: number;
}

/** Edge for one side at one ask, net of the estimated fee. */
export function sideEdge(side: Side, probability: number, askUnits: Units, feeSchedule: Readonly<FeeSchedule>): SideChoice {
  const belief = side === "yes" ? probability : 1 - probability;
  const effectivePriceUnits = effectiveEntry(askUnits, feePerContractEstimate(askUnits, feeSchedule));
  return { side, priceUnits: askUnits, belief, effectivePriceUnits, edge: belief - effectivePriceUnits / CONTRACT_PAYOUT };
}

/**
 * The side to buy: YES at the YES ask, or NO at 10000 − YES bid, whichever
 * has the larger positive edge net of fees (YES on an exact tie). Null when
 * neither side has positive edge or neither can be bought.
 */
export function chooseSide(
  probability: number,
  quote: { yesBid: Units | null; yesAsk: Units | null },
  feeSchedule: Readonly<FeeSchedule> = DEFAULT_FEE_SCHEDULE,
): SideChoice | null {
  const candidates: SideChoice[] = [];
  if (quote.yesAsk !== null && isValidPrice(quote.yesAsk)) candidates.push(sideEdge("yes", probability, quote.yesAsk, feeSchedule));
  if (quote.yesBid !== null && isValidPrice(CONTRACT_PAYOUT - quote.yesBid)) {
    candidates.push(sideEdge("no", probability, CONTRACT_PAYOUT - quote.yesBid, feeSchedule));
  }
  let best: SideChoice | null = null;
  for (const c of candidates) if (c.edge > 0 && (best === null || c.edge > best.edge)) best = c;
  return best;
}

export interface SizeOrderInput {
  /** Belief that YES wins, in [0, 1]. */
  probability: number;
  side: Side;
  /** The ask for `side`, in units (for NO: 10000 − YES bid). */
  askUnits: Units;
  bankrollUnits: Units;
  /** Fraction of full Kelly, e.g. 0.25. */
  kellyMultiplier: number;
  /** Largest position as a fraction of bankroll, e.g. 0.03. */
  maxPositionFraction: number;
  feeSchedule?: Readonly<FeeSchedule>;
}

export interface SizedOrder {
  side: Side;
  /** Integer contracts to buy; 0 means do not trade. */
  contracts: number;
  /** Edge net of fees and spread for this order (exact fee when contracts > 0, estimate otherwise). */
  edge: number;
  /** Full Kelly fraction f* at the estimated effective price. */
  kellyFraction: number;
  /** Effective price per contract in units: ask + fee per contract (exact order fee / contracts when contracts > 0). */
  effectivePriceUnits: number;
  /** contracts × ask, in units. */
  notionalUnits: Units;
  /** Exact fee of the order (fills rounded to a unit, order to the cent). */
  feeUnits: Units;
  /** notional + fee: what the order costs. */
  costUnits: Units;
}

function exactOrderFee(contracts: number, askUnits: Units, schedule: Readonly<FeeSchedule>): Units {
  return orderFee([fillFee(contracts, askUnits, "taker", schedule)]);
}

/**
 * Integer contracts for one side by fractional Kelly: the largest count with
 * contracts × ask + exact fee ≤ min(kellyMultiplier × f* × bankroll,
 * maxPositionFraction × bankroll) whose edge, with the exact (rounded) fee
 * of that order, is still positive. 0 contracts when there is none.
 */
export function sizeOrder(input: SizeOrderInput): SizedOrder {
  const schedule = input.feeSchedule ?? DEFAULT_FEE_SCHEDULE;
  const { askUnits, bankrollUnits } = input;
  if (!isValidPrice(askUnits)) throw new RangeError(`sizeOrder: askUnits must be an integer in 1..9999, got ${String(askUnits)}`);
  if (!(input.probability >= 0 && input.probability <= 1)) throw new RangeError(`sizeOrder: probability must be in [0, 1], got ${String(input.probability)}`);
  if (!(input.kellyMultiplier >= 0)) throw new RangeError(`sizeOrder: kellyMultiplier must be ≥ 0, got ${String(input.kellyMultiplier)}`);
  if (!(input.maxPositionFraction >= 0)) throw new RangeError(`sizeOrder: maxPositionFraction must be ≥ 0, got ${String(input.maxPositionFraction)}`);

  const choice = sideEdge(input.side, input.probability, askUnits, schedule);
  const f = kellyFraction(choice.belief, choice.effectivePriceUnits);
  const none: SizedOrder = {
    side: input.side, contracts: 0, edge: choice.edge, kellyFraction: f,
    effectivePriceUnits: choice.effectivePriceUnits, notionalUnits: 0, feeUnits: 0, costUnits: 0,
  };
  if (f <= 0 || !(bankrollUnits > 0)) return none;

  const budget = Math.floor(Math.min(input.kellyMultiplier * f, input.maxPositionFraction) * bankrollUnits);
  let contracts = Math.floor(budget / choice.effectivePriceUnits);
  if (contracts <= 0) return none;
  // The estimate leaves out rounding (< 1 unit per fill, < 100 units per order): step down until the exact cost fits.
  let fee = exactOrderFee(contracts, askUnits, schedule);
  while (contracts > 0 && contracts * askUnits + fee > budget) {
    contracts -= 1;
    fee = contracts > 0 ? exactOrderFee(contracts, askUnits, schedule) : 0;
  }
  // Rounding the fee up to the cent can leave a large order with no edge while a smaller one keeps it
  // (1 contract at 50¢ pays 2¢, 4 pay 1.75¢ each). Take the largest count that still has positive
  // exact edge; this keeps the count non-decreasing in p. The walk is short: it only runs while
  // contracts × (edge per contract net of the unrounded fee) < 1¢, as rounding adds < 101 units.
  const belief10k = choice.belief * CONTRACT_PAYOUT;
  while (contracts > 0 && !(contracts * belief10k > contracts * askUnits + fee)) {
    contracts -= 1;
    fee = contracts > 0 ? exactOrderFee(contracts, askUnits, schedule) : 0;
  }
  if (contracts <= 0) {
    // Report the exact economics of the smallest order, so a caller sees why nothing was bought.
    const fee1 = exactOrderFee(1, askUnits, schedule);
    const eff1 = askUnits + fee1;
    return { ...none, edge: choice.belief - eff1 / CONTRACT_PAYOUT, effectivePriceUnits: eff1 };
  }

  const notionalUnits = contracts * askUnits;
  const costUnits = notionalUnits + fee;
  const effectivePriceUnits = costUnits / contracts;
  const edge = choice.belief - effectivePriceUnits / CONTRACT_PAYOUT;
  return { side: input.side, contracts, edge, kellyFraction: f, effectivePriceUnits, notionalUnits, feeUnits: fee, costUnits };
}

export interface SizeBestSideInput extends Omit<SizeOrderInput, "side" | "askUnits"> {
  yesBid: Units | null;
  yesAsk: Units | null;
}

/** chooseSide then sizeOrder; null when no side has positive net edge. */
export function sizeBestSide(input: SizeBestSideInput): SizedOrder | null {
  const schedule = input.feeSchedule ?? DEFAULT_FEE_SCHEDULE;
  const choice = chooseSide(input.probability, { yesBid: input.yesBid, yesAsk: input.yesAsk }, schedule);
  if (choice === null) return null;
  return sizeOrder({
    probability: input.probability,
    side: choice.side,
    askUnits: choice.priceUnits,
    bankrollUnits: input.bankrollUnits,
    kellyMultiplier: input.kellyMultiplier,
    maxPositionFraction: input.maxPositionFraction,
    feeSchedule: schedule,
  });
}
