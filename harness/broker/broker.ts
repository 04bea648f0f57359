/**
 * The Broker seam: an execution client (DESIGN.md "Broker = execution
 * client"). Replay plugs in the PaperBroker (a simulated venue filling
 * against recorded data); live plugs in the Kalshi broker. The engine
 * (harness/portfolio/executionEngine.ts) cannot tell them apart: it sends
 * orders and cancels, and learns what happened only from the execution
 * reports the broker emits to the sink it set. A broker holds no portfolio.
 *
 * Acknowledgement is asynchronous in principle: a paper broker emits its
 * reports synchronously, inside the call that caused them; a live broker
 * emits them later, when the exchange answers. The engine treats an order
 * as working only once `accepted` arrives.
 */
import type { MarketEvent } from "../events/types.ts";
import type { Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import type { ReportSink } from "./executionReport.ts";

export type { ExecutionReport, ReportSink } from "./executionReport.ts";
// The account as sizing and risk read it now lives with the engine-owned portfolio.
export type { PortfolioView, Position } from "../portfolio/portfolio.ts";

export interface OrderRequest {
  ticker: string;
  side: "yes" | "no";
  action: "buy" | "sell";
  /** Worst price for `side`, units. */
  limitUnits: Units;
  contracts: number;
  /** Why it was placed (stored with the order). */
  reason: string;
}

/** An order as it leaves the engine: with the id that makes a resubmission the same order. */
export type ClientOrder = OrderRequest & { clientOrderId: string };

export interface Broker {
  /** Where reports go. Set once, before the first submit. */
  onReport(sink: ReportSink): void;
  /** Send an order. Its fate comes back as reports (`accepted` or `rejected` first). */
  submit(order: ClientOrder, view: MarketView): void | Promise<void>;
  /** Ask for the rest of a working order to be cancelled; `cancelled` (or a fill that got there first) comes back as a report. */
  cancel(clientOrderId: string): void | Promise<void>;
  /** Market data after the market state applied it: a paper broker fills against it; a live broker ignores it. */
  onMarketEvent(event: MarketEvent, view: MarketView): void | Promise<void>;
  /** Replay only: the data ended at `ts`; end every working order (`expired`, reason `data_ended`) so its fee is settled. */
  endOfData?(ts: number): void;
}
