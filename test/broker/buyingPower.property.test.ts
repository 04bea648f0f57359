/**
 * The buying-power bound holds whatever the market does: with the paper
 * broker filling random orders against random quotes and trade prints (one
 * fill or many, at any price within the limit), the engine's cash never
 * drops below what orders in flight still reserve, so cash never goes
 * negative; and an order whose notional alone exceeds buying power never leaves.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PaperBroker, PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { MarketEvent } from "../../harness/events/types.ts";
import { ExecutionEngine } from "../../harness/portfolio/executionEngine.ts";
import { MarketState } from "../../harness/state/marketState.ts";
import type { Store } from "../../harness/store/resultsStore.ts";

const nullStore: Store = {
  forecast: () => {},
  decision: () => {},
  order: () => {},
  fill: () => {},
  settlement: () => {},
  openPosition: () => {},
  equity: () => {},
  outcome: () => {},
  checkpoint: async () => {},
};

const step = fc.oneof(
  fc.record({ kind: fc.constant("quote" as const), bid: fc.integer({ min: 1, max: 9998 }), width: fc.integer({ min: 1, max: 2000 }) }),
  fc.record({ kind: fc.constant("trade" as const), price: fc.integer({ min: 1, max: 9999 }), count: fc.integer({ min: 1, max: 400 }) }),
  fc.record({
    kind: fc.constant("order" as const),
    side: fc.constantFrom("yes" as const, "no" as const),
    limit: fc.integer({ min: 1, max: 9999 }),
    contracts: fc.integer({ min: 1, max: 300 }),
  }),
);

describe("buying power (property)", () => {
  it("keeps cash at or above what orders in flight reserve, under any fills", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("quote" as const, "trade-print" as const),
        fc.integer({ min: 1_000, max: 400_000 }),
        fc.array(step, { minLength: 1, maxLength: 60 }),
        (fillModel, bankroll, steps) => {
          const clock = new SimulatedClock();
          const view = new MarketState(clock);
          const sent: string[] = [];
          const broker = new PaperBroker(PaperBrokerConfig.parse({ fillModel, latencyMs: 0, tradePrint: { halfSpreadUnits: 0, participation: 0.3 } }), {
            hasBidAsk: true,
            hasOrderbook: false,
          });
          const submit = broker.submit.bind(broker);
          broker.submit = (o, v) => {
            sent.push(o.clientOrderId);
            submit(o, v);
          };
          const engine = new ExecutionEngine({ runId: "prop", broker, store: nullStore, startingCashUnits: bankroll });
          const p = engine.portfolio;
          let ts = 1_000;
          let ev = 0;
          const apply = (e: MarketEvent) => {
            clock.observe(e.ts);
            view.apply(e);
            engine.onEvent(ev++, e, view);
          };
          apply({
            kind: "open",
            ts,
            ticker: "M",
            market: { ticker: "M", eventTicker: "E", seriesTicker: "S", title: "m", subtitle: null, rules: null, background: null, category: null, openTime: 0, scheduledCloseTime: 1e12 },
          });
          let seq = 0;
          for (const s of steps) {
            ts += 1_000;
            if (s.kind === "quote") apply({ kind: "quote", ts, ticker: "M", yesBid: s.bid, yesAsk: Math.min(9999, s.bid + s.width), lastPrice: null, volume: null, openInterest: null });
            else if (s.kind === "trade") apply({ kind: "trade", ts, ticker: "M", tradeId: `t${ts}`, yesPrice: s.price, count: s.count, takerSide: "yes" });
            else {
              clock.observe(ts);
              const before = p.buyingPowerUnits();
              const n = sent.length;
              engine.submit(ev, seq++, { ticker: "M", side: s.side, action: "buy", limitUnits: s.limit, contracts: s.contracts, reason: "p" }, view);
              // Never sent when even its notional (a lower bound of its worst case) exceeds buying power.
              if (s.limit * s.contracts > before) expect(sent.length).toBe(n);
            }
            expect(p.buyingPowerUnits()).toBeGreaterThanOrEqual(0);
            expect(p.cashUnits()).toBeGreaterThanOrEqual(p.reservedUnits());
          }
          apply({ kind: "settle", ts: ts + 1_000, ticker: "M", result: "yes" });
          expect(p.reservedUnits()).toBe(0);
          expect(p.cashUnits()).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
