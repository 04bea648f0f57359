/**
 * The token buckets the Kalshi client paces itself with, on a simulated
 * clock: refill never exceeds the capacity, a wait is exactly what the
 * missing tokens take to refill, and a burst of requests is served in order
 * at the bucket's rate. Plus the classification of failures into typed errors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EndpointCosts, msUntil, refilled, TokenBucketLimiter } from "../../harness/live/kalshi/rateLimiter.ts";
import {
  classifyKalshiFailure,
  KalshiAuthError,
  KalshiInsufficientBalanceError,
  KalshiMarketClosedError,
  KalshiNetworkError,
  KalshiRateLimitedError,
  KalshiRejectedError,
  KalshiServerError,
} from "../../harness/live/kalshi/errors.ts";

const limitArb = fc.record({ refill_rate: fc.integer({ min: 1, max: 1000 }), bucket_capacity: fc.integer({ min: 1, max: 2000 }) });

describe("token bucket maths", () => {
  it("refill is capped at the capacity and monotone in time", () => {
    fc.assert(
      fc.property(limitArb, fc.double({ min: 0, max: 2000, noNaN: true }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (limit, tokens, a, b) => {
        const t0 = Math.min(tokens, limit.bucket_capacity);
        const x = refilled(t0, Math.min(a, b), limit);
        const y = refilled(t0, Math.max(a, b), limit);
        expect(x).toBeLessThanOrEqual(y);
        expect(y).toBeLessThanOrEqual(limit.bucket_capacity);
        expect(x).toBeGreaterThanOrEqual(t0);
      }),
    );
  });

  it("waiting msUntil(cost) always refills enough, and a millisecond less than its exact need would not", () => {
    fc.assert(
      fc.property(limitArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 100 }), (limit, share, cost) => {
        const c = Math.min(cost, limit.bucket_capacity);
        const tokens = share * c;
        const wait = msUntil(tokens, c, limit);
        expect(refilled(tokens, wait, limit)).toBeGreaterThanOrEqual(c - 1e-9);
        if (wait > 1) expect(refilled(tokens, wait - 1, limit)).toBeLessThan(c);
      }),
    );
  });

  it("a burst is served in arrival order at the refill rate (simulated clock)", async () => {
    let now = 0;
    const order: number[] = [];
    const limiter = new TokenBucketLimiter({ refill_rate: 100, bucket_capacity: 20 }, () => now, async (ms) => {
      now += ms;
    });
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire(10).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // 2 from the full bucket, 3 more × 10 tokens at 100/s = 300 ms.
    expect(now).toBe(300);
    expect(limiter.waitedMs).toBe(300);
    limiter.drain();
    await limiter.acquire(10);
    expect(now).toBe(400);
  });

  it("endpoint costs match templates whatever the parameter is called, default otherwise", () => {
    const costs = new EndpointCosts(10, [{ method: "delete", path: "/trade-api/v2/portfolio/orders/{id}", cost: 100 }]);
    expect(costs.cost("DELETE", "/portfolio/orders/{order_id}")).toBe(100);
    expect(costs.cost("DELETE", "/portfolio/events/orders/{order_id}")).toBe(10);
  });
});

describe("failure classification", () => {
  const w = { method: "POST", path: "/portfolio/events/orders", write: true };
  const r = { method: "GET", path: "/portfolio/balance", write: false };
  it.each([
    [w, 401, "unauthorized", KalshiAuthError, false],
    [w, 429, "too_many_requests", KalshiRateLimitedError, false],
    [w, 400, "insufficient_balance", KalshiInsufficientBalanceError, false],
    [w, 400, "market_closed", KalshiMarketClosedError, false],
    [w, 409, "order_already_exists", KalshiRejectedError, false],
    [w, 503, "service_unavailable", KalshiServerError, true],
    [r, 503, "service_unavailable", KalshiServerError, false],
    [w, null, "ECONNABORTED", KalshiNetworkError, true],
    [w, null, "ECONNRESET", KalshiNetworkError, true],
    [w, null, "ECONNREFUSED", KalshiNetworkError, false],
    [r, null, "ETIMEDOUT", KalshiNetworkError, false],
  ] as const)("%o %s %s", (call, status, code, cls, unknown) => {
    const e = classifyKalshiFailure(call, status, code, "m");
    expect(e).toBeInstanceOf(cls);
    expect(e.outcomeUnknown).toBe(unknown);
    expect(e.code).toBe(code);
  });
});
