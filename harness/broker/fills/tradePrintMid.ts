/**
 * Fill model `trade-print` (legacy, optimistic): kept so older runs can be
 * reproduced and compared; `auto` no longer picks it (see `print-maker`).
 *
 * Assumptions
 * - Each later trade print is the market's mid; the order's executable price
 *   is the print moved against it by `halfSpreadUnits`.
 * - The order rests until its time-to-live and fills, as a taker, at that
 *   executable price whenever it is at or through the limit, for at most
 *   floor(participation × print count) contracts per print.
 * - The print's taker side is ignored.
 *
 * Known to flatter: a resting buy at 0.60 fills at 0.21 when the market later
 * prints at 0.20, i.e. better than its own limit, as a taker, minutes after
 * it was placed; on the bundled sample's momentum run that was $69.62 of
 * price improvement on $346.78 of notional. A book would fill a resting
 * order at its own limit (as a maker), or a marketable one at the touch at
 * once.
 */
import { z } from "zod";
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../../money/money.ts";
import { assertOrder, isMarketable, participationCap, type Fill, type OrderIntent, type TradePrint } from "./common.ts";

export interface TradePrintFillOptions {
  /** Half the assumed bid-ask spread around each print, in units. */
  halfSpreadUnits: Units;
  /** Fraction of each print's count this order may take, in (0, 1]. */
  participation: number;
}
export const TradePrintFillOptionsSchema = z
  .object({
    halfSpreadUnits: z.number().int().min(0).max(4999).default(100),
    participation: z.number().gt(0).max(1).default(0.1),
  })
  // A typo (`halfSpread`) would otherwise leave the default in force, silently (issue 13: strict configs).
  .strict();
export const DEFAULT_TRADE_PRINT_FILL_OPTIONS: Readonly<TradePrintFillOptions> = Object.freeze({ halfSpreadUnits: 100, participation: 0.1 });

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

/** One later print against a resting order: at most one taker fill at the executable price. */
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
  const contracts = participationCap(options.participation, print.count, resting.remaining);
  return contracts > 0 ? [{ priceUnits: price, contracts, liquidity: "taker" }] : [];
}
