/**
 * The Broker seam: where orders go. Replay plugs in the PaperBroker
 * (simulated fills against recorded data); live plugs in the Kalshi broker.
 * The pipeline cannot tell them apart.
 */
import type { MarketEvent } from "../events/types.ts";
import type { Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";

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

export interface Position {
  ticker: string;
  yes: number;
  no: number;
  /** What was paid, fees included, units. */
  costUnits: Units;
}

/** What sizing and risk may read about the account. */
export interface PortfolioView {
  cashUnits(): Units;
  /** Cash plus open positions at cost. */
  equityUnits(): Units;
  /** Equity at the start of the current UTC day (for the daily loss limit). */
  dayStartEquityUnits(): Units;
  openPositionCount(): number;
  position(ticker: string): Position | undefined;
  /** Orders working (not yet filled or cancelled) for this market. */
  hasWorkingOrder(ticker: string): boolean;
  /** Orders submitted in the hour before now. */
  ordersInLastHour(now: number): number;
}

export interface Broker {
  readonly portfolio: PortfolioView;
  /** Place an order at `ev` (the index of the event being handled). */
  submit(ev: number, order: OrderRequest, view: MarketView): void | Promise<void>;
  /** Called for every event after the market state has applied it: fills working orders, settles positions. */
  onEvent(ev: number, event: MarketEvent, view: MarketView): void | Promise<void>;
}
