/**
 * Stopping when the exchange does not answer: the kill switch's cancel-all
 * must not fail because reading the orders back failed (the cancels
 * happened, the broker is halted, and the live node goes on to stop the
 * session); a graceful shutdown whose cancel got no answer does not count
 * that order as cancelled.
 */
import { describe, expect, it } from "vitest";
import { KalshiBroker, type KalshiTradingClient } from "../../harness/broker/kalshiBroker.ts";
import type { ExecutionReport } from "../../harness/broker/executionReport.ts";
import { classifyKalshiFailure } from "../../harness/live/kalshi/errors.ts";

/** A client whose order is accepted and rests; `order` and `cancelOrder` fail as given. */
function client(calls: string[], o: { cancelFails?: boolean } = {}): KalshiTradingClient {
  const noAnswer = (method: string, path: string) => classifyKalshiFailure({ method, path, write: method !== "GET" }, null, "ECONNRESET", "no answer");
  return {
    createOrder: async () => ({ orderId: "V-1", filled: 0, remaining: 5, averageFillPriceUnits: null, ts: 1 }),
    cancelAll: async () => void calls.push("cancelAll"),
    order: async () => {
      calls.push("order");
      throw noAnswer("GET", "/portfolio/orders/{order_id}");
    },
    cancelOrder: async () => {
      calls.push("cancelOrder");
      if (o.cancelFails) throw noAnswer("DELETE", "/portfolio/events/orders/{order_id}");
      return 5;
    },
    decreaseOrder: async () => 0,
    amendOrder: async () => ({ remaining: null }),
    orders: async () => [],
    fills: async () => [],
  };
}
const ORDER = { clientOrderId: "c-1", ticker: "T", side: "yes" as const, action: "buy" as const, limitUnits: 4000, contracts: 5, reason: "edge" };

describe("KalshiBroker stopping without answers", () => {
  it("resolves when the read-back after cancel-all has no answer, with the broker halted and the cancel sent", async () => {
    const calls: string[] = [];
    const logged: string[] = [];
    const broker = new KalshiBroker({ client: client(calls), now: () => 5, log: (l) => logged.push(l) });
    const reports: ExecutionReport[] = [];
    broker.onReport((r) => reports.push(r));
    await broker.submit(ORDER);
    expect(reports.map((r) => r.kind)).toEqual(["accepted"]);
    await expect(broker.killAll("kill switch file K")).resolves.toBeUndefined();
    expect(calls).toEqual(["cancelAll", "order"]);
    expect(broker.haltedReason).toBe("kill switch file K");
    expect(logged.some((l) => l.startsWith("after the kill switch, orders not read back yet"))).toBe(true);
  });

  it("shutdown counts an order whose cancel got no answer as kept, not cancelled", async () => {
    const calls: string[] = [];
    const broker = new KalshiBroker({ client: client(calls, { cancelFails: true }), now: () => 5 });
    broker.onReport(() => undefined);
    await broker.submit(ORDER);
    expect(await broker.shutdown({ cancelResting: true })).toEqual({ cancelled: 0, kept: 1 });
    expect(calls).toEqual(["cancelOrder"]);
    expect(broker.openOrders().map((o) => o.state)).toEqual(["working"]);
  });
});
