/**
 * The Kalshi broker on the live stack (fake exchange over loopback HTTP, real
 * client, engine, DuckDB): fills and fees agree with the exchange to the unit,
 * a resubmission after a crash creates no second order, a submit whose
 * outcome is unknown blocks its market until reconciliation settles it, an
 * order the exchange cancels ends locally, the kill switch cancels everything.
 * Fee figures are worked by hand: fee = ceil(0.07 × C × P × (1 − P)) per fill,
 * the order's total rounded up to the cent.
 */
import { afterEach, describe, expect, it } from "vitest";
import { REASON_HALTED, REASON_MARKET_BLOCKED, REASON_NOT_ON_EXCHANGE } from "../../harness/broker/kalshiBroker.ts";
import { clientOrderIdFor } from "../../harness/portfolio/executionEngine.ts";
import { reconcile } from "../../harness/live/reconcile.ts";
import { buy, liveStack, OTHER, TICKER, type Stack } from "./liveStack.ts";
import { startFakeKalshi, TEST_KEY_ID } from "./fakeKalshiHelpers.ts";

const stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
});
async function stack(opts: Parameters<typeof liveStack>[0] = {}): Promise<Stack> {
  const s = await liveStack(opts);
  stacks.push(s);
  return s;
}

describe("Kalshi broker", () => {
  it("a taker buy fills at the resting price; the local cash equals the exchange balance to the unit", async () => {
    const s = await stack();
    s.fake.exchange.seedLiquidity(TICKER, "ask", 0.45, 10);
    await s.submit(0, buy(TICKER, "yes", 5000, 5));
    s.drain();
    const p = s.engine.portfolio;
    // 5 × $0.45: fee ceil(0.07 × 5 × 0.45 × 0.55 $ = 866.25 u) = 867, order fee to the cent 900. Cash 10,000,000 − 22,500 − 900.
    expect(p.cashUnits()).toBe(10_000_000 - 22_500 - 900);
    expect(p.cashUnits()).toBe(s.fake.exchange.balanceUnits(TEST_KEY_ID));
    expect(p.position(TICKER)).toEqual({ ticker: TICKER, yes: 5, no: 0, costUnits: 23_400, markUnits: null });
    expect(p.hasWorkingOrder(TICKER)).toBe(false);
    const fills = await s.rows(`SELECT price_units, contracts, fee_units, liquidity FROM fills`);
    expect(fills).toEqual([{ price_units: 4500n, contracts: 5n, fee_units: 867n, liquidity: "taker" }]);
    const orders = await s.rows(`SELECT status, filled, fee_units, client_order_id FROM orders`);
    expect(orders).toEqual([{ status: "filled", filled: 5n, fee_units: 900n, client_order_id: clientOrderIdFor(s.runId, 0) }]);
  });

  it("a NO buy is an ask on the YES book; a resting order fills as maker through the private channel, then the rest is cancelled", async () => {
    const s = await stack();
    // Buy 10 NO at $0.30 = ask YES at $0.70; nothing crosses, it rests.
    await s.submit(0, buy(TICKER, "no", 3000, 10));
    const id = clientOrderIdFor(s.runId, 0);
    expect(s.engine.portfolio.openOrder(id)).toMatchObject({ state: "working", filled: 0 });
    expect(s.fake.exchange.bookSnapshot(TICKER).msg.no_dollars_fp).toEqual([["0.3000", "10.00"]]);
    // Someone buys 4 YES at $0.70: our order fills 4 as maker (no maker fee on this series).
    s.fake.exchange.houseTakes(TICKER, "bid", 0.7, 4);
    expect(s.drain()).toBe(1);
    expect(s.engine.portfolio.position(TICKER)).toEqual({ ticker: TICKER, yes: 0, no: 4, costUnits: 12_000, markUnits: null });
    await s.engine.cancel(99, id);
    expect(s.engine.portfolio.openOrder(id)).toBeUndefined();
    const [row] = await s.rows(`SELECT status, filled, fee_units, reason FROM orders`);
    expect(row).toEqual({ status: "cancelled", filled: 4n, fee_units: 0n, reason: "edge; cancelled: requested" });
    expect(s.engine.portfolio.cashUnits()).toBe(s.fake.exchange.balanceUnits(TEST_KEY_ID));
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
  });

  it("a resubmission after a crash creates no second order: the new process adopts the one the exchange has", async () => {
    const fake = await startFakeKalshi({ markets: [TICKER, OTHER] });
    try {
      const first = await stack({ fake, runId: "crashy" });
      await first.submit(0, buy(TICKER, "yes", 2000, 3)); // rests
      first.unplug(); // the process dies: it hears nothing more
      const again = await stack({ fake, runId: "crashy" });
      const id = clientOrderIdFor("crashy", 0);
      await again.submit(0, buy(TICKER, "yes", 2000, 3)); // the same decision, resubmitted
      const mine = fake.exchange.orders(TEST_KEY_ID).filter((o) => o.client_order_id === id);
      expect(mine).toHaveLength(1);
      expect(again.engine.portfolio.openOrder(id)).toMatchObject({ state: "working", venueOrderId: mine[0]!.order_id });
      // It is the same order: when it fills, the new process sees it.
      fake.exchange.houseTakes(TICKER, "ask", 0.2, 3);
      again.drain();
      expect(again.engine.portfolio.position(TICKER)).toMatchObject({ yes: 3, no: 0 });
    } finally {
      await fake.close();
    }
  });

  it("a crash while a submit hangs: the restarted process resubmits the same decision and gets the one order, not two", async () => {
    const fake = await startFakeKalshi({ markets: [TICKER, OTHER] });
    try {
      fake.exchange.seedLiquidity(TICKER, "ask", 0.4, 2);
      const first = await stack({ fake, runId: "hung", timeoutMs: 200 });
      first.unplug();
      fake.exchange.hangNextSubmit();
      await first.submit(0, buy(TICKER, "yes", 4500, 5)); // executed on the exchange (2 filled, 3 resting); no answer came
      expect(first.broker.blockedMarkets()).toEqual([TICKER]);
      const again = await stack({ fake, runId: "hung" });
      await again.submit(0, buy(TICKER, "yes", 4500, 5));
      again.drain();
      const id = clientOrderIdFor("hung", 0);
      expect(fake.exchange.orders(TEST_KEY_ID).filter((o) => o.client_order_id === id)).toHaveLength(1);
      expect(again.engine.portfolio.position(TICKER)).toMatchObject({ yes: 2 });
      expect(again.engine.portfolio.openOrder(id)).toMatchObject({ state: "working", filled: 2, leaves: 3 });
    } finally {
      await fake.close();
    }
  });

  it("a submit that times out but was executed blocks its market until reconciliation adopts it", async () => {
    const s = await stack({ timeoutMs: 250 });
    s.fake.exchange.seedLiquidity(TICKER, "ask", 0.4, 10);
    s.fake.exchange.seedLiquidity(OTHER, "ask", 0.4, 10);
    s.fake.exchange.hangNextSubmit();
    s.unplug(); // the answer is lost and so are the private messages: only reconciliation can tell
    await s.submit(0, buy(TICKER, "yes", 4500, 2));
    const id0 = clientOrderIdFor(s.runId, 0);
    expect(s.drain()).toBe(0);
    expect(s.engine.portfolio.openOrder(id0)?.state).toBe("pending"); // still reserving buying power
    expect(s.broker.blockedMarkets()).toEqual([TICKER]);
    // Another order on that market is refused without reaching the exchange; another market trades.
    const before = s.fake.exchange.orders(TEST_KEY_ID).length;
    await s.submit(1, buy(TICKER, "yes", 4500, 1));
    await s.submit(2, buy(OTHER, "yes", 4500, 1));
    expect(s.fake.exchange.orders(TEST_KEY_ID).length).toBe(before + 1);
    const refused = await s.rows(`SELECT client_order_id, status, reason FROM orders WHERE status = 'rejected'`);
    expect(refused).toEqual([{ client_order_id: clientOrderIdFor(s.runId, 1), status: "rejected", reason: `edge; rejected: ${REASON_MARKET_BLOCKED}` }]);

    const r = await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "report", log: null });
    expect(r.unknownOutcomes).toEqual({ adopted: [id0], rejected: [] });
    expect(r.discrepancies).toEqual([]);
    expect(s.broker.blockedMarkets()).toEqual([]);
    expect(s.engine.portfolio.position(TICKER)).toMatchObject({ yes: 2 });
    expect(s.engine.portfolio.cashUnits()).toBe(s.fake.exchange.balanceUnits(TEST_KEY_ID));
    await s.submit(3, buy(TICKER, "yes", 4500, 1));
    expect(s.engine.portfolio.position(TICKER)).toMatchObject({ yes: 3 });
  });

  it("a submit that times out is settled by the private channel when it speaks first: the market unblocks without waiting for reconciliation", async () => {
    const s = await stack({ timeoutMs: 250 });
    s.fake.exchange.seedLiquidity(TICKER, "ask", 0.4, 10);
    s.fake.exchange.hangNextSubmit();
    await s.submit(0, buy(TICKER, "yes", 4500, 2)); // the user_orders and fill messages arrived; the HTTP answer never did
    expect(s.broker.blockedMarkets()).toEqual([]);
    s.drain();
    expect(s.engine.portfolio.position(TICKER)).toMatchObject({ yes: 2 });
    expect(s.engine.portfolio.openOrder(clientOrderIdFor(s.runId, 0))).toBeUndefined();
  });

  it("a submit answered with a renamed field is in doubt, not rejected: reconciliation finds the live order", async () => {
    const s = await stack();
    s.unplug();
    s.fake.exchange.garbleNextSubmit();
    await s.submit(0, buy(TICKER, "yes", 3000, 4)); // rests on the exchange; the answer says `id`, not `order_id`
    const id = clientOrderIdFor(s.runId, 0);
    expect(s.broker.blockedMarkets()).toEqual([TICKER]);
    expect(s.engine.portfolio.openOrder(id)?.state).toBe("pending");
    const r = await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "report", log: null });
    expect(r.unknownOutcomes.adopted).toEqual([id]);
    expect(s.engine.portfolio.openOrder(id)).toMatchObject({ state: "working", leaves: 4 });
  });

  it("a submit answered 500 that never executed is rejected by reconciliation and unblocks the market", async () => {
    const s = await stack();
    s.fake.exchange.failNext(500, { method: "POST" });
    await s.submit(0, buy(TICKER, "yes", 4500, 2));
    expect(s.broker.blockedMarkets()).toEqual([TICKER]);
    const r = await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "report", log: null });
    expect(r.unknownOutcomes).toEqual({ adopted: [], rejected: [clientOrderIdFor(s.runId, 0)] });
    expect(s.broker.blockedMarkets()).toEqual([]);
    const [row] = await s.rows(`SELECT status, reason FROM orders`);
    expect(row).toEqual({ status: "rejected", reason: `edge; rejected: ${REASON_NOT_ON_EXCHANGE}` });
    expect(s.engine.portfolio.buyingPowerUnits()).toBe(s.engine.portfolio.cashUnits());
  });

  it("an exchange's own cancel, an insufficient balance and a closed market end orders with the exchange's reason", async () => {
    const s = await stack({ balanceDollars: 20 });
    await s.submit(0, buy(TICKER, "yes", 1000, 5));
    const venue = s.engine.portfolio.openOrder(clientOrderIdFor(s.runId, 0))!.venueOrderId!;
    s.fake.exchange.cancelByExchange(venue);
    s.drain();
    // $15 leaves the account outside this run: the engine still counts $20, the exchange refuses a $10 order.
    s.fake.exchange.account(TEST_KEY_ID)!.balance -= 150_000;
    await s.submit(1, buy(TICKER, "yes", 5000, 20));
    s.fake.exchange.closeMarket(OTHER);
    await s.submit(2, buy(OTHER, "yes", 1000, 1));
    const rows = await s.rows(`SELECT client_order_id, status, reason FROM orders ORDER BY client_order_id`);
    expect(rows.map((r) => [r.status, r.reason])).toEqual([
      ["cancelled", "edge; cancelled: exchange_cancelled"],
      ["rejected", "edge; rejected: insufficient_balance"],
      ["rejected", "edge; rejected: market_closed"],
    ]);
  });

  it("amend moves a resting order's limit and decrease shrinks it; the rest ends as cancelled (decreased)", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 3000, 10));
    const id = clientOrderIdFor(s.runId, 0);
    await s.broker.amend(id, 3500);
    const venue = s.engine.portfolio.openOrder(id)!.venueOrderId!;
    expect(s.fake.exchange.order(TEST_KEY_ID, venue)).toMatchObject({ price: 3500, remaining: 10 });
    await s.broker.decrease(id, 4);
    expect(s.fake.exchange.order(TEST_KEY_ID, venue)).toMatchObject({ remaining: 4 });
    s.fake.exchange.houseTakes(TICKER, "ask", 0.3, 10); // sells YES down to $0.30: takes our 4 at our $0.35
    s.drain();
    expect(s.engine.portfolio.position(TICKER)).toEqual({ ticker: TICKER, yes: 4, no: 0, costUnits: 14_000, markUnits: null });
    expect(s.engine.portfolio.openOrder(id)).toBeUndefined();
    expect(await s.rows(`SELECT status, filled, reason FROM orders`)).toEqual([{ status: "cancelled", filled: 4n, reason: "edge; cancelled: decreased" }]);
    expect(s.engine.portfolio.cashUnits()).toBe(s.fake.exchange.balanceUnits(TEST_KEY_ID));
  });

  it("a cancel that fails for want of an answer leaves the order working; asked again, it is cancelled; a failed cancel-all falls back to one by one", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 1000, 5));
    const id = clientOrderIdFor(s.runId, 0);
    s.fake.exchange.failNext(503, { method: "DELETE" });
    await s.engine.cancel(1, id);
    expect(s.engine.portfolio.openOrder(id)).toMatchObject({ state: "working" });
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toHaveLength(1);
    await s.engine.cancel(2, id);
    expect(s.engine.portfolio.openOrder(id)).toBeUndefined();
    await s.submit(3, buy(TICKER, "yes", 1000, 5));
    s.fake.exchange.failNext(500, { method: "DELETE", pathPrefix: "/portfolio/events/orders", times: 1 });
    await s.broker.killAll("kill");
    s.drain();
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
    expect([...s.engine.portfolio.openOrders()]).toEqual([]);
  });

  it("the kill switch cancels every resting order on the account and refuses new ones", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 1000, 5));
    await s.submit(1, buy(OTHER, "no", 1000, 5));
    s.fake.exchange.placeOrder(TEST_KEY_ID, { ticker: TICKER, side: "bid", count: 1, price: 500, timeInForce: "good_till_canceled", clientOrderId: "manual", postOnly: false, reduceOnly: false });
    await s.broker.killAll("kill switch file");
    s.drain();
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
    expect([...s.engine.portfolio.openOrders()]).toEqual([]);
    await s.submit(2, buy(TICKER, "yes", 1000, 1));
    const rows = await s.rows(`SELECT status, reason FROM orders ORDER BY client_order_id`);
    expect(rows).toEqual([
      { status: "cancelled", reason: "edge; cancelled: kill switch file" },
      { status: "cancelled", reason: "edge; cancelled: kill switch file" },
      { status: "rejected", reason: `edge; rejected: ${REASON_HALTED}: kill switch file` },
    ]);
  });

  it("graceful shutdown keeps resting orders when told to, or cancels them", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 1000, 5));
    expect(await s.broker.shutdown({ cancelResting: false })).toEqual({ cancelled: 0, kept: 1 });
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toHaveLength(1);
    expect(await s.broker.shutdown({ cancelResting: true })).toEqual({ cancelled: 1, kept: 0 });
    s.drain();
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
    expect([...s.engine.portfolio.openOrders()]).toEqual([]);
  });
});
