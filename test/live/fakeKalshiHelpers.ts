/**
 * Test plumbing for the live side: an RSA key pair, a fake exchange on
 * loopback with one funded account, and credentials for the client.
 */
import { generateKeyPairSync } from "node:crypto";
import { KalshiCredentials } from "../../harness/live/kalshi/credentials.ts";
import { FakeExchange, type FakeExchangeOptions, type StartedExchange } from "../../harness/live/fakeKalshi/exchange.ts";

export interface KeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

let cached: KeyPair | null = null;
/** One 2048-bit RSA pair per test file (generating one costs ~100 ms). */
export function testKeyPair(fresh = false): KeyPair {
  if (cached && !fresh) return cached;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pair = {
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  if (!fresh) cached = pair;
  return pair;
}

export const TEST_KEY_ID = "3f1c2a9e-7b4d-4e21-9a0b-5c6d7e8f9012";

export interface FakeKalshi {
  exchange: FakeExchange;
  started: StartedExchange;
  credentials: KalshiCredentials;
  keys: KeyPair;
  close(): Promise<void>;
}

export async function startFakeKalshi(opts: FakeExchangeOptions & { balanceDollars?: number; markets?: string[] } = {}): Promise<FakeKalshi> {
  const keys = testKeyPair();
  const exchange = new FakeExchange(opts);
  exchange.addAccount({ keyId: TEST_KEY_ID, publicKeyPem: keys.publicKeyPem, balanceDollars: opts.balanceDollars ?? 1000 });
  for (const t of opts.markets ?? ["KXTEST-26DEC31-A"]) exchange.addMarket({ ticker: t });
  const started = await exchange.start();
  return { exchange, started, keys, credentials: new KalshiCredentials(TEST_KEY_ID, keys.privateKeyPem), close: () => started.close() };
}
