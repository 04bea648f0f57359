/**
 * The Kalshi client against the loopback fake exchange: the SDK's signature
 * checked by an independent node:crypto RSA-PSS verifier, no Kalshi header on
 * any other axios request, rate limits read from the account and respected,
 * and one typed error per failure class.
 */
import { constants, createPublicKey, verify } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { inspect } from "node:util";
import axios from "axios";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KalshiClient } from "../../harness/live/kalshi/client.ts";
import { KalshiCredentials, loadKalshiCredentials } from "../../harness/live/kalshi/credentials.ts";
import {
  KalshiAuthError,
  KalshiInsufficientBalanceError,
  KalshiMarketClosedError,
  KalshiNetworkError,
  KalshiRateLimitedError,
  KalshiRejectedError,
  KalshiServerError,
} from "../../harness/live/kalshi/errors.ts";
import { kalshiWebSocketHeaders } from "../../harness/live/kalshi/signing.ts";
import { BASIC_LIMITS } from "../../harness/live/fakeKalshi/exchange.ts";
import { startFakeKalshi, testKeyPair, TEST_KEY_ID, type FakeKalshi } from "./fakeKalshiHelpers.ts";

const TICKER = "KXTEST-26DEC31-A";

/** A plain loopback server that records the headers of every request it gets. */
async function captureServer(): Promise<{ url: string; seen: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>; server: Server }> {
  const seen: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      const url = req.url ?? "";
      const body = url.includes("/account/limits")
        ? { usage_tier: "basic", read: BASIC_LIMITS.read, write: BASIC_LIMITS.write, grants: [] }
        : url.includes("/account/endpoint_costs")
          ? { default_cost: 10, endpoint_costs: [] }
          : { balance: 100, balance_dollars: "1.0000", portfolio_value: 0, updated_ts: 0 };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** The independent check: RSA-PSS, SHA-256, MGF1-SHA-256, salt = digest length, over ts + METHOD + path. */
function independentVerify(publicKeyPem: string, headers: IncomingHttpHeaders, method: string, path: string): boolean {
  const ts = String(headers["kalshi-access-timestamp"]);
  const sig = Buffer.from(String(headers["kalshi-access-signature"]), "base64");
  return verify(
    "sha256",
    Buffer.from(`${ts}${method}${path}`),
    { key: createPublicKey(publicKeyPem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    sig,
  );
}

const fast = { sleep: async () => {}, rng: () => 0 };

describe("Kalshi client signing", () => {
  it("the SDK's signature over timestamp + METHOD + path (query excluded) verifies with node:crypto RSA-PSS; a changed path does not", async () => {
    const cap = await captureServer();
    try {
      const keys = testKeyPair();
      const client = await KalshiClient.connect({
        credentials: new KalshiCredentials(TEST_KEY_ID, keys.privateKeyPem),
        restBase: `${cap.url}/trade-api/v2`,
      });
      await client.balanceUnits();
      await client.fills({ ticker: TICKER }).catch(() => undefined); // a query string: not signed
      expect(cap.seen.length).toBeGreaterThanOrEqual(4);
      for (const r of cap.seen) {
        expect(r.headers["kalshi-access-key"]).toBe(TEST_KEY_ID);
        const path = r.path.split("?")[0]!;
        expect(path.startsWith("/trade-api/v2/")).toBe(true);
        expect(independentVerify(keys.publicKeyPem, r.headers, r.method, path)).toBe(true);
        expect(independentVerify(keys.publicKeyPem, r.headers, r.method, path + "x")).toBe(false);
        expect(independentVerify(keys.publicKeyPem, r.headers, "POST", path)).toBe(false);
      }
      expect(cap.seen.some((r) => r.path.includes("?"))).toBe(true);
      // Another key does not verify it.
      expect(independentVerify(testKeyPair(true).publicKeyPem, cap.seen[0]!.headers, cap.seen[0]!.method, cap.seen[0]!.path.split("?")[0]!)).toBe(false);
    } finally {
      cap.server.close();
    }
  });

  it("the WebSocket handshake headers sign GET /trade-api/ws/v2", () => {
    const keys = testKeyPair();
    const h = kalshiWebSocketHeaders(new KalshiCredentials(TEST_KEY_ID, keys.privateKeyPem), 1_700_000_000_000);
    expect(h["KALSHI-ACCESS-TIMESTAMP"]).toBe("1700000000000");
    const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    expect(independentVerify(keys.publicKeyPem, lower, "GET", "/trade-api/ws/v2")).toBe(true);
  });

  it("no axios request other than Kalshi's carries Kalshi headers (ESM and CommonJS global instances)", async () => {
    const cap = await captureServer();
    const fake = await startFakeKalshi();
    try {
      const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase });
      await client.balanceUnits();
      await axios.get(`${cap.url}/other-service`);
      const cjsAxios = createRequire(import.meta.url)("axios") as typeof axios;
      await cjsAxios.get(`${cap.url}/other-service-cjs`);
      await axios.create().get(`${cap.url}/fresh-instance`);
      expect(cap.seen.map((r) => r.path)).toEqual(["/other-service", "/other-service-cjs", "/fresh-instance"]);
      for (const r of cap.seen) for (const name of Object.keys(r.headers)) expect(name.startsWith("kalshi-")).toBe(false);
    } finally {
      cap.server.close();
      await fake.close();
    }
  });
});

describe("Kalshi credentials", () => {
  it("load from env (PEM or key file), never print", () => {
    const keys = testKeyPair();
    expect(loadKalshiCredentials({})).toBeNull();
    const c = loadKalshiCredentials({ KALSHI_API_KEY_ID: TEST_KEY_ID, KALSHI_PRIVATE_KEY: keys.privateKeyPem })!;
    expect(c.keyId()).toBe(TEST_KEY_ID);
    for (const shown of [String(c), JSON.stringify({ c }), inspect(c), `${c}`]) {
      expect(shown).not.toContain(TEST_KEY_ID);
      expect(shown).not.toContain("PRIVATE KEY");
    }
    expect(() => loadKalshiCredentials({ KALSHI_API_KEY_ID: TEST_KEY_ID })).toThrow(/KALSHI_PRIVATE_KEY/);
    expect(() => loadKalshiCredentials({ KALSHI_API_KEY_ID: TEST_KEY_ID, KALSHI_PRIVATE_KEY_PATH: "/nonexistent/k.pem" })).toThrow(
      "Kalshi private key file /nonexistent/k.pem: ENOENT",
    );
    expect(() => new KalshiCredentials(TEST_KEY_ID, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")).toThrow(
      "Kalshi private key: not a PEM private key",
    );
  });
});

describe("Kalshi client against the fake exchange", () => {
  let fake: FakeKalshi;
  beforeAll(async () => {
    fake = await startFakeKalshi({ balanceDollars: 50 });
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    // no fault may leak into the next test
    while (fake.exchange.takeFault("GET", "/", true) !== null) {
      /* drain */
    }
  });

  it("reads limits at connect; places, lists, decreases, amends and cancels a V2 order in units", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    expect(client.limits).toEqual({ usageTier: "basic", read: BASIC_LIMITS.read, write: BASIC_LIMITS.write });
    expect(client.endpoints.environment).toBe("demo");
    expect(await client.balanceUnits()).toBe(500_000);
    const ack = await client.createOrder({ ticker: TICKER, bookSide: "bid", count: 10, yesPriceUnits: 3000, clientOrderId: "c-1", timeInForce: "good_till_canceled" });
    expect(ack).toMatchObject({ filled: 0, remaining: 10, averageFillPriceUnits: null });
    const [o] = await client.orders({ status: "resting" });
    expect(o).toMatchObject({ orderId: ack.orderId, clientOrderId: "c-1", bookSide: "bid", outcome: "yes", yesPriceUnits: 3000, remaining: 10, filled: 0 });
    expect(await client.decreaseOrder(ack.orderId, { reduceBy: 4 })).toBe(6);
    expect(await client.amendOrder(ack.orderId, { ticker: TICKER, bookSide: "bid", yesPriceUnits: 3100, totalCount: 8 })).toEqual({ remaining: 8 });
    expect((await client.order(ack.orderId)).yesPriceUnits).toBe(3100);
    expect(await client.cancelOrder(ack.orderId)).toBe(8);
    expect((await client.order(ack.orderId)).status).toBe("canceled");
  });

  it("fills and positions come back as integer units and signed contracts", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    fake.exchange.seedLiquidity(TICKER, "ask", 0.6, 5); // NO bid at 0.40
    const ack = await client.createOrder({ ticker: TICKER, bookSide: "bid", count: 3, yesPriceUnits: 6500, clientOrderId: "c-fill", timeInForce: "immediate_or_cancel" });
    expect(ack).toMatchObject({ filled: 3, remaining: 0, averageFillPriceUnits: 6000 });
    const fills = await client.fills({ orderId: ack.orderId });
    // 0.07 × 3 × 0.6 × 0.4 = $0.0504 → 504 units
    expect(fills).toEqual([expect.objectContaining({ count: 3, yesPriceUnits: 6000, isTaker: true, feeUnits: 504, bookSide: "bid" })]);
    const [p] = await client.positions(TICKER);
    expect(p).toMatchObject({ ticker: TICKER, position: 3, exposureUnits: 18_000, feesPaidUnits: 600 });
  });

  it("typed errors: insufficient balance, market closed, rejected with the exchange's reason, auth", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    const big = { ticker: TICKER, bookSide: "bid" as const, count: 10_000, yesPriceUnits: 5000, clientOrderId: "c-big", timeInForce: "good_till_canceled" as const };
    const e1 = await client.createOrder(big).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(KalshiInsufficientBalanceError);
    expect((e1 as KalshiInsufficientBalanceError).reason).toBe("insufficient_balance");
    expect((e1 as KalshiInsufficientBalanceError).outcomeUnknown).toBe(false);
    const e2 = await client.createOrder({ ...big, count: 1, clientOrderId: "c-dup-a" }).then(() => client.createOrder({ ...big, count: 1, clientOrderId: "c-dup-a" })).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(KalshiRejectedError);
    expect((e2 as KalshiRejectedError).reason).toBe("order_already_exists");
    fake.exchange.addMarket({ ticker: "KXTEST-CLOSED" });
    fake.exchange.closeMarket("KXTEST-CLOSED");
    await expect(client.createOrder({ ...big, ticker: "KXTEST-CLOSED", count: 1, clientOrderId: "c-closed" })).rejects.toBeInstanceOf(KalshiMarketClosedError);
    const stranger = new KalshiCredentials(TEST_KEY_ID, testKeyPair(true).privateKeyPem);
    const e3 = await KalshiClient.connect({ credentials: stranger, restBase: fake.started.restBase, ...fast }).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(KalshiAuthError);
    expect(String(e3)).not.toContain(TEST_KEY_ID);
    expect(JSON.stringify(e3)).not.toContain(TEST_KEY_ID);
    expect(inspect(e3)).not.toContain(TEST_KEY_ID);
  });

  it("429 without Retry-After is backed off and retried; 5xx retried on reads, surfaced with an unknown outcome on writes", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    fake.exchange.failNext(429, { times: 2, method: "GET", pathPrefix: "/portfolio/balance" });
    expect(await client.balanceUnits()).toBeGreaterThan(0);
    expect(client.rateLimitedCount).toBe(2);
    fake.exchange.failNext(429, { times: 10, method: "GET", pathPrefix: "/portfolio/balance" });
    await expect(client.balanceUnits()).rejects.toBeInstanceOf(KalshiRateLimitedError);
    while (fake.exchange.takeFault("GET", "/portfolio/balance", false) !== null) {
      /* drain the rest */
    }
    fake.exchange.failNext(503, { times: 1, method: "GET" });
    expect((await client.positions()).length).toBeGreaterThan(0);
    fake.exchange.failNext(500, { times: 1, method: "POST" });
    const e = await client
      .createOrder({ ticker: TICKER, bookSide: "bid", count: 1, yesPriceUnits: 1000, clientOrderId: "c-5xx", timeInForce: "good_till_canceled" })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KalshiServerError);
    expect((e as KalshiServerError).outcomeUnknown).toBe(true);
  });

  it("a submit that times out is a network error with an unknown outcome, although the exchange executed it", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, timeoutMs: 300, ...fast });
    fake.exchange.hangNextSubmit();
    const e = await client
      .createOrder({ ticker: TICKER, bookSide: "bid", count: 1, yesPriceUnits: 1100, clientOrderId: "c-hang", timeInForce: "good_till_canceled" })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KalshiNetworkError);
    expect((e as KalshiNetworkError).outcomeUnknown).toBe(true);
    expect((await client.orders({ status: "resting" })).map((o) => o.clientOrderId)).toContain("c-hang");
  });

  it("a refused connection is a network error whose outcome is known (nothing was sent)", async () => {
    const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    const dead = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, ...fast });
    void client;
    await fake.close();
    await new Promise((r) => setTimeout(r, 50)); // let the client's pooled sockets see the close
    const e = await dead
      .createOrder({ ticker: TICKER, bookSide: "bid", count: 1, yesPriceUnits: 1000, clientOrderId: "c-dead", timeInForce: "good_till_canceled" })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KalshiNetworkError);
    expect((e as KalshiNetworkError).code).toBe("ECONNREFUSED");
    expect((e as KalshiNetworkError).outcomeUnknown).toBe(false);
    fake = await startFakeKalshi({ balanceDollars: 50 });
  });
});

describe("rate limits read from the account", () => {
  it("a small write bucket paces orders instead of drawing 429s", async () => {
    const limits = { ...BASIC_LIMITS, read: { refill_rate: 1000, bucket_capacity: 1000 }, write: { refill_rate: 40, bucket_capacity: 20 } };
    const fake = await startFakeKalshi({ limits });
    try {
      const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase });
      expect(client.limits.write).toEqual({ refill_rate: 40, bucket_capacity: 20 });
      const t0 = Date.now();
      for (let i = 0; i < 5; i++) {
        await client.createOrder({ ticker: TICKER, bookSide: "bid", count: 1, yesPriceUnits: 1000 + i * 100, clientOrderId: `c-rl-${i}`, timeInForce: "good_till_canceled" });
      }
      // 2 orders from the full bucket, then 3 × 10 tokens at 40/s = 750 ms of waiting at least.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
      expect(client.rateLimitedCount).toBe(0);
      expect(client.waitedMs().write).toBeGreaterThanOrEqual(700);
    } finally {
      await fake.close();
    }
  });
});
