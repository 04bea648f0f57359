/**
 * Kalshi's two environments (shared/KALSHI.md "Hosts"): keys work only in the
 * one they were made in. Demo is the default everywhere in tapedeck; a
 * `restBase`/`wsUrl` override points the same client at the loopback fake.
 */
export type KalshiEnvironmentName = "demo" | "production";

export interface KalshiEndpoints {
  environment: KalshiEnvironmentName;
  /** REST base including `/trade-api/v2`. */
  restBase: string;
  wsUrl: string;
}

export const KALSHI_ENVIRONMENTS: Readonly<Record<KalshiEnvironmentName, KalshiEndpoints>> = Object.freeze({
  demo: {
    environment: "demo",
    restBase: "https://external-api.demo.kalshi.co/trade-api/v2",
    wsUrl: "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2",
  },
  production: {
    environment: "production",
    restBase: "https://external-api.kalshi.com/trade-api/v2",
    wsUrl: "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
  },
});

/** The path a WebSocket handshake signs. */
export const WS_SIGN_PATH = "/trade-api/ws/v2";

export function kalshiEndpoints(
  environment: KalshiEnvironmentName = "demo",
  override: { restBase?: string | undefined; wsUrl?: string | undefined } = {},
): KalshiEndpoints {
  const base = KALSHI_ENVIRONMENTS[environment];
  return { environment, restBase: override.restBase ?? base.restBase, wsUrl: override.wsUrl ?? base.wsUrl };
}
