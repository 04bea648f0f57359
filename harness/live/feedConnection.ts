/**
 * Where `record` and `trade` get their feed: Kalshi (demo by default,
 * production on request) with credentials from the environment, or the
 * loopback fake exchange started in this process (`--fake-exchange`: no
 * keys, no network; a key pair is made for a throwaway account and a
 * scripted session moves the markets). The live code is the same either
 * way: it talks to the fake over the same REST and WebSocket wire.
 */
import { generateKeyPairSync } from "node:crypto";
import { FakeExchange } from "./fakeKalshi/exchange.ts";
import { FakeKalshiWs } from "./fakeKalshi/ws.ts";
import { runScriptedSession, setUpScriptedMarkets, type ScriptedSession } from "./fakeKalshi/scriptedSession.ts";
import { KalshiCredentials, loadKalshiCredentials } from "./kalshi/credentials.ts";
import { kalshiEndpoints, type KalshiEnvironmentName } from "./kalshi/environment.ts";
import { kalshiWebSocketHeaders } from "./kalshi/signing.ts";

export interface FeedArgs {
  env: KalshiEnvironmentName;
  restUrl?: string | undefined;
  wsUrl?: string | undefined;
  keyFile?: string | undefined;
  fakeExchange: boolean;
  /** Fake exchange: steps of scripted activity and wall ms between them. */
  fakeSteps?: number | undefined;
  fakeStepMs?: number | undefined;
}

/** What yargs parses from `feedOptions` (record and trade take them alike). */
export interface FeedCliArgs extends FeedArgs {
  fakeSteps: number;
  fakeStepMs: number;
}

export interface Feed {
  environment: KalshiEnvironmentName | "fake";
  restBase: string;
  wsUrl: string;
  credentials: KalshiCredentials | null;
  authHeaders: (() => Record<string, string>) | undefined;
  series: string[];
  tickers: string[];
  /** The in-process fake, when there is one. */
  fake: { exchange: FakeExchange; keyId: string; begin(): ScriptedSession } | null;
  close(): Promise<void>;
}

export const feedOptions = {
  env: { choices: ["demo", "production"] as const, default: "demo" as const, describe: "Kalshi environment (keys work only in the one they were made in)" },
  "rest-url": { type: "string" as const, describe: "REST base to use instead of the environment's (…/trade-api/v2)" },
  "ws-url": { type: "string" as const, describe: "WebSocket URL to use instead of the environment's (…/trade-api/ws/v2)" },
  "key-file": { type: "string" as const, describe: "PEM private key file (else KALSHI_PRIVATE_KEY or KALSHI_PRIVATE_KEY_PATH); key id from KALSHI_API_KEY_ID" },
  "fake-exchange": { type: "boolean" as const, default: false, describe: "Start a loopback fake exchange in this process with a scripted session (no keys, no network)" },
  "fake-steps": { type: "number" as const, default: 40, describe: "Fake exchange: steps of scripted activity before its markets settle" },
  "fake-step-ms": { type: "number" as const, default: 250, describe: "Fake exchange: wall ms between scripted steps" },
};

export async function openFeed(args: FeedArgs, wanted: { series: string[]; tickers: string[] }): Promise<Feed> {
  if (args.fakeExchange) {
    const exchange = new FakeExchange();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyId = "fake-demo-user";
    exchange.addAccount({ keyId, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), balanceDollars: 10_000 });
    const markets = setUpScriptedMarkets(exchange, wanted.series[0] ? { series: wanted.series[0] } : {});
    const started = await exchange.start();
    const ws = new FakeKalshiWs(exchange, started.server);
    const credentials = new KalshiCredentials(keyId, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    let session: ScriptedSession | null = null;
    return {
      environment: "fake",
      restBase: started.restBase,
      wsUrl: started.wsUrl,
      credentials,
      authHeaders: () => kalshiWebSocketHeaders(credentials),
      series: [markets.series],
      tickers: wanted.tickers,
      fake: {
        exchange,
        keyId,
        begin: () => (session ??= runScriptedSession(exchange, markets, { steps: args.fakeSteps ?? 40, stepMs: args.fakeStepMs ?? 250 })),
      },
      close: async () => {
        session?.stop();
        await ws.close();
        await started.close();
      },
    };
  }
  const endpoints = kalshiEndpoints(args.env, { restBase: args.restUrl, wsUrl: args.wsUrl });
  const credentials = loadKalshiCredentials(process.env, { keyFile: args.keyFile });
  if (!credentials) {
    throw new Error("Kalshi signs every WebSocket connection: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY (or KALSHI_PRIVATE_KEY_PATH / --key-file), or use --fake-exchange for the no-keys demo");
  }
  if (wanted.series.length === 0 && wanted.tickers.length === 0) throw new Error("name what to follow: --series <S…> and/or --markets <ticker…>");
  return {
    environment: args.env,
    restBase: endpoints.restBase,
    wsUrl: endpoints.wsUrl,
    credentials,
    authHeaders: () => kalshiWebSocketHeaders(credentials),
    series: wanted.series,
    tickers: wanted.tickers,
    fake: null,
    close: async () => undefined,
  };
}
