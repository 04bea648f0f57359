/**
 * The engine's side of execution (DESIGN.md "Broker = execution client"):
 * what the pipeline calls. It owns the portfolio and the risk state, checks
 * buying power before an order leaves, hands orders to a `Broker` (paper or
 * exchange), and applies every execution report the broker emits: the
 * portfolio changes only through those reports, so a paper broker and the
 * Kalshi broker share all accounting.
 */
import type { MarketEvent } from "../events/types.ts";
import type { MarketView } from "../state/marketState.ts";
import type { OrderRequest, PortfolioView } from "../broker/broker.ts";

export interface Execution {
  readonly portfolio: PortfolioView;
  /**
   * After the market state applied `event`: give the broker its market data
   * (a paper broker fills against it), apply every report that results, and
   * settle positions on a settle event.
   */
  onEvent(ev: number, event: MarketEvent, view: MarketView): void | Promise<void>;
  /**
   * Check buying power, then send the order. `decisionSeq` numbers the run's
   * decisions (0, 1, …, stable across restarts): the client order id is
   * derived from the run and it.
   */
  submit(ev: number, decisionSeq: number, order: OrderRequest, view: MarketView): void | Promise<void>;
  /** Apply reports that arrived on their own (a live venue); returns how many were applied. */
  drainReports(ev: number): number;
  /**
   * The data ended (replay): report positions still open at their mark and
   * record the final marked equity. `ev` is the number of events applied,
   * `ts` the last event's time.
   */
  finish?(ev: number, ts: number, view: MarketView): void;
}
