/**
 * Test plumbing for the live side: a fake exchange with its REST and
 * WebSocket servers on loopback, an account whose RSA key is made here,
 * and a helper to wait for something to happen on the wall clock.
 */
import { generateKeyPairSync } from "node:crypto";
import { FakeExchange, type StartedExchange } from "../../harness/live/fakeKalshi/exchange.ts";
import { FakeKalshiWs } from "../../harness/live/fakeKalshi/ws.ts";
import { KalshiCredentials } from "../../harness/live/kalshi/credentials.ts";
import type { Feed } from "../../harness/live/feedConnection.ts";
import { kalshiWebSocketHeaders } from "../../harness/live/kalshi/signing.ts";

export interface FakeVenue {
  exchange: FakeExchange;
  started: StartedExchange;
  ws: FakeKalshiWs;
  credentials: KalshiCredentials;
  keyId: string;
  privateKeyPem: string;
  close(): Promise<void>;
}

export async function startFakeVenue(options: { pingMs?: number; balanceDollars?: number } = {}): Promise<FakeVenue> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const keyId = "test-key-0001";
  const exchange = new FakeExchange();
  exchange.addAccount({ keyId, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), balanceDollars: options.balanceDollars ?? 1000 });
  const started = await exchange.start();
  const ws = new FakeKalshiWs(exchange, started.server, { pingMs: options.pingMs ?? 200 });
  return {
    exchange,
    started,
    ws,
    credentials: new KalshiCredentials(keyId, privateKeyPem),
    keyId,
    privateKeyPem,
    close: async () => {
      await ws.close();
      await started.close();
    },
  };
}

/** A demo feed on the venue, signed with its account's key, following `series` (as `openFeed` builds for Kalshi). */
export function venueFeed(v: FakeVenue, series: string[]): Feed {
  return {
    environment: "demo",
    restBase: v.started.restBase,
    wsUrl: v.started.wsUrl,
    credentials: v.credentials,
    authHeaders: () => kalshiWebSocketHeaders(v.credentials),
    series,
    tickers: [],
    fake: null,
    close: async () => undefined,
  };
}

/** Wait (wall clock) until `check` holds; fail with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
