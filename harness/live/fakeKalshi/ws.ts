/**
 * The loopback fake exchange's WebSocket side (trade-api/ws/v2): signed
 * handshake, `subscribe` / `unsubscribe`, an `orderbook_snapshot` on every
 * orderbook subscription followed by deltas, trades, tickers, lifecycle,
 * fills and user orders, each frame with its subscription's `sid` and a
 * `seq` that counts up by one. Scripted faults: drop every socket, skip a
 * `seq` (the next book frame jumps by two), go silent (no frames, no
 * pings) to trip a client's heartbeat timeout, and refuse connections for a
 * while (the WebSocket down, REST up: the client's polling fallback).
 *
 * It speaks the wire schemas of ../kalshiMessages.ts, so the client under
 * test is the same code that talks to Kalshi. Market state (books, orders,
 * matching) belongs to the fake exchange core (exchange.ts): this server
 * listens to its events and wraps each as `{ type, sid, seq, msg }`.
 * The core numbers book messages per market; this server numbers per
 * subscription, as Kalshi does, and carries a per-market gap through
 * (`exchange.skipBookSeq`). Private events (fill, user order) go only to
 * connections signed with the account's key. Every data message gets one
 * `ts_ms` stamp (strictly increasing) before it fans out, so all clients
 * see the same times.
 */
import type { Server } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { ClientCommand, WS_PATH, type Channel, type DataMessageType } from "../kalshiMessages.ts";
import type { FakeExchange } from "./exchange.ts";
import { authenticate } from "./rest.ts";

export interface FakeWsOptions {
  /** Refuse handshakes without a valid signature (Kalshi signs every connection). Default true. */
  requireAuth?: boolean;
  /** Server pings every this many ms (Kalshi: 10 s). */
  pingMs?: number;
}

/** Which channel a data message travels on. */
export const CHANNEL_OF: Record<DataMessageType, Channel> = {
  orderbook_snapshot: "orderbook_delta",
  orderbook_delta: "orderbook_delta",
  ticker: "ticker",
  trade: "trade",
  market_lifecycle_v2: "market_lifecycle_v2",
  fill: "fill",
  user_order: "user_orders",
};

interface Sub {
  sid: number;
  channel: Channel;
  tickers: Set<string> | null;
  seq: number;
}

interface Client {
  socket: WebSocket;
  /** The key id the handshake was signed with (null: unsigned). */
  account: string | null;
  subs: Map<number, Sub>;
  /** Per subscription and market: the exchange's book seq last forwarded (to carry its gaps through). */
  bookSeq: Map<string, number>;
}

export class FakeKalshiWs {
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<Client>();
  #nextSid = 1;
  #lastTs = 0;
  #skipSeq = 0;
  #silentUntil = 0;
  #refuseUntil = 0;
  readonly #ping: NodeJS.Timeout;
  readonly #unsubscribe: Array<() => void> = [];
  /** When each market's book last changed (the stamp of its last book message), for snapshots. */
  readonly #bookTs = new Map<string, number>();
  #attachedAt = 0;
  /** Handshakes refused, subscriptions made: for tests. */
  readonly stats = { refused: 0, subscribes: 0, snapshots: 0, connections: 0 };

  constructor(
    private readonly exchange: FakeExchange,
    server: Server,
    options: FakeWsOptions = {},
  ) {
    this.#wss = new WebSocketServer({ noServer: true });
    this.#attachedAt = this.stamp();
    server.on("upgrade", (req, socket, head) => {
      const path = (req.url ?? "").split("?")[0];
      if (path !== WS_PATH) {
        socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
        return;
      }
      if (Date.now() < this.#refuseUntil) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        return;
      }
      const account = authenticate(exchange, req.headers, "GET", WS_PATH);
      if (account === null && (options.requireAuth ?? true)) {
        this.stats.refused++;
        socket.end("HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\n\r\nmissing or invalid signature");
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, account));
    });
    const on = this.#unsubscribe;
    on.push(exchange.on("book_delta", (e) => this.#book("orderbook_delta", e.seq, e.msg.market_ticker, { ...e.msg })));
    on.push(exchange.on("book_snapshot", (e) => this.#book("orderbook_snapshot", e.seq, e.msg.market_ticker, { ...e.msg })));
    on.push(exchange.on("ticker", (e) => this.publish("ticker", { ...e.msg }, e.msg.market_ticker)));
    on.push(exchange.on("trade", (e) => this.publish("trade", { ...e.msg }, e.msg.market_ticker)));
    on.push(exchange.on("lifecycle", (e) => this.publish("market_lifecycle_v2", { ...e.msg }, e.msg.market_ticker)));
    on.push(exchange.on("fill", (e) => this.publish("fill", { ...e.msg }, null, e.account)));
    on.push(exchange.on("order_update", (e) => this.publish("user_order", { ...e.msg }, null, e.account)));
    on.push(exchange.on("drop_sockets", () => this.dropSockets()));
    this.#ping = setInterval(() => {
      if (Date.now() < this.#silentUntil) return;
      for (const c of this.#clients) c.socket.ping();
    }, options.pingMs ?? 10_000);
    this.#ping.unref();
  }

  /** A strictly increasing exchange time (ms), so every client sees the same, totally ordered stamps. */
  stamp(): number {
    this.#lastTs = Math.max(this.exchange.now(), this.#lastTs + 1);
    return this.#lastTs;
  }

  get connections(): number {
    return this.#clients.size;
  }

  #accept(socket: WebSocket, account: string | null): void {
    const client: Client = { socket, account, subs: new Map(), bookSeq: new Map() };
    this.#clients.add(client);
    this.stats.connections++;
    socket.on("close", () => this.#clients.delete(client));
    socket.on("message", (data) => this.#onCommand(client, data.toString()));
  }

  #onCommand(client: Client, text: string): void {
    let parsed: ReturnType<typeof ClientCommand.safeParse>;
    try {
      parsed = ClientCommand.safeParse(JSON.parse(text));
    } catch {
      return this.#sendRaw(client, { type: "error", msg: { code: 1, msg: "Unable to process message" } });
    }
    if (!parsed.success) return this.#sendRaw(client, { type: "error", msg: { code: 1, msg: "Unable to process message" } });
    const cmd = parsed.data;
    if (cmd.cmd === "unsubscribe") {
      for (const sid of cmd.params.sids) {
        client.subs.delete(sid);
        for (const key of [...client.bookSeq.keys()]) if (key.startsWith(`${sid}:`)) client.bookSeq.delete(key);
      }
      this.#sendRaw(client, { type: "unsubscribed", id: cmd.id, msg: { sids: cmd.params.sids } });
      return;
    }
    for (const channel of cmd.params.channels) {
      const sub: Sub = { sid: this.#nextSid++, channel: channel as Channel, tickers: cmd.params.market_tickers ? new Set(cmd.params.market_tickers) : null, seq: 0 };
      client.subs.set(sub.sid, sub);
      this.stats.subscribes++;
      this.#sendRaw(client, { type: "subscribed", id: cmd.id, msg: { channel, sid: sub.sid } });
      if (channel === "orderbook_delta") {
        for (const ticker of sub.tickers ?? []) {
          if (!this.exchange.market(ticker)) continue;
          const snap = this.exchange.bookSnapshot(ticker);
          this.stats.snapshots++;
          client.bookSeq.set(`${sub.sid}:${ticker}`, snap.seq);
          // A snapshot is the book as of its last change: every client subscribing to an unchanged book gets the same time.
          this.#sendOn(client, sub, "orderbook_snapshot", { ...snap.msg, ts_ms: this.#bookTs.get(ticker) ?? this.#attachedAt });
        }
      }
    }
  }

  /**
   * Send a data message to every subscription of its channel that covers
   * `ticker`; a private one (`account` set) only to connections signed with
   * that key. `ts_ms` is stamped here when the message has none.
   */
  publish(type: DataMessageType, msg: Record<string, unknown>, ticker: string | null, account: string | null = null): void {
    if (Date.now() < this.#silentUntil) return;
    const channel = CHANNEL_OF[type];
    const body = "ts_ms" in msg ? msg : { ...msg, ts_ms: this.stamp() };
    for (const client of this.#clients) {
      if (account !== null && client.account !== account) continue;
      for (const sub of client.subs.values()) {
        if (sub.channel !== channel) continue;
        if (sub.tickers && ticker !== null && !sub.tickers.has(ticker)) continue;
        this.#sendOn(client, sub, type, body);
      }
    }
  }

  /** A book message numbered per market by the exchange: a jump in that number becomes a jump in the subscription's seq. */
  #book(type: "orderbook_delta" | "orderbook_snapshot", marketSeq: number, ticker: string, msg: Record<string, unknown>): void {
    if (Date.now() < this.#silentUntil) return;
    const body = { ...msg, ts_ms: this.stamp() };
    this.#bookTs.set(ticker, body.ts_ms);
    for (const client of this.#clients) {
      for (const sub of client.subs.values()) {
        if (sub.channel !== "orderbook_delta" || (sub.tickers && !sub.tickers.has(ticker))) continue;
        const key = `${sub.sid}:${ticker}`;
        const last = client.bookSeq.get(key);
        client.bookSeq.set(key, marketSeq);
        if (last !== undefined && marketSeq > last + 1) sub.seq += marketSeq - last - 1;
        this.#sendOn(client, sub, type, body);
      }
    }
  }

  #sendOn(client: Client, sub: Sub, type: DataMessageType, msg: Record<string, unknown>): void {
    sub.seq += 1;
    if (this.#skipSeq > 0 && sub.channel === "orderbook_delta" && type === "orderbook_delta") {
      // Fault: one frame "lost" on the wire: the client sees seq jump by two.
      this.#skipSeq--;
      sub.seq += 1;
    }
    this.#sendRaw(client, { type, sid: sub.sid, seq: sub.seq, msg });
  }

  #sendRaw(client: Client, frame: Record<string, unknown>): void {
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(JSON.stringify(frame));
  }

  // ── scripted faults ────────────────────────────────────────────────
  /** Drop every connected socket (as a network failure would). */
  dropSockets(): void {
    for (const c of this.#clients) c.socket.terminate();
  }
  /** The next `n` book delta frames sent jump a `seq` (the first subscriber reached sees the gap). */
  skipSeq(n = 1): void {
    this.#skipSeq += n;
  }
  /** The WebSocket is down for `ms`: every socket dropped, handshakes refused (503); REST keeps serving. */
  refuse(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
    this.dropSockets();
  }
  /** Send nothing (frames nor pings) for `ms`: a client's heartbeat timeout should fire. */
  silence(ms: number): void {
    this.#silentUntil = Date.now() + ms;
  }

  async close(): Promise<void> {
    clearInterval(this.#ping);
    for (const off of this.#unsubscribe) off();
    for (const c of this.#clients) c.socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
