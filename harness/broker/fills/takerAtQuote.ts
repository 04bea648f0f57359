/**
 * Fill model `quote`: a marketable order takes liquidity at the touch.
 *
 * Assumptions
 * - The order reaches the venue after the order latency
 *   (harness/latency/orderLatency.ts); it is checked, at the first event at
 *   or after that time, against the market's quote standing then: a newer
 *   quote when one came in between, else the one the strategy saw.
 * - Buy at the ask, sell at the bid, one taker fill at that price, when the
 *   touch is at or through the limit. No price improvement, no walking past
 *   the touch (a quote shows one level).
 * - Size: capped by the size the quote shows when the dataset records it,
 *   else by `maxContractsWithoutSize` (the run config's
 *   `maxContractsPerQuote`, default 100).
 * - Immediate-or-cancel: what does not trade at that quote expires.
 *
 * Cannot know: depth behind the touch, whether someone else took the touch
 * in the latency window, hidden or resting liquidity.
 */
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../../money/money.ts";
import { assertOrder, isMarketable, type Fill, type OrderIntent } from "./common.ts";

/** A quote as replay sees it; sizes are optional because most datasets lack them. */
export interface QuoteState {
  yesBid: Units | null;
  yesAsk: Units | null;
  /** Contracts shown at the YES bid, when known. */
  yesBidSize?: number | null;
  /** Contracts shown at the YES ask, when known. */
  yesAskSize?: number | null;
}

export interface QuoteFillOptions {
  /** Largest fill against a quote whose size is unknown; Infinity trusts the quote for any size. */
  maxContractsWithoutSize: number;
}
export const DEFAULT_QUOTE_FILL_OPTIONS: Readonly<QuoteFillOptions> = Object.freeze({ maxContractsWithoutSize: Infinity });

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

/** One taker fill at the touch, if marketable. */
export function fillAgainstQuote(order: OrderIntent, quote: QuoteState, options: Readonly<QuoteFillOptions> = DEFAULT_QUOTE_FILL_OPTIONS): Fill[] {
  assertOrder(order);
  const touch = quoteTouch(order, quote);
  if (touch === null || !isMarketable(order.action, touch.price, order.limitUnits)) return [];
  const cap = touch.size === null ? options.maxContractsWithoutSize : Math.floor(touch.size);
  const contracts = Math.min(order.contracts, cap);
  return contracts > 0 ? [{ priceUnits: touch.price, contracts, liquidity: "taker" }] : [];
}
