/**
 * A WebSocket client for Kalshi's trade-api/ws/v2 on the `ws` package.
 *
 * - Every connection is signed (KALSHI.md "Auth": timestamp + "GET" +
 *   "/trade-api/ws/v2"); the headers come from `authHeaders`, rebuilt for
 *   every connect, so the key never lives here.
 * - One subscription per channel, so each has its own `sid` and `seq`.
 *   Sequence numbers are checked per sid: a gap on `orderbook_delta` marks
 *   the books stale, unsubscribes and subscribes again (Kalshi answers a
 *   subscribe with a fresh `orderbook_snapshot`); a gap on another channel
 *   is reported (messages were lost) and the stream goes on.
 * - Reconnects with exponential backoff and full jitter after any close it
 *   did not ask for; every book is stale from the drop until its snapshot.
 * - Heartbeat: Kalshi pings every 10 s; a connection that delivers no frame
 *   and no ping for `heartbeatTimeoutMs` is taken for dead and replaced.
 */
import WebSocket from "ws";
import { fullJitterDelay } from "../router/backoff.ts";
import {
  DATA_MESSAGES,
  ErrorMsg,
  ServerFrame,
  SubscribedMsg,
  type Channel,
  type ClientCommand,
  type DataMessageType,
} from "./kalshiMessages.ts";
import type { z } from "zod";

export type DataPayload<T extends DataMessageType> = z.infer<(typeof DATA_MESSAGES)[T]>;

/** What the client tells its owner. Receive times are wall ms (Date.now()). */
export interface WsListener {
  /** A data message, schema-checked. */
  onData<T extends DataMessageType>(type: T, msg: DataPayload<T>, receivedAt: number): void;
  /**
   * Data was lost: a sequence gap on `channel`, or the connection dropped
   * (`channel` null). Books must be treated as stale until their snapshot.
   */
  onGap(channel: Channel | null, reason: string, at: number): void;
  /** Connected and subscriptions sent (first connect and every reconnect). */
  onConnected?(at: number): void;
  /** A frame that broke the protocol (dropped, never a crash). */
  onProtocolError?(message: string): void;
}

export interface KalshiWsOptions {
  /** wss://…/trade-api/ws/v2 (or the loopback fake's ws://127.0.0.1:port/trade-api/ws/v2). */
  url: string;
  /** Signed headers for one connection attempt (KALSHI-ACCESS-KEY/-TIMESTAMP/-SIGNATURE), or none for an unsigned connection. */
  authHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Market channels subscribed for `tickers`. */
  channels: readonly Channel[];
  tickers: readonly string[];
  /** Private channels (fill, user_orders): subscribed without tickers. */
  privateChannels?: readonly Channel[];
  heartbeatTimeoutMs?: number;
  /** `start()` fails when no connection opened within this many ms (default 30 s); later drops retry forever. */
  connectTimeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
  rng?: () => number;
}

interface Subscription {
  channel: Channel;
  tickers: readonly string[] | null;
  sid: number | null;
  lastSeq: number | null;
}

export class KalshiWsClient {
  #ws: WebSocket | null = null;
  #closed = false;
  #attempt = 0;
  #nextId = 1;
  /** Subscription by command id while waiting for `subscribed`, and by sid after. */
  #pending = new Map<number, Subscription>();
  #bySid = new Map<number, Subscription>();
  #subs: Subscription[] = [];
  #heartbeat: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #connected: Promise<void>;
  #resolveConnected: () => void = () => undefined;
  /** Counters for tests and status lines. */
  readonly stats = { connects: 0, gaps: 0, resubscribes: 0, heartbeatTimeouts: 0, protocolErrors: 0 };

  constructor(
    private readonly options: KalshiWsOptions,
    private readonly listener: WsListener,
  ) {
    // A bad URL never connects: say so now, not as a rejection inside the reconnect loop.
    let protocol: string | null = null;
    try {
      protocol = new URL(options.url).protocol;
    } catch {
      protocol = null;
    }
    if (protocol !== "ws:" && protocol !== "wss:") throw new Error(`not a WebSocket URL (ws:// or wss://): ${options.url}`);
    this.#connected = new Promise((resolve) => (this.#resolveConnected = resolve));
  }

  /**
   * Connect; resolves once the first connection is open and subscribed to,
   * rejects (naming the last refusal, e.g. "Unexpected server response: 401")
   * when none opened within `connectTimeoutMs`. Later drops reconnect on their own.
   */
  async start(): Promise<void> {
    void this.#connect();
    const ms = this.options.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no WebSocket connection to ${this.options.url} within ${ms} ms${this.#lastError ? ` (last: ${this.#lastError})` : ""}`)), ms);
    });
    try {
      await Promise.race([this.#connected, timeout]);
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Why the last connection attempt failed, if it did. */
  #lastError: string | null = null;

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.terminate();
      });
    }
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let headers: Record<string, string> = {};
    try {
      headers = (await this.options.authHeaders?.()) ?? {};
    } catch (error) {
      this.listener.onProtocolError?.(`cannot sign the WebSocket handshake: ${error instanceof Error ? error.message : String(error)}`);
    }
    // close() may have come while the handshake was being signed: then no socket may open (it would never be closed).
    if (this.#closed) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url, { headers, handshakeTimeout: 10_000 });
    } catch (error) {
      // Refused before any socket existed (e.g. a header value ws will not send): retried like a refused connection.
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.on("open", () => {
      this.#attempt = 0;
      this.stats.connects++;
      this.#subscribeAll();
      this.#touch();
      this.listener.onConnected?.(Date.now());
      this.#resolveConnected();
    });
    ws.on("ping", () => this.#touch());
    ws.on("message", (data) => {
      this.#touch();
      this.#onFrame(data.toString());
    });
    ws.on("error", (error) => {
      // 'close' follows every error; the reconnect happens there.
      this.#lastError = error.message;
    });
    ws.on("close", () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (this.#heartbeat) clearTimeout(this.#heartbeat);
      if (this.#closed) return;
      this.#forgetSids();
      this.listener.onGap(null, "connection dropped", Date.now());
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const policy = this.options.backoff ?? { baseMs: 250, capMs: 10_000 };
    // At least a little wait, so a server refusing at once is not hammered.
    const delay = Math.max(policy.baseMs / 4, fullJitterDelay(this.#attempt++, policy, this.options.rng ?? Math.random));
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
  }

  /** Any frame or ping proves the connection alive; silence past the timeout replaces it. */
  #touch(): void {
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    const timeout = this.options.heartbeatTimeoutMs ?? 25_000;
    this.#heartbeat = setTimeout(() => {
      this.stats.heartbeatTimeouts++;
      // terminate() fires 'close', which reports the gap and reconnects.
      this.#ws?.terminate();
    }, timeout);
  }

  #forgetSids(): void {
    this.#pending.clear();
    this.#bySid.clear();
    for (const s of this.#subs) {
      s.sid = null;
      s.lastSeq = null;
    }
  }

  #subscribeAll(): void {
    if (this.#subs.length === 0) {
      for (const channel of this.options.channels) this.#subs.push({ channel, tickers: this.options.tickers, sid: null, lastSeq: null });
      for (const channel of this.options.privateChannels ?? []) this.#subs.push({ channel, tickers: null, sid: null, lastSeq: null });
    }
    for (const s of this.#subs) this.#subscribe(s);
  }

  #subscribe(s: Subscription): void {
    const id = this.#nextId++;
    const cmd: ClientCommand = {
      id,
      cmd: "subscribe",
      params: { channels: [s.channel], ...(s.tickers ? { market_tickers: [...s.tickers] } : {}) },
    };
    this.#pending.set(id, s);
    this.#send(cmd);
  }

  #send(cmd: ClientCommand): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(cmd));
  }

  /** A gap on `s`: report it and, for the book channel, take a fresh snapshot by subscribing again. */
  #gap(s: Subscription, reason: string): void {
    this.stats.gaps++;
    this.listener.onGap(s.channel, reason, Date.now());
    if (s.channel !== "orderbook_delta") return;
    this.stats.resubscribes++;
    if (s.sid !== null) {
      this.#bySid.delete(s.sid);
      this.#send({ id: this.#nextId++, cmd: "unsubscribe", params: { sids: [s.sid] } });
    }
    s.sid = null;
    s.lastSeq = null;
    this.#subscribe(s);
  }

  #onFrame(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#protocolError(`not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const frame = ServerFrame.safeParse(json);
    if (!frame.success) return this.#protocolError(`frame without a type: ${text.slice(0, 80)}`);
    const f = frame.data;
    if (f.type === "subscribed") {
      const m = SubscribedMsg.safeParse(f.msg);
      const s = f.id !== undefined ? this.#pending.get(f.id) : undefined;
      if (!m.success || !s) return this.#protocolError(`unexpected subscribed frame: ${text.slice(0, 120)}`);
      this.#pending.delete(f.id!);
      s.sid = m.data.sid;
      s.lastSeq = null;
      this.#bySid.set(m.data.sid, s);
      return;
    }
    if (f.type === "error") {
      const m = ErrorMsg.safeParse(f.msg);
      return this.#protocolError(`server error${m.success ? `: ${m.data.msg ?? ""} (code ${m.data.code ?? "?"})` : ""}`);
    }
    if (f.type === "unsubscribed" || f.type === "ok") return;
    if (!(f.type in DATA_MESSAGES)) return; // a channel we did not ask for, or a new message kind: ignore
    const type = f.type as DataMessageType;
    const s = f.sid !== undefined ? this.#bySid.get(f.sid) : undefined;
    // Frames of a subscription we dropped (an old sid after a resubscribe) are stale by definition.
    if (f.sid !== undefined && !s) return;
    if (s && f.seq !== undefined) {
      if (type === "orderbook_snapshot") s.lastSeq = f.seq;
      else if (s.lastSeq !== null && f.seq !== s.lastSeq + 1) {
        const reason = `seq gap on ${s.channel} (sid ${s.sid}): expected ${s.lastSeq + 1}, got ${f.seq}`;
        this.#gap(s, reason);
        // The frame after a gap is not applied to a book: the snapshot that follows replaces it.
        if (s.channel === "orderbook_delta") return;
        s.lastSeq = f.seq;
      } else s.lastSeq = f.seq;
    }
    const parsed = DATA_MESSAGES[type].safeParse(f.msg);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#protocolError(`${type} field ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
    }
    this.listener.onData(type, parsed.data as DataPayload<typeof type>, Date.now());
  }

  #protocolError(message: string): void {
    this.stats.protocolErrors++;
    this.listener.onProtocolError?.(message);
  }

  /**
   * Follow these markets from now on: every market subscription is replaced
   * by one for the new list (a new book snapshot for each market comes with
   * it). Used when a series lists a new market.
   */
  setTickers(tickers: readonly string[]): void {
    for (const s of this.#subs) {
      if (s.tickers === null) continue;
      if (s.sid !== null) {
        this.#bySid.delete(s.sid);
        this.#send({ id: this.#nextId++, cmd: "unsubscribe", params: { sids: [s.sid] } });
      }
      s.tickers = [...tickers];
      s.sid = null;
      s.lastSeq = null;
      if (this.isOpen) this.#subscribe(s);
    }
  }

  /** Ask for a fresh snapshot of every book (e.g. a book went negative on a delta). */
  resnapshot(reason: string): void {
    const s = this.#subs.find((x) => x.channel === "orderbook_delta");
    if (s && this.isOpen) this.#gap(s, reason);
  }
}
