/**
 * Execution reports: everything a venue (paper or exchange) says about an
 * order, as plain data (DESIGN.md "Broker = execution client"). The engine
 * applies them, in the order received, to the portfolio it owns and to the
 * results store; nothing else changes either.
 *
 * Life of an order: the engine submits it (pending) → `accepted` (working,
 * with the venue's order id) or `rejected` → zero or more
 * `partially_filled` → it ends with `filled` (nothing left), `cancelled`
 * (someone asked: us, or the venue on its own terms, e.g. a kill switch) or
 * `expired` (its time in force ran out: an immediate-or-cancel remainder, a
 * time-to-live, a market that closed). A fill may arrive before the
 * acceptance (live venues do not order their channels); it implies it.
 */
import type { Units } from "../money/money.ts";
import type { Liquidity } from "./fees.ts";

interface ReportBase {
  /** The engine's id for the order (derived from run and decision). */
  clientOrderId: string;
  /** When the venue did it, ms of the run's clock. */
  ts: number;
}

/** The venue took the order; it is working from now on. */
export interface OrderAccepted extends ReportBase {
  kind: "accepted";
  venueOrderId: string;
}

/** The venue refused the order; nothing of it ever worked. */
export interface OrderRejected extends ReportBase {
  kind: "rejected";
  /** The venue's id when it assigned one before refusing. */
  venueOrderId: string | null;
  /** The venue's reason, e.g. `insufficient_balance`, `market_closed`. */
  reason: string;
}

interface FillFields {
  venueOrderId: string;
  fillId: string;
  /** Price per contract for the order's side, units. */
  priceUnits: Units;
  contracts: number;
  /** This fill's fee as the venue charged it (Kalshi: rounded up to one unit). */
  feeUnits: Units;
  liquidity: Liquidity;
  /** Contracts still open after this fill. */
  leaves: number;
}

/** Part of the order traded; the rest keeps working. */
export interface OrderPartiallyFilled extends ReportBase, FillFields {
  kind: "partially_filled";
}

/** The last contracts traded: the order is complete (`leaves` is 0). */
export interface OrderFilled extends ReportBase, FillFields {
  kind: "filled";
  /** The order's whole fee (Kalshi: its fills' fees rounded up to the cent); the part not yet charged with fills is charged now. */
  orderFeeUnits: Units;
}

interface EndFields {
  venueOrderId: string;
  reason: string;
  /** Contracts that never traded. */
  leaves: number;
  /** The order's whole fee, as in `OrderFilled`. */
  orderFeeUnits: Units;
}

/** The rest of the order was cancelled on request. */
export interface OrderCancelled extends ReportBase, EndFields {
  kind: "cancelled";
}

/** The rest of the order ended by its own terms (immediate-or-cancel, time to live, market closed). */
export interface OrderExpired extends ReportBase, EndFields {
  kind: "expired";
}

export type ExecutionReport = OrderAccepted | OrderRejected | OrderPartiallyFilled | OrderFilled | OrderCancelled | OrderExpired;
export type ExecutionReportKind = ExecutionReport["kind"];

/** Reports that end an order: after one of these no other report for it may come. */
export type TerminalReport = OrderRejected | OrderFilled | OrderCancelled | OrderExpired;

export function isTerminal(r: ExecutionReport): r is TerminalReport {
  return r.kind === "rejected" || r.kind === "filled" || r.kind === "cancelled" || r.kind === "expired";
}

/** Where a broker sends its reports; set once by the engine that owns it. */
export type ReportSink = (report: ExecutionReport) => void;
