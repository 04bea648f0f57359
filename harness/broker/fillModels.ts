/**
 * Fill models: pure functions from an order and the market state visible at
 * fill time to the fills it would get. Each assumption is named so a report
 * can say which one produced a number:
 *
 * - `quote`: buy at the ask, sell at the bid, size capped by the size the
 *   quote shows (when the dataset records it) and by an optional cap.
 * - `book`: walk the order book's levels, best first, while the level's
 *   price is at or through the limit.
 * - `trade-print`: for trades-only datasets. Each later trade print is taken
 *   as the market's mid; our executable price is the print moved against us
 *   by a configured half-spread. The order fills at that price when it is at
 *   or through the limit, for at most a participation fraction of the
 *   printed count. The print's taker side is not used (in trades-only data
 *   it tells at which touch the print happened, not where the other touch
 *   was, so a half-spread around every print is the simpler, stated model).
 *
 * Price conventions (Kalshi binary contracts; units of $0.0001):
 * - An order's `limitUnits` is in its own side's price: a NO buy at $0.30 is 3000.
 * - YES ask → NO bid: NO bid = 10000 − YES ask; YES bid → NO ask = 10000 − YES bid.
 * - Books are bids only on each side: a NO bid at X is a YES ask at 10000 − X.
 *   Buying YES hits NO bids; buying NO hits YES bids; selling YES hits YES
 *   bids; selling NO hits NO bids.
 * All fills from these models are taker fills except where stated.
 */
import { z } from "zod";
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../money/money.ts";
import type { Liquidity } from "./fees.ts";

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

export const FILL_MODEL_NAMES = ["quote", "book", "trade-print"] as const;
export type FillModelName = (typeof FILL_MODEL_NAMES)[number];
export const FillModelName = z.enum(FILL_MODEL_NAMES);

/** A quote as replay sees it; sizes are optional because most datasets lack them. */
export interface QuoteState {
  yesBid: Units | null;
  yesAsk: Units | null;
  /** Contracts shown at the YES bid, when known. */
  yesBidSize?: number | null;
  /** Contracts shown at the YES ask, when known. */
  yesAskSize?: number | null;
}

/** Bids only on each side: [price units, qty][], any order (sorted here). */
export interface BookState {
  yes: ReadonlyArray<readonly [Units, number]>;
  no: ReadonlyArray<readonly [Units, number]>;
}

export interface QuoteFillOptions {
  /** Largest fill against a quote whose size is unknown; Infinity trusts the quote for any size. */
  maxContractsWithoutSize: number;
}
export const DEFAULT_QUOTE_FILL_OPTIONS: Readonly<QuoteFillOptions> = Object.freeze({ maxContractsWithoutSize: Infinity });

function assertOrder(order: OrderIntent): void {
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

/** The price (for the order's side) and shown size an order would trade at against a quote, or null. */
export function quoteTouch(order: Pick<OrderIntent, "side" | "action">, q: QuoteState): { price: Units; size: number | null } | null {
  // Buying YES lifts the YES ask; selling YES hits the YES bid; NO mirrors through 10000 − price.
  const useAsk = (order.side === "yes") === (order.action === "buy");
  const yesPrice = useAsk ? q.yesAsk : q.yesBid;
  if (yesPrice === null) return null;
  const size = (useAsk ? q.yesAskSize : q.yesBidSize) ?? null;
  const price = order.side === "yes" ? yesPrice : CONTRACT_PAYOUT - yesPrice;
  return isValidPrice(price) ? { price, size } : null;
}

/** `quote` model: one taker fill at the touch, if marketable. */
export function fillAgainstQuote(
  order: OrderIntent,
  quote: QuoteState,
  options: Readonly<QuoteFillOptions> = DEFAULT_QUOTE_FILL_OPTIONS,
): Fill[] {
  assertOrder(order);
  const touch = quoteTouch(order, quote);
  if (touch === null || !isMarketable(order.action, touch.price, order.limitUnits)) return [];
  const cap = touch.size === null ? options.maxContractsWithoutSize : Math.floor(touch.size);
  const contracts = Math.min(order.contracts, cap);
  return contracts > 0 ? [{ priceUnits: touch.price, contracts, liquidity: "taker" }] : [];
}

/**
 * The levels an order trades against, as prices for the order's side, best
 * first (cheapest for a buy, dearest for a sell).
 */
export function opposingLevels(order: Pick<OrderIntent, "side" | "action">, book: BookState): Array<[Units, number]> {
  // Buys hit the other side's bids (mirrored); sells hit this side's bids.
  const source = order.action === "buy" ? (order.side === "yes" ? book.no : book.yes) : order.side === "yes" ? book.yes : book.no;
  const mirror = order.action === "buy";
  const levels: Array<[Units, number]> = [];
  for (const [price, qty] of source) {
    if (!(qty > 0)) continue;
    levels.push([mirror ? CONTRACT_PAYOUT - price : price, qty]);
  }
  levels.sort((a, b) => (order.action === "buy" ? a[0] - b[0] : b[0] - a[0]));
  return levels;
}

/** `book` model: walk the levels best first, one taker fill per level, until the limit or the size runs out. */
export function fillAgainstBook(order: OrderIntent, book: BookState): Fill[] {
  assertOrder(order);
  const fills: Fill[] = [];
  let remaining = order.contracts;
  for (const [price, qty] of opposingLevels(order, book)) {
    if (remaining <= 0 || !isMarketable(order.action, price, order.limitUnits)) break;
    if (!isValidPrice(price)) continue;
    const take = Math.min(remaining, Math.floor(qty));
    if (take <= 0) continue;
    fills.push({ priceUnits: price, contracts: take, liquidity: "taker" });
    remaining -= take;
  }
  return fills;
}

export interface TradePrintFillOptions {
  /** Half the assumed bid-ask spread around each print, in units. */
  halfSpreadUnits: Units;
  /** Fraction of each print's count this order may take, in (0, 1]. */
  participation: number;
}
export const TradePrintFillOptionsSchema = z.object({
  halfSpreadUnits: z.number().int().min(0).max(4999).default(100),
  participation: z.number().gt(0).max(1).default(0.1),
});
export const DEFAULT_TRADE_PRINT_FILL_OPTIONS: Readonly<TradePrintFillOptions> = Object.freeze({ halfSpreadUnits: 100, participation: 0.1 });

export interface TradePrint {
  yesPrice: Units;
  count: number;
  takerSide: OrderSide;
}

/** An order still waiting for prints, and how many of its contracts are still open. */
export interface RestingOrder {
  order: OrderIntent;
  remaining: number;
}

/** The price this order could trade at around a print: the print (as mid) moved against us by the half-spread. */
export function printExecutablePrice(order: Pick<OrderIntent, "side" | "action">, print: TradePrint, halfSpreadUnits: Units): Units {
  const mid = order.side === "yes" ? print.yesPrice : CONTRACT_PAYOUT - print.yesPrice;
  return order.action === "buy" ? mid + halfSpreadUnits : mid - halfSpreadUnits;
}

/**
 * `trade-print` model: one later print against a resting order. Returns at
 * most one taker fill, at the executable price, for at most
 * floor(participation × print count) contracts and never more than remain.
 */
export function fillAgainstTradePrint(
  resting: RestingOrder,
  print: TradePrint,
  options: Readonly<TradePrintFillOptions> = DEFAULT_TRADE_PRINT_FILL_OPTIONS,
): Fill[] {
  assertOrder(resting.order);
  if (!(options.participation > 0 && options.participation <= 1)) {
    throw new RangeError(`trade-print participation must be in (0, 1], got ${String(options.participation)}`);
  }
  if (resting.remaining <= 0) return [];
  const price = printExecutablePrice(resting.order, print, options.halfSpreadUnits);
  if (!isValidPrice(price) || !isMarketable(resting.order.action, price, resting.order.limitUnits)) return [];
  // The epsilon keeps 0.29 × 100 = 28.999999999999996 from losing a contract.
  const allowed = Math.floor(options.participation * print.count + 1e-9);
  const contracts = Math.min(resting.remaining, allowed);
  return contracts > 0 ? [{ priceUnits: price, contracts, liquidity: "taker" }] : [];
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
