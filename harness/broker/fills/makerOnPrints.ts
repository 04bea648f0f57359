/**
 * Fill model `print-maker`: a resting limit order on trades-only data. What
 * `auto` picks when a dataset has neither quotes nor books.
 *
 * Trades-only data shows neither the touch nor the queue, so the order is
 * treated as resting at its limit from the moment it reaches the venue (after
 * the order latency, harness/latency/orderLatency.ts) until it fills, its
 * time-to-live (`orderTtlMs`) runs out, or the market closes.
 *
 * Assumptions
 * - Own limit only: every fill is at the order's limit, never better, and is
 *   a maker fill (maker fees where the series charges them).
 * - Only a taker who traded against us fills us. Our order is a YES bid (buy
 *   YES, or sell NO at q = YES bid at 10000 − q) or a YES ask (sell YES, or
 *   buy NO at q = YES ask at 10000 − q). A YES bid is hit only by prints
 *   whose taker sold YES (`taker_side` = no); a YES ask is lifted only by
 *   prints whose taker bought YES (`taker_side` = yes).
 * - Through our price: a print strictly through our limit (a seller at a
 *   YES price below our bid, a buyer above our ask) swept our level, so it
 *   fills us up to the participation cap.
 * - At our price: a print exactly at our limit trades the queue there first.
 *   `queueAheadContracts` (a named parameter) is how many contracts rest
 *   ahead of us when we join; prints at our price use them up before any
 *   reaches us. `null` (the default) means the queue ahead is never known
 *   to clear, so prints at our price never fill us: the conservative choice
 *   on data that cannot see the queue.
 * - Participation cap: from one print at most floor(participation × count)
 *   contracts (`participation`, default 0.1), and never more than remain.
 *   Each of our orders is capped on its own.
 * - Only prints after the order is live count: never the print the strategy
 *   decided on.
 *
 * Cannot know: the real queue, whether the print's counterparty was resting
 * before us, hidden size, or how our own order would have changed the
 * prints (another trader might have taken our price instead). A marketable
 * order is also treated as resting: it pays its own limit, never the better
 * touch a book might have shown, which makes this model pessimistic for
 * orders placed through the market.
 */
import { z } from "zod";
import { CONTRACT_PAYOUT } from "../../money/money.ts";
import { assertOrder, participationCap, type Fill, type OrderIntent, type TradePrint } from "./common.ts";

export interface PrintMakerFillOptions {
  /** Fraction of each print's count one order may take, in (0, 1]. */
  participation: number;
  /** Contracts resting ahead of us at our price when we join; null: prints at our price never reach us. */
  queueAheadContracts: number | null;
}
export const PrintMakerFillOptionsSchema = z
  .object({
    participation: z.number().gt(0).max(1).default(0.1),
    queueAheadContracts: z.number().min(0).nullable().default(null),
  })
  .strict();
export const DEFAULT_PRINT_MAKER_FILL_OPTIONS: Readonly<PrintMakerFillOptions> = Object.freeze({ participation: 0.1, queueAheadContracts: null });

/** A resting order: what is left of it and of the queue ahead of it at its price. */
export interface RestingMakerOrder {
  order: OrderIntent;
  remaining: number;
  /** Contracts still ahead of us at our price; null: unknown, never cleared. */
  queueAhead: number | null;
}

/** Where our order rests, in YES terms: a YES bid or a YES ask at this YES price. */
export function restingYesQuote(order: Pick<OrderIntent, "side" | "action" | "limitUnits">): { book: "bid" | "ask"; yesPrice: number } {
  const yesBid = (order.side === "yes") === (order.action === "buy");
  const yesPrice = order.side === "yes" ? order.limitUnits : CONTRACT_PAYOUT - order.limitUnits;
  return { book: yesBid ? "bid" : "ask", yesPrice };
}

/** How a print relates to our resting price: it missed us, traded at our price (queue), or swept through it. */
export function printReach(order: Pick<OrderIntent, "side" | "action" | "limitUnits">, print: TradePrint): "none" | "at" | "through" {
  const { book, yesPrice } = restingYesQuote(order);
  // A YES bid is hit by sellers of YES (taker bought NO); a YES ask by buyers of YES.
  if (book === "bid") {
    if (print.takerSide !== "no") return "none";
    return print.yesPrice < yesPrice ? "through" : print.yesPrice === yesPrice ? "at" : "none";
  }
  if (print.takerSide !== "yes") return "none";
  return print.yesPrice > yesPrice ? "through" : print.yesPrice === yesPrice ? "at" : "none";
}

/**
 * One later print against a resting order: at most one maker fill at the
 * order's limit, and what is left of the queue ahead of it.
 */
export function fillOnPrint(
  resting: RestingMakerOrder,
  print: TradePrint,
  options: Readonly<PrintMakerFillOptions> = DEFAULT_PRINT_MAKER_FILL_OPTIONS,
): { fills: Fill[]; queueAhead: number | null } {
  assertOrder(resting.order);
  const reach = printReach(resting.order, print);
  let queueAhead = resting.queueAhead;
  if (reach === "none" || resting.remaining <= 0) return { fills: [], queueAhead };
  let reachable = print.count;
  if (reach === "at") {
    if (queueAhead === null) return { fills: [], queueAhead };
    const used = Math.min(queueAhead, print.count);
    queueAhead -= used;
    reachable = print.count - used;
  }
  const contracts = Math.min(participationCap(options.participation, print.count, resting.remaining), Math.floor(reachable + 1e-9));
  const fills: Fill[] = contracts > 0 ? [{ priceUnits: resting.order.limitUnits, contracts, liquidity: "maker" }] : [];
  return { fills, queueAhead };
}
