/**
 * The kill switch's cancel-all must not fail because reading the orders
 * back failed: the cancels happened, the broker is halted, and the caller
 * (the live node) goes on to stop the session.
 */
import { describe, expect, it } from "vitest";
import { KalshiBroker, type KalshiTradingClient } from "../../harness/broker/kalshiBroker.ts";
import type { ExecutionReport } from "../../harness/broker/executionReport.ts";
import { classifyKalshiFailure } from "../../harness/live/kalshi/errors.ts";

describe("KalshiBroker.killAll", () => {
  it("resolves when the read-back after cancel-all has no answer, with the broker halted and the cancel sent", async () => {
    const calls: string[] = [];
    const client: KalshiTradingClient = {
      createOrder: async () => ({ orderId: "V-1", filled: 0, remaining: 5, averageFillPriceUnits: null, ts: 1 }),
      cancelAll: async () => void calls.push("cancelAll"),
      order: async () => {
        calls.push("order");
        throw classifyKalshiFailure({ method: "GET", path: "/portfolio/orders/{order_id}", write: false }, null, "ECONNRESET", "no answer");
      },
      cancelOrder: async () => 0,
      decreaseOrder: async () => 0,
      amendOrder: async () => ({ remaining: null }),
      orders: async () => [],
      fills: async () => [],
    };
    const logged: string[] = [];
    const broker = new KalshiBroker({ client, now: () => 5, log: (l) => logged.push(l) });
    const reports: ExecutionReport[] = [];
    broker.onReport((r) => reports.push(r));
    await broker.submit({ clientOrderId: "c-1", ticker: "T", side: "yes", action: "buy", limitUnits: 4000, contracts: 5, reason: "edge" });
    expect(reports.map((r) => r.kind)).toEqual(["accepted"]);
    await expect(broker.killAll("kill switch file K")).resolves.toBeUndefined();
    expect(calls).toEqual(["cancelAll", "order"]);
    expect(broker.haltedReason).toBe("kill switch file K");
    expect(logged.some((l) => l.startsWith("after the kill switch, orders not read back yet"))).toBe(true);
  });
});
