/**
 * Reconciliation on the live stack: each discrepancy class is detected,
 * written as a row of the results DB's `reconciliations` table, halts trading
 * in `report` mode and is repaired in `fix` mode, after which a second pass
 * finds nothing. The discrepancies are injected on the fake exchange the way
 * they happen in the bots this harness is for: a position nobody traded, a
 * position closed behind our back, an order placed by hand, an order the
 * exchange lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import { clientOrderIdFor } from "../../harness/portfolio/executionEngine.ts";
import { reconcile, ReconciliationLog, type ReconcileMode } from "../../harness/live/reconcile.ts";
import { REASON_HALTED } from "../../harness/broker/kalshiBroker.ts";
import { buy, liveStack, OTHER, TICKER, type Stack } from "./liveStack.ts";
import { TEST_KEY_ID } from "./fakeKalshiHelpers.ts";

const stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
});

async function stack(): Promise<Stack> {
  const s = await liveStack();
  stacks.push(s);
  s.fake.exchange.seedLiquidity(TICKER, "ask", 0.4, 100);
  return s;
}

function run(s: Stack, mode: ReconcileMode) {
  return reconcile({
    client: s.client,
    broker: s.broker,
    local: s.engine.portfolio,
    drain: s.drain,
    mode,
    log: new ReconciliationLog(s.db.connection, s.runId),
  });
}

async function rowsOf(s: Stack) {
  return s.rows(`SELECT mode, class, ticker, local_value, exchange_value, fixed FROM reconciliations ORDER BY ts, class`);
}

describe("reconciliation", () => {
  it("a clean account reconciles to nothing and trading goes on", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 4500, 5));
    const r = await run(s, "report");
    expect(r).toMatchObject({ discrepancies: [], halted: false });
    expect(await rowsOf(s)).toEqual([]);
    expect(s.broker.haltedReason).toBeNull();
  });

  it("position missing locally: report halts trading; fix adopts it", async () => {
    const s = await stack();
    s.fake.exchange.setPosition(TEST_KEY_ID, OTHER, 7, 2.1); // 7 YES costing $2.10, not traded by this run
    const r = await run(s, "report");
    expect(r.halted).toBe(true);
    expect(r.discrepancies.map((d) => d.class)).toEqual(["position_missing_locally"]);
    expect(s.broker.haltedReason).toMatch(/reconciliation found 1 discrepancy \(position_missing_locally\)/);
    await s.submit(0, buy(TICKER, "yes", 4500, 1));
    expect((await s.rows(`SELECT reason FROM orders`))[0]!.reason).toMatch(new RegExp(`rejected: ${REASON_HALTED}`));
    expect(s.engine.portfolio.position(OTHER)).toBeUndefined();
    const fixed = await run(s, "fix");
    expect(fixed.discrepancies).toMatchObject([{ class: "position_missing_locally", fixed: true }]);
    expect(s.engine.portfolio.position(OTHER)).toEqual({ ticker: OTHER, yes: 7, no: 0, costUnits: 21_000, markUnits: null });
    expect((await run(s, "fix")).discrepancies).toEqual([]);
    expect(await rowsOf(s)).toEqual([
      { mode: "report", class: "position_missing_locally", ticker: OTHER, local_value: "none", exchange_value: "7 yes", fixed: false },
      { mode: "fix", class: "position_missing_locally", ticker: OTHER, local_value: "none", exchange_value: "7 yes", fixed: true },
    ]);
  });

  it("quantity mismatch: the exchange holds fewer (or the other side) than we think", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 4500, 5));
    s.drain();
    expect(s.engine.portfolio.position(TICKER)).toMatchObject({ yes: 5 });
    s.fake.exchange.setPosition(TEST_KEY_ID, TICKER, -2, 1.2); // now 2 NO
    const r = await run(s, "report");
    expect(r.discrepancies).toMatchObject([{ class: "quantity_mismatch", ticker: TICKER, local: "5 yes", exchange: "2 no", fixed: false }]);
    expect(r.halted).toBe(true);
    await run(s, "fix");
    expect(s.engine.portfolio.position(TICKER)).toEqual({ ticker: TICKER, yes: 0, no: 2, costUnits: 12_000, markUnits: null });
  });

  it("position closed on the exchange: we still hold it locally", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 4500, 3));
    s.fake.exchange.setPosition(TEST_KEY_ID, TICKER, 0);
    const r = await run(s, "report");
    expect(r.discrepancies).toMatchObject([{ class: "position_closed_on_exchange", ticker: TICKER, local: "3 yes", exchange: "none" }]);
    await run(s, "fix");
    expect(s.engine.portfolio.position(TICKER)).toBeUndefined();
  });

  it("unknown resting order: placed on the account by someone else; fix cancels it on the exchange", async () => {
    const s = await stack();
    s.fake.exchange.placeOrder(TEST_KEY_ID, { ticker: OTHER, side: "bid", count: 4, price: 1200, timeInForce: "good_till_canceled", clientOrderId: "by-hand", postOnly: false, reduceOnly: false });
    const r = await run(s, "report");
    expect(r.discrepancies).toMatchObject([{ class: "unknown_resting_order", ticker: OTHER, exchange: "bid 4 @ 1200", fixed: false }]);
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toHaveLength(1);
    const f = await run(s, "fix");
    expect(f.discrepancies).toMatchObject([{ class: "unknown_resting_order", fixed: true }]);
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
  });

  it("an order the exchange no longer has: fix ends it locally and frees its buying power", async () => {
    const s = await stack();
    await s.submit(0, buy(OTHER, "yes", 1500, 10)); // rests: nothing offered on OTHER
    const id = clientOrderIdFor(s.runId, 0);
    const venue = s.engine.portfolio.openOrder(id)!.venueOrderId!;
    s.fake.exchange.forgetOrder(venue);
    const r = await run(s, "report");
    expect(r.discrepancies).toMatchObject([{ class: "order_missing_on_exchange", ticker: OTHER, orderId: venue, local: "working, 10 left" }]);
    expect(s.engine.portfolio.openOrder(id)).toBeDefined();
    await run(s, "fix");
    expect(s.engine.portfolio.openOrder(id)).toBeUndefined();
    expect(s.engine.portfolio.buyingPowerUnits()).toBe(s.engine.portfolio.cashUnits());
    expect((await s.rows(`SELECT status, reason FROM orders`))[0]).toEqual({ status: "cancelled", reason: "edge; cancelled: missing_on_exchange" });
  });

  it("a market settled on the exchange whose settle event has not reached the engine yet is no discrepancy, and clean once it has", async () => {
    const s = await stack();
    await s.submit(0, buy(TICKER, "yes", 4500, 5));
    s.fake.exchange.settle(TICKER, "yes");
    const r = await run(s, "report");
    expect(r).toMatchObject({ discrepancies: [], halted: false, settling: [TICKER] });
    await s.engine.onEvent(50, { kind: "settle", ts: Date.now(), ticker: TICKER, result: "yes" }, s.view);
    const after = await run(s, "report");
    expect(after).toMatchObject({ discrepancies: [], halted: false, settling: [] });
    expect(s.engine.portfolio.cashUnits()).toBe(s.fake.exchange.balanceUnits(TEST_KEY_ID));
  });

  it("cash mismatch beyond a cent: fix takes the exchange's balance", async () => {
    const s = await stack();
    await s.submit(0, buy(OTHER, "yes", 2000, 10)); // rests: Kalshi holds $2 of collateral out of the balance it reports
    expect(await s.client.balanceUnits()).toBe(10_000_000 - 20_000);
    s.fake.exchange.account(TEST_KEY_ID)!.balance += 50; // half a cent: rounding, not a discrepancy
    expect((await run(s, "report")).discrepancies).toEqual([]);
    s.fake.exchange.account(TEST_KEY_ID)!.balance -= 25_050; // $2.50 gone
    const r = await run(s, "report");
    expect(r.discrepancies).toMatchObject([{ class: "cash_mismatch", local: "10000000", exchange: "9975000" }]);
    await run(s, "fix");
    expect(s.engine.portfolio.cashUnits()).toBe(9_975_000);
  });
});
