/**
 * The fake Kalshi exchange itself: its order book messages are consistent
 * (a snapshot plus every later delta gives the next snapshot, seq without
 * holes), money is conserved (all accounts' cash moves only by the fees the
 * exchange keeps, and by $1 a winning contract at settlement), the matching
 * follows price-time priority, and its REST side checks signatures and rate
 * limits the way Kalshi does (401, 429 without Retry-After).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FakeExchange, type BookDeltaMsg, type BookSnapshotMsg } from "../../harness/live/fakeKalshi/exchange.ts";
import { kalshiAuthHeaders } from "../../harness/live/kalshi/signing.ts";
import { startFakeKalshi, testKeyPair, TEST_KEY_ID } from "./fakeKalshiHelpers.ts";

const T = "KXFAKE-26-A";

function applyDelta(book: Map<string, number>, d: BookDeltaMsg): void {
  const key = `${d.side}@${d.price_dollars}`;
  const v = (book.get(key) ?? 0) + Number(d.delta_fp);
  if (v === 0) book.delete(key);
  else book.set(key, v);
}
function asMap(s: BookSnapshotMsg): Map<string, number> {
  const m = new Map<string, number>();
  for (const [p, q] of s.yes_dollars_fp) m.set(`yes@${p}`, Number(q));
  for (const [p, q] of s.no_dollars_fp) m.set(`no@${p}`, Number(q));
  return m;
}

const orderArb = fc.record({
  who: fc.constantFrom("a", "b", "house"),
  side: fc.constantFrom("bid" as const, "ask" as const),
  cents: fc.integer({ min: 1, max: 99 }),
  count: fc.integer({ min: 1, max: 20 }),
  tif: fc.constantFrom("good_till_canceled" as const, "immediate_or_cancel" as const),
});

describe("fake exchange core", () => {
  it("snapshot + deltas reproduce every later snapshot, with seq increasing by one", () => {
    fc.assert(
      fc.property(fc.array(orderArb, { minLength: 1, maxLength: 40 }), (orders) => {
        const ex = new FakeExchange();
        for (const k of ["a", "b"]) ex.addAccount({ keyId: k, publicKeyPem: testKeyPair().publicKeyPem, balanceDollars: 1e6 });
        ex.addMarket({ ticker: T });
        const snap0 = ex.bookSnapshot(T);
        const book = asMap(snap0.msg);
        const seqs: number[] = [];
        ex.on("book_delta", (e) => {
          seqs.push(e.seq);
          applyDelta(book, e.msg);
        });
        for (const o of orders) {
          const input = { ticker: T, side: o.side, count: o.count, price: o.cents * 100, timeInForce: o.tif, clientOrderId: null, postOnly: false, reduceOnly: false };
          if (o.who === "house") ex.houseTakes(T, o.side, o.cents / 100, o.count);
          else ex.placeOrder(o.who, input);
        }
        expect(book).toEqual(asMap(ex.bookSnapshot(T).msg));
        expect(seqs).toEqual(seqs.map((_, i) => snap0.seq + i + 1));
      }),
      { numRuns: 60 },
    );
  });

  it("money is conserved: cash moves only by fees kept and by $1 per winning contract at settlement", () => {
    fc.assert(
      fc.property(fc.array(orderArb, { minLength: 1, maxLength: 30 }), fc.constantFrom("yes" as const, "no" as const), (orders, result) => {
        const ex = new FakeExchange();
        for (const k of ["a", "b"]) ex.addAccount({ keyId: k, publicKeyPem: testKeyPair().publicKeyPem, balanceDollars: 1e6 });
        ex.addMarket({ ticker: T });
        const keys = ["a", "b", "house"];
        const cash = () => keys.reduce((s, k) => s + ex.account(k)!.balance, 0);
        const before = cash();
        for (const o of orders) {
          const input = { ticker: T, side: o.side, count: o.count, price: o.cents * 100, timeInForce: o.tif, clientOrderId: null, postOnly: false, reduceOnly: false };
          if (o.who === "house") ex.placeOrder("house", input);
          else ex.placeOrder(o.who, input);
        }
        // Every YES contract held is matched by a NO contract held by someone: net positions sum to zero.
        const positions = keys.map((k) => ex.account(k)!.positions.get(T)?.position ?? 0);
        expect(positions.reduce((a, b) => a + b, 0)).toBe(0);
        const openPairs = positions.reduce((s, p) => s + Math.max(0, p), 0);
        ex.cancelAll("a");
        ex.cancelAll("b");
        ex.cancelAll("house");
        const fees = keys.reduce((s, k) => s + ex.account(k)!.feesPaid, 0);
        const afterTrading = cash();
        // Each contract pair created took $1 in; each pair an account netted away gave its $1 back; fees are kept.
        expect(before - afterTrading).toBe(openPairs * 10_000 + fees);
        ex.settle(T, result);
        // Settlement pays $1 for each winning contract: one per open pair.
        expect(cash() - afterTrading).toBe(openPairs * 10_000);
      }),
      { numRuns: 60 },
    );
  });

  it("matches at the best price first, then the oldest order at that price", () => {
    const ex = new FakeExchange();
    ex.addAccount({ keyId: "a", publicKeyPem: testKeyPair().publicKeyPem, balanceDollars: 1000 });
    ex.addMarket({ ticker: T });
    const older = ex.seedLiquidity(T, "ask", 0.42, 5);
    const newer = ex.seedLiquidity(T, "ask", 0.42, 5);
    ex.seedLiquidity(T, "ask", 0.41, 3);
    const fills: Array<[string, string]> = [];
    ex.on("trade", (e) => fills.push([e.msg.yes_price_dollars, e.msg.count_fp]));
    const r = ex.placeOrder("a", { ticker: T, side: "bid", count: 10, price: 4200, timeInForce: "immediate_or_cancel", clientOrderId: "x", postOnly: false, reduceOnly: false });
    expect(fills).toEqual([["0.4100", "3.00"], ["0.4200", "5.00"], ["0.4200", "2.00"]]);
    expect(r).toMatchObject({ fill_count: "10.00", remaining_count: "0.00" });
    expect(ex.order("house", older)).toMatchObject({ status: "executed", filled: 5 });
    expect(ex.order("house", newer)).toMatchObject({ status: "resting", filled: 2, remaining: 3 });
    expect(ex.bookSnapshot(T).msg.no_dollars_fp).toEqual([["0.5800", "3.00"]]);
  });
});

describe("fake exchange REST", () => {
  it("refuses unsigned and wrongly signed private requests, serves public ones, and answers 429 without Retry-After when the bucket is empty", async () => {
    const limits = { usage_tier: "basic", read: { refill_rate: 1, bucket_capacity: 20 }, write: { refill_rate: 1, bucket_capacity: 10 }, defaultCost: 10, endpointCosts: [] };
    const fake = await startFakeKalshi({ limits });
    try {
      const url = `${fake.started.restBase}/portfolio/balance`;
      expect((await fetch(url)).status).toBe(401);
      const signed = () => kalshiAuthHeaders(fake.credentials, "GET", "/trade-api/v2/portfolio/balance");
      const wrongPath = kalshiAuthHeaders(fake.credentials, "GET", "/trade-api/v2/portfolio/positions");
      expect((await fetch(url, { headers: wrongPath })).status).toBe(401);
      expect((await fetch(`${fake.started.restBase}/markets/KXTEST-26DEC31-A`)).status).toBe(200);
      const ok = await fetch(url, { headers: signed() });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ balance_dollars: "1000.0000" });
      expect((await fetch(url, { headers: signed() })).status).toBe(200);
      const limited = await fetch(url, { headers: signed() });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBeNull();
      expect(await limited.json()).toEqual({ error: { code: "too_many_requests", message: "rate limit exceeded" } });
      void TEST_KEY_ID;
    } finally {
      await fake.close();
    }
  });
});
