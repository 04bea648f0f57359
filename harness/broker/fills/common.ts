/**
 * What every fill model shares: the order as a fill model sees it, a fill,
 * and the price conventions (Kalshi binary contracts; units of $0.0001).
 *
 * - An order's `limitUnits` is in its own side's price: a NO buy at $0.30 is 3000.
 * - YES ask → NO bid: NO bid = 10000 − YES ask; YES bid → NO ask = 10000 − YES bid.
 * - Books are bids only on each side: a NO bid at X is a YES ask at 10000 − X.
 *
 * Each model lives in its own file beside this one and states its
 * assumptions in its header; harness/REALISM.md lists them all.
 */
import { z } from "zod";
import { isValidPrice, type Units } from "../../money/money.ts";
import type { Liquidity } from "../fees.ts";

export type OrderSide = "yes" | "no";
export type OrderAction = "buy" | "sell";

export interface OrderIntent {
  ticker: string;
  side: OrderSide;
  action: OrderAction;
  /** Worst acceptable price for `side`, in units (1..9999). */
  limitUnits: Units;
  /** Positive integer contract count. */
  contracts: number;
}

export interface Fill {
  /** Price per contract for the order's side, in units. */
  priceUnits: Units;
  contracts: number;
  liquidity: Liquidity;
}

/**
 * The fill models a run may name. `print-maker` is what `auto` picks on
 * trades-only data; `trade-print` is the older, optimistic print model, kept
 * so a run can be reproduced and compared with it.
 */
export const FILL_MODEL_NAMES = ["quote", "book", "print-maker", "trade-print"] as const;
export type FillModelName = (typeof FILL_MODEL_NAMES)[number];
export const FillModelName = z.enum(FILL_MODEL_NAMES);

export function assertOrder(order: OrderIntent): void {
  if (!isValidPrice(order.limitUnits)) {
    throw new RangeError(`order ${order.ticker}: limitUnits must be an integer in 1..9999, got ${String(order.limitUnits)}`);
  }
  if (!Number.isSafeInteger(order.contracts) || order.contracts <= 0) {
    throw new RangeError(`order ${order.ticker}: contracts must be a positive integer, got ${String(order.contracts)}`);
  }
}

/** True when `price` is at or through the order's limit (≤ for buys, ≥ for sells). */
export function isMarketable(action: OrderAction, price: Units, limitUnits: Units): boolean {
  return action === "buy" ? price <= limitUnits : price >= limitUnits;
}

/** A trade print as fill models read it (the `trade` event's fields). */
export interface TradePrint {
  yesPrice: Units;
  count: number;
  /** Which side the taker bought: `yes` lifted a YES ask, `no` hit a YES bid. */
  takerSide: OrderSide;
}

/**
 * The most of one print an order may take: floor(participation × count),
 * never more than remains. The epsilon keeps 0.29 × 100 = 28.999999999999996
 * from losing a contract.
 */
export function participationCap(participation: number, printCount: number, remaining: number): number {
  if (!(participation > 0 && participation <= 1)) throw new RangeError(`participation must be in (0, 1], got ${String(participation)}`);
  return Math.max(0, Math.min(remaining, Math.floor(participation * printCount + 1e-9)));
}

/** Contracts filled in total. */
export function filledContracts(fills: readonly Fill[]): number {
  let n = 0;
  for (const f of fills) n += f.contracts;
  return n;
}

/** Cost of the fills before fees, in units (contracts × price, summed exactly when contracts are integers). */
export function fillNotional(fills: readonly Fill[]): Units {
  let u = 0;
  for (const f of fills) u += f.contracts * f.priceUnits;
  return u;
}
