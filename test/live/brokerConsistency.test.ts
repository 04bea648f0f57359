/**
 * Property: whatever sequence of buys (YES and NO, crossing or resting, some
 * with their answer lost),
 * house trades against our resting orders and cancels happens, the engine's
 * books, fed only by the Kalshi broker's reports, agree with the exchange's
 * to the unit: cash (counting, as Kalshi does, $1 paid at once for each
 * YES+NO pair held), net position per market, and no order left working that
 * the exchange does not rest; reconciliation finds nothing. And the side mapping onto the one YES book.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toWire } from "../../harness/broker/kalshiBroker.ts";
import { clientOrderIdFor } from "../../harness/portfolio/executionEngine.ts";
import { reconcile } from "../../harness/live/reconcile.ts";
import { buy, liveStack, OTHER, TICKER } from "./liveStack.ts";
import { startFakeKalshi, TEST_KEY_ID } from "./fakeKalshiHelpers.ts";

describe("broker side mapping", () => {
  it("buy YES = bid at L, sell YES = ask at L, buy NO at L = ask at 1 − L, sell NO at L = bid at 1 − L; sells reduce only", () => {
    fc.assert(
      fc.property(fc.constantFrom("yes" as const, "no" as const), fc.constantFrom("buy" as const, "sell" as const), fc.integer({ min: 1, max: 99 }), (side, action, cents) => {
        const L = cents * 100;
        const w = toWire({ ticker: "T", side, action, limitUnits: L, contracts: 3, reason: "r", clientOrderId: "c" }, "good_till_canceled");
        expect(w.bookSide).toBe((side === "yes") === (action === "buy") ? "bid" : "ask");
        expect(w.yesPriceUnits).toBe(side === "yes" ? L : 10_000 - L);
        expect(w.reduceOnly).toBe(action === "sell");
      }),
    );
  });
});

const step = fc.oneof(
  fc.record({ kind: fc.constant("buy" as const), market: fc.constantFrom(TICKER, OTHER), side: fc.constantFrom("yes" as const, "no" as const), cents: fc.integer({ min: 20, max: 80 }), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("house" as const), market: fc.constantFrom(TICKER, OTHER), side: fc.constantFrom("bid" as const, "ask" as const), cents: fc.integer({ min: 20, max: 80 }), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("cancel" as const), nth: fc.nat({ max: 10 }) }),
  // A buy whose answer is lost (executed on the exchange, the client times out).
  fc.record({ kind: fc.constant("lost" as const), market: fc.constantFrom(TICKER, OTHER), side: fc.constantFrom("yes" as const, "no" as const), cents: fc.integer({ min: 20, max: 80 }), count: fc.integer({ min: 1, max: 8 }) }),
);

describe("engine books against the exchange's", () => {
  it("agree to the unit after any sequence of orders, fills and cancels", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const fake = await startFakeKalshi({ markets: [TICKER, OTHER], balanceDollars: 500 });
        const s = await liveStack({ fake, runId: "prop", timeoutMs: 150 });
        try {
          fake.exchange.seedLiquidity(TICKER, "ask", 0.55, 20);
          fake.exchange.seedLiquidity(TICKER, "bid", 0.45, 20);
          let seq = 0;
          for (const st of steps) {
            if (st.kind === "lost") fake.exchange.hangNextSubmit();
            if (st.kind === "buy" || st.kind === "lost") await s.submit(seq++, buy(st.market, st.side, st.cents * 100, st.count));
            else if (st.kind === "house") fake.exchange.houseTakes(st.market, st.side, st.cents / 100, st.count);
            else if (seq > 0) await s.engine.cancel(100 + seq, clientOrderIdFor("prop", st.nth % seq));
            s.drain();
          }
          // Reconciliation first: it settles the lost answers (the market stays blocked until then).
          const r = await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "report", log: null });
          expect(r.discrepancies).toEqual([]);
          expect(s.broker.blockedMarkets()).toEqual([]);
          const p = s.engine.portfolio;
          // Kalshi pays $1 for each YES+NO pair at once (netting); the engine holds the pair at cost until settlement.
          const pairs = [...p.positions()].reduce((n, x) => n + Math.min(x.yes, x.no), 0);
          expect(p.cashUnits() + pairs * 10_000).toBe(fake.exchange.balanceUnits(TEST_KEY_ID));
          for (const t of [TICKER, OTHER]) {
            const local = p.position(t);
            const ex = fake.exchange.positions(TEST_KEY_ID).find((x) => x.ticker === t);
            expect(local ? local.yes - local.no : 0).toBe(ex ? Number(ex.position_fp) : 0);
          }
          const resting = new Set(fake.exchange.orders(TEST_KEY_ID, { status: "resting" }).map((o) => o.client_order_id));
          expect(new Set([...p.openOrders()].map((o) => o.clientOrderId))).toEqual(resting);
        } finally {
          await s.close();
          await fake.close();
        }
      }),
      { numRuns: 8 },
    );
  });
});
