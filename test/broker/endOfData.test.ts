/** When the data ends, a resting paper order expires (reason data_ended) and its fee rounding is charged; its position stays open at its mark. */
import { describe, expect, it } from "vitest";
import { PaperBroker, PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { MarketEvent, MarketInfo } from "../../harness/events/types.ts";
import { ExecutionEngine } from "../../harness/portfolio/executionEngine.ts";
import { MarketState } from "../../harness/state/marketState.ts";
import type { OpenPositionRow, OrderRow, Store } from "../../harness/store/resultsStore.ts";

const info: MarketInfo = { ticker: "T", eventTicker: "E", seriesTicker: "KXS", title: "t", subtitle: null, rules: null, background: null, category: null, openTime: 0, scheduledCloseTime: 100_000_000 };

describe("end of data", () => {
  it("expires working orders with their fee rounded to the cent, and reports the position open at its mark", () => {
    const orders: OrderRow[] = [];
    const open: OpenPositionRow[] = [];
    const store: Store = {
      forecast: () => {}, decision: () => {}, fill: () => {}, settlement: () => {}, equity: () => {}, outcome: () => {},
      order: (_ev, r) => void orders.push(r),
      openPosition: (_ev, r) => void open.push(r),
      checkpoint: async () => {},
    };
    const clock = new SimulatedClock();
    const view = new MarketState(clock);
    const broker = new PaperBroker(PaperBrokerConfig.parse({ latencyMs: 0, fees: { default: { makerFees: true } } }), { hasBidAsk: false, hasOrderbook: false });
    const engine = new ExecutionEngine({ runId: "r", broker, store, startingCashUnits: 10_000_000 });
    const feed = (e: MarketEvent) => {
      clock.observe(e.ts);
      view.apply(e);
      engine.onEvent(0, e, view);
    };
    feed({ kind: "open", ts: 0, ticker: "T", market: info });
    engine.submit(0, 0, { ticker: "T", side: "yes", action: "buy", limitUnits: 4000, contracts: 50, reason: "t" }, view);
    // A seller through our bid: 10% of 30 = 3 contracts at 0.40, maker fee 0.0175 × 3 × 0.24 = 126 units.
    feed({ kind: "trade", ts: 1000, ticker: "T", tradeId: "a", yesPrice: 3900, count: 30, takerSide: "no" });
    expect(engine.portfolio.position("T")).toMatchObject({ yes: 3, costUnits: 3 * 4000 + 126 });
    engine.finish(1, 2000, view);
    expect(orders).toEqual([expect.objectContaining({ status: "partial", filled: 3, feeUnits: 200 })]);
    // The order's fee was rounded up to the cent when it expired: 126 → 200 units, in the position's cost.
    // Mark: the last print 0.39 less the 1¢ half-spread = 0.38 bid × 3.
    expect(open).toEqual([{ ts: 2000, ticker: "T", yesContracts: 3, noContracts: 0, costUnits: 12_200, markUnits: 11_400, pnlUnits: -800 }]);
  });
});
