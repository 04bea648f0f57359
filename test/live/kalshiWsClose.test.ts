import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { KalshiWsClient } from "../../harness/live/kalshiWs.ts";

let server: WebSocketServer | null = null;
afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = null;
});

describe("KalshiWsClient close", () => {
  it("opens no socket when closed while the handshake was still being signed", async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    let connections = 0;
    server.on("connection", () => connections++);
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/ws/v2`;
    let release: () => void = () => undefined;
    const signed = new Promise<void>((resolve) => (release = resolve));
    const client = new KalshiWsClient(
      {
        url,
        // Signing that takes a moment (e.g. a key read from disk): close() lands while it is pending.
        authHeaders: async () => {
          await signed;
          return { "KALSHI-ACCESS-KEY": "k" };
        },
        channels: ["ticker"],
        tickers: ["T"],
        connectTimeoutMs: 300,
      },
      { onData: () => undefined, onGap: () => undefined },
    );
    const started = client.start().catch((e: unknown) => e);
    await client.close();
    release();
    await new Promise((r) => setTimeout(r, 200));
    expect(connections).toBe(0);
    expect(client.isOpen).toBe(false);
    // start() gives up at its timeout, naming the missing connection.
    expect(String(await started)).toMatch(/no WebSocket connection/);
  });
});

describe("KalshiWsClient URL", () => {
  it("refuses a URL that is not ws:// or wss:// at once, naming it (no unhandled rejection from the connect loop)", () => {
    const make = (url: string) => new KalshiWsClient({ url, channels: ["ticker"], tickers: ["T"] }, { onData: () => undefined, onGap: () => undefined });
    expect(() => make("not a url")).toThrow("not a WebSocket URL (ws:// or wss://): not a url");
    expect(() => make("https://example.com/trade-api/ws/v2")).toThrow("not a WebSocket URL (ws:// or wss://): https://example.com/trade-api/ws/v2");
  });
});
