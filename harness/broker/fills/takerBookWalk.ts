/**
 * Fill model `book`: a marketable order walks the recorded order book.
 *
 * Assumptions
 * - The order reaches the venue after the order latency
 *   (harness/latency/orderLatency.ts) and trades, at the first event at or
 *   after that time, against the book standing then (the one the strategy
 *   saw when no newer snapshot was recorded in between).
 * - It takes the opposing levels best first, one taker fill per level, at
 *   each level's own price, while the level is at or through the limit and
 *   contracts remain. Buying YES hits NO bids (a NO bid at X is a YES ask at
 *   10000 − X); buying NO hits YES bids; selling hits the own side's bids.
 * - Immediate-or-cancel: the rest expires.
 * - Our order does not move the book: the next snapshot is as recorded.
 *
 * Cannot know: liquidity that arrived or left between snapshots, other
 * takers racing us in the latency window, hidden size.
 */
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../../money/money.ts";
import { assertOrder, isMarketable, type Fill, type OrderIntent } from "./common.ts";

/** Bids only on each side: [price units, qty][], any order (sorted here). */
export interface BookState {
  yes: ReadonlyArray<readonly [Units, number]>;
  no: ReadonlyArray<readonly [Units, number]>;
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

/** Walk the levels best first, one taker fill per level, until the limit or the size runs out. */
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
