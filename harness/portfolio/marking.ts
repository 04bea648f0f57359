/**
 * Marking: what an open position is worth before its market settles, as a
 * named model (harness/REALISM.md "Marking").
 *
 * `bid` (the only model today): a position is worth what it would fetch if
 * sold now, at the bid. Long YES contracts at the YES bid; long NO at the NO
 * bid, which is 10000 − YES ask. The bid comes from the same place sizing
 * reads its prices (harness/sizing/sizer.ts `executablePrices`): the quote,
 * else the best book level, else, on trades-only data, the last print less
 * the half-spread the run assumes (`broker.tradePrint.halfSpreadUnits`). A
 * quoted market with no bid on a side marks that side at 0. A market that
 * has shown no price at all leaves the position at cost.
 *
 * Equity (cash + marked positions) is recorded every `markEveryMs` of
 * simulated time while positions are open (default hourly), after every
 * order that traded and every settlement, and at the end of the data. A
 * market still unresolved at the end stays open: it is reported at its mark,
 * never refunded (only a market the source says was voided refunds).
 *
 * Cannot know: the depth behind the bid (selling a large position would
 * walk it), a bid that appears only between recorded prints, or how the
 * market would have resolved after the data ends.
 */
import { CONTRACT_PAYOUT, type Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import { executablePrices } from "../sizing/sizer.ts";

export const MARKING_MODEL = "marked to bid";
export const DEFAULT_MARK_EVERY_MS = 3_600_000;

/** How the run row and the report name the marking: "marked to bid, every 60 min". */
export function describeMarking(markEveryMs: number): string {
  return `${MARKING_MODEL}, every ${markEveryMs % 60_000 === 0 ? `${markEveryMs / 60_000} min` : `${markEveryMs} ms`}`;
}

/**
 * A position's value at the bid, in units: yes × YES bid + no × (10000 − YES
 * ask). Null when neither side's price is known.
 */
export function markToBid(position: { yes: number; no: number }, yesBid: Units | null, yesAsk: Units | null): Units | null {
  if (yesBid === null && yesAsk === null) return null;
  const yesValue = position.yes === 0 ? 0 : position.yes * Math.max(0, yesBid ?? 0);
  const noValue = position.no === 0 ? 0 : position.no * Math.max(0, yesAsk === null ? 0 : CONTRACT_PAYOUT - yesAsk);
  return yesValue + noValue;
}

/** The mark of a position in this market now, by the view's prices. */
export function markFromView(view: MarketView, ticker: string, position: { yes: number; no: number }, halfSpreadUnits: Units): Units | null {
  const { yesBid, yesAsk } = executablePrices(view, ticker, halfSpreadUnits);
  return markToBid(position, yesBid, yesAsk);
}
