/**
 * The live EventSource: Kalshi's WebSocket feed (and RSS news) on the wall
 * clock, producing the event types replay produces from a dataset (open,
 * book, quote, trade, news, close, settle), so the pipeline cannot tell
 * which it got (DESIGN.md "Two small nodes").
 *
 * - Times: an event carries the exchange's own time when the message has
 *   one (`ts_ms`, else `ts` seconds), else the time it was received, never
 *   earlier than the event before it (the stream is ordered, as replay's
 *   is). Two processes on one feed therefore see the same times, which is
 *   what lets a recording replay to the same decisions (test/live/parity).
 * - Books: snapshot + deltas (orderBook.ts); a book event carries the
 *   whole book after each change. A seq gap or a dropped connection makes
 *   books stale: nothing is published for them until a fresh snapshot, and
 *   the stale stretch is reported as a gap (the recorder writes it down).
 * - Fallback: while the WebSocket is down longer than `pollAfterMs`, books
 *   and quotes are polled over REST every `pollMs`.
 * - Private channels (`fill`, `user_orders`) are not market events: they go
 *   to whoever registered with `onPrivate` (the Kalshi broker turns them
 *   into execution reports).
 */
import type { EventSource, MarketEvent, MarketInfo } from "../events/types.ts";
import { dollarsToUnits, type Units } from "../money/money.ts";
import { KalshiWsClient, type DataPayload } from "./kalshiWs.ts";
import { MARKET_CHANNELS, messageTime, PRIVATE_CHANNELS, type Channel, type DataMessageType, type FillMsg, type UserOrderMsg } from "./kalshiMessages.ts";
import type { LiveMarket, MarketDirectory, PolledQuote } from "./marketDirectory.ts";
import { OrderBook } from "./orderBook.ts";
import type { NewsFeed } from "./newsFeed.ts";

/** A stretch where the feed was stale (`ticker` null: every market). `end` is when the feed was whole again. */
export interface FeedGap {
  ticker: string | null;
  start: number;
  end: number;
  reason: string;
}

export interface PrivateListener {
  fill?(msg: FillMsg, receivedAt: number): void;
  order?(msg: UserOrderMsg, receivedAt: number): void;
}

export interface LiveSourceOptions {
  wsUrl: string;
  authHeaders?: (() => Record<string, string> | Promise<Record<string, string>>) | undefined;
  directory: MarketDirectory;
  series: readonly string[];
  tickers?: readonly string[];
  /** Subscribe to fill and user_orders (needs a signed connection). */
  privateChannels?: boolean;
  news?: readonly NewsFeed[];
  heartbeatTimeoutMs?: number;
  /** start() fails when the WebSocket does not open within this many ms (default 30 s). */
  connectTimeoutMs?: number;
  pollAfterMs?: number;
  pollMs?: number;
  backoff?: { baseMs: number; capMs: number };
  /** Receive time (default Date.now); tests never need another. */
  now?: () => number;
  /** Name shown for the run's "dataset". */
  name?: string;
  /** End the stream once every followed market has settled (default true). */
  endWhenSettled?: boolean;
  /** Look for new markets in the followed series this often, ms (default 60 s; 0: never). */
  discoverMs?: number;
}


export class LiveSource implements EventSource {
  #queue: MarketEvent[] = [];
  #wake: (() => void) | null = null;
  #done = false;
  #lastTs = 0;
  #started = 0;
  #markets = new Map<string, LiveMarket>();
  #opened = new Set<string>();
  #closedSent = new Set<string>();
  #settled = new Set<string>();
  #books = new Map<string, OrderBook>();
  /** Markets stale since (ms), with why. */
  #staleSince = new Map<string, { at: number; reason: string }>();
  #gapListeners: Array<(gap: FeedGap) => void> = [];
  #marketListeners: Array<(m: LiveMarket) => void> = [];
  #private: PrivateListener[] = [];
  #ws: KalshiWsClient | null = null;
  #poll: NodeJS.Timeout | null = null;
  #discover: NodeJS.Timeout | null = null;
  #wsDownSince: number | null = null;
  readonly #now: () => number;
  /** Counters for status lines and tests. */
  readonly stats = { events: 0, polls: 0, gaps: 0 };

  constructor(private readonly options: LiveSourceOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Connect: read the markets, emit their `open` events, subscribe. Resolves when the feed is live. */
  async start(): Promise<void> {
    this.#started = this.#now();
    const markets = await this.options.directory.markets({ series: this.options.series, tickers: this.options.tickers ?? [] });
    if (markets.length === 0) throw new Error(`no markets found for series [${this.options.series.join(", ")}]${this.options.tickers?.length ? ` and tickers [${this.options.tickers.join(", ")}]` : ""}`);
    const opens: MarketEvent[] = [];
    for (const m of [...markets].sort((a, b) => a.openTime - b.openTime || (a.ticker < b.ticker ? -1 : 1))) {
      this.#markets.set(m.ticker, m);
      this.#books.set(m.ticker, new OrderBook(m.ticker));
      this.#staleSince.set(m.ticker, { at: this.#started, reason: "no snapshot yet" });
      this.#notifyMarket(m);
      if (m.openTime <= this.#started && m.status !== "initialized") opens.push(this.#openEvent(m, m.openTime));
    }
    this.#push(opens);
    this.#closeAlreadyClosed(markets, this.#started);
    const tickers = [...this.#markets.keys()];
    this.#ws = new KalshiWsClient(
      {
        url: this.options.wsUrl,
        ...(this.options.authHeaders ? { authHeaders: this.options.authHeaders } : {}),
        channels: MARKET_CHANNELS,
        tickers,
        privateChannels: this.options.privateChannels ? PRIVATE_CHANNELS : [],
        ...(this.options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: this.options.heartbeatTimeoutMs } : {}),
        ...(this.options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      },
      {
        onData: (type, msg, at) => this.#onData(type, msg, at),
        onGap: (channel, reason, at) => this.#onGap(channel, reason, at),
        onConnected: () => {
          this.#wsDownSince = null;
        },
      },
    );
    await this.#ws.start();
    for (const feed of this.options.news ?? []) feed.start((items) => this.#push(items.map((n) => ({ ...n, ts: this.#stamp(n.ts) }))));
    this.#poll = setInterval(() => void this.#pollIfDown(), this.options.pollMs ?? 2_000);
    this.#poll.unref();
    const discoverMs = this.options.discoverMs ?? 60_000;
    if (discoverMs > 0 && this.options.series.length > 0) {
      this.#discover = setInterval(() => void this.discover().catch(() => undefined), discoverMs);
      this.#discover.unref();
    }
  }

  /**
   * List the followed series again; markets not seen before join the feed
   * (their `open` event, then their books from a fresh subscription). A
   * series with daily markets keeps being recorded as new ones list.
   */
  async discover(): Promise<string[]> {
    if (this.#done) return [];
    const listed = await this.options.directory.markets({ series: this.options.series, tickers: [] });
    const fresh = listed.filter((m) => !this.#markets.has(m.ticker)).sort((a, b) => a.openTime - b.openTime || (a.ticker < b.ticker ? -1 : 1));
    if (fresh.length === 0 || this.#done) return [];
    const now = this.#now();
    const opens: MarketEvent[] = [];
    for (const m of fresh) {
      this.#markets.set(m.ticker, m);
      this.#books.set(m.ticker, new OrderBook(m.ticker));
      this.#staleSince.set(m.ticker, { at: now, reason: "no snapshot yet" });
      this.#notifyMarket(m);
      if (m.openTime <= now && m.status !== "initialized") opens.push(this.#openEvent(m, now));
    }
    this.#push(opens);
    this.#closeAlreadyClosed(fresh, now);
    this.#ws?.setTickers([...this.#markets.keys()]);
    return fresh.map((m) => m.ticker);
  }

  get ws(): KalshiWsClient | null {
    return this.#ws;
  }

  /** Markets followed, as last known (status, result and close time change as lifecycle messages come). */
  markets(): LiveMarket[] {
    return [...this.#markets.values()];
  }

  /**
   * The stale stretches still open (a book never snapshotted, or stale since
   * a gap), ended at `now`: a recorder stopping mid-gap writes these down.
   */
  openGaps(now: number = this.#now()): FeedGap[] {
    const end = Math.max(now, this.#lastTs);
    return [...this.#staleSince.entries()]
      .filter(([t]) => !this.#closedSent.has(t))
      .map(([ticker, s]) => ({ ticker, start: s.at, end, reason: `${s.reason} (still stale when the session stopped)` }));
  }

  /** Tickers whose book is stale now. */
  staleTickers(): string[] {
    return [...this.#staleSince.keys()];
  }

  onGap(listener: (gap: FeedGap) => void): void {
    this.#gapListeners.push(listener);
  }

  /** Called with a market whenever what is known about it changes (new, closed, settled). */
  onMarket(listener: (m: LiveMarket) => void): void {
    this.#marketListeners.push(listener);
  }

  onPrivate(listener: PrivateListener): void {
    this.#private.push(listener);
  }

  async describe(): Promise<{ name: string; hash: string; start: number; end: number; events: number | null; hasBidAsk: boolean }> {
    const name = this.options.name ?? `live:${[...this.options.series, ...(this.options.tickers ?? [])].join(",")}`;
    return { name, hash: `live-${this.#started}`, start: this.#started, end: this.#lastTs, events: null, hasBidAsk: true };
  }

  async *events(): AsyncIterable<MarketEvent[]> {
    for (;;) {
      if (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        yield batch;
        continue;
      }
      if (this.#done) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }

  /** End the stream: events already queued are still delivered, then the iteration ends. */
  stop(): void {
    this.#done = true;
    this.#wake?.();
  }

  async close(): Promise<void> {
    this.stop();
    if (this.#poll) clearInterval(this.#poll);
    if (this.#discover) clearInterval(this.#discover);
    for (const feed of this.options.news ?? []) feed.stop();
    await this.#ws?.close();
  }

  // ── inside ─────────────────────────────────────────────────────────
  #stamp(exchangeTs: number | null): number {
    const ts = Math.max(this.#lastTs, exchangeTs ?? this.#now());
    this.#lastTs = ts;
    return ts;
  }

  #push(events: readonly MarketEvent[]): void {
    if (events.length === 0 || this.#done) return;
    for (const e of events) this.#queue.push(e);
    this.stats.events += events.length;
    this.#wake?.();
  }

  #notifyMarket(m: LiveMarket): void {
    for (const l of this.#marketListeners) l(m);
  }

  #openEvent(m: LiveMarket, ts: number): MarketEvent {
    this.#opened.add(m.ticker);
    const info: MarketInfo = {
      ticker: m.ticker,
      eventTicker: m.eventTicker,
      seriesTicker: m.seriesTicker,
      title: m.title,
      subtitle: m.subtitle,
      rules: m.rules,
      background: null,
      category: m.category,
      openTime: m.openTime,
      scheduledCloseTime: m.scheduledCloseTime,
    };
    return { kind: "open", ts: this.#stamp(ts), ticker: m.ticker, market: info };
  }

  #onData<T extends DataMessageType>(type: T, payload: DataPayload<T>, at: number): void {
    switch (type) {
      case "orderbook_snapshot": {
        const msg = payload as DataPayload<"orderbook_snapshot">;
        const book = this.#books.get(msg.market_ticker);
        if (!book) return;
        const ts = this.#stamp(messageTime(msg) ?? at);
        book.applySnapshot(msg.yes_dollars_fp, msg.no_dollars_fp, ts);
        this.#whole(msg.market_ticker, ts);
        this.#push([book.toEvent(ts)]);
        return;
      }
      case "orderbook_delta": {
        const msg = payload as DataPayload<"orderbook_delta">;
        const book = this.#books.get(msg.market_ticker);
        if (!book || book.stale) return;
        const ts = this.#stamp(messageTime(msg) ?? at);
        if (!book.applyDelta(msg.side, msg.price_dollars, msg.delta_fp, ts)) {
          // The book went negative: it was wrong. Same cure as a gap.
          this.#markStale([msg.market_ticker], "a delta took a level below zero", ts);
          this.#ws?.resnapshot("book went negative");
          return;
        }
        this.#push([book.toEvent(ts)]);
        return;
      }
      case "ticker": {
        const msg = payload as DataPayload<"ticker">;
        if (!this.#markets.has(msg.market_ticker)) return;
        const ts = this.#stamp(messageTime(msg) ?? at);
        this.#push([
          {
            kind: "quote",
            ts,
            ticker: msg.market_ticker,
            yesBid: price(msg.yes_bid_dollars),
            yesAsk: price(msg.yes_ask_dollars),
            lastPrice: price(msg.price_dollars),
            volume: count(msg.volume_fp),
            openInterest: count(msg.open_interest_fp),
          },
        ]);
        return;
      }
      case "trade": {
        const msg = payload as DataPayload<"trade">;
        if (!this.#markets.has(msg.market_ticker)) return;
        const yesPrice = price(msg.yes_price_dollars);
        const n = Number(msg.count_fp);
        if (yesPrice === null || !(n > 0)) return;
        const ts = this.#stamp(messageTime(msg) ?? at);
        this.#push([{ kind: "trade", ts, ticker: msg.market_ticker, tradeId: msg.trade_id, yesPrice, count: n, takerSide: msg.taker_side }]);
        return;
      }
      case "market_lifecycle_v2":
        this.#onLifecycle(payload as DataPayload<"market_lifecycle_v2">, at);
        return;
      case "fill":
        for (const l of this.#private) l.fill?.(payload as FillMsg, at);
        return;
      case "user_order":
        for (const l of this.#private) l.order?.(payload as UserOrderMsg, at);
        return;
    }
  }

  #onLifecycle(msg: DataPayload<"market_lifecycle_v2">, at: number): void {
    const m = this.#markets.get(msg.market_ticker);
    if (!m) return;
    const ts = this.#stamp(messageTime(msg) ?? at);
    switch (msg.event_type) {
      case "activated":
        if (!this.#opened.has(m.ticker)) {
          m.status = "active";
          this.#notifyMarket(m);
          this.#push([this.#openEvent(m, ts)]);
        }
        return;
      case "close_date_updated":
        if (msg.close_ts !== undefined) {
          m.closeTime = msg.close_ts * 1000;
          m.scheduledCloseTime = msg.close_ts * 1000;
          this.#notifyMarket(m);
        }
        return;
      case "deactivated":
        this.#close(m, ts);
        return;
      case "determined":
      case "settled": {
        this.#close(m, ts);
        if (this.#settled.has(m.ticker)) return;
        this.#settled.add(m.ticker);
        m.status = "settled";
        m.result = msg.result === "yes" || msg.result === "no" ? msg.result : null;
        m.settleTime = ts;
        this.#notifyMarket(m);
        this.#push([{ kind: "settle", ts, ticker: m.ticker, result: m.result }]);
        // Nothing left to follow: the stream ends (a replay of the recording ends there too).
        if ((this.options.endWhenSettled ?? true) && this.#settled.size === this.#markets.size) this.stop();
        return;
      }
      default:
        return;
    }
  }

  /**
   * Markets listed as closed but not settled yet (a series' market between its close and its settlement):
   * their lifecycle close will not come again, so they close now, right after their open (no strategy
   * takes them for tradable). The close time Kalshi lists, the actual one, stays on the market's record.
   */
  #closeAlreadyClosed(markets: readonly LiveMarket[], now: number): void {
    for (const m of markets) {
      if (!ALREADY_CLOSED.has(m.status) || !this.#opened.has(m.ticker)) continue;
      const listedClose = m.closeTime;
      this.#close(m, this.#stamp(now));
      m.closeTime = Math.min(listedClose, m.closeTime);
      this.#notifyMarket(m);
    }
  }

  #close(m: LiveMarket, ts: number): void {
    if (this.#closedSent.has(m.ticker)) return;
    this.#closedSent.add(m.ticker);
    m.status = m.status === "settled" ? m.status : "closed";
    m.closeTime = ts;
    this.#notifyMarket(m);
    this.#push([{ kind: "close", ts, ticker: m.ticker }]);
  }

  #onGap(channel: Channel | null, reason: string, at: number): void {
    this.stats.gaps++;
    if (channel === null) {
      this.#wsDownSince ??= at;
      this.#markStale([...this.#books.keys()], reason, at);
      return;
    }
    if (channel === "orderbook_delta") {
      this.#markStale([...this.#books.keys()], reason, at);
      return;
    }
    // Lost trades or tickers have no snapshot to come back with: a gap of no length, marked where it happened.
    const ts = Math.max(this.#lastTs, at);
    for (const l of this.#gapListeners) l({ ticker: null, start: ts, end: ts, reason });
  }

  #markStale(tickers: readonly string[], reason: string, at: number): void {
    for (const t of tickers) {
      this.#books.get(t)?.markStale();
      if (!this.#staleSince.has(t) && !this.#closedSent.has(t)) this.#staleSince.set(t, { at: Math.max(this.#lastTs, at), reason });
    }
  }

  /** A fresh snapshot arrived: the market's stale stretch (if any) ends now. */
  #whole(ticker: string, ts: number): void {
    const stale = this.#staleSince.get(ticker);
    if (!stale) return;
    this.#staleSince.delete(ticker);
    // The wait for the first snapshot at start-up is not a gap in the recording.
    if (stale.reason === "no snapshot yet") return;
    // A snapshot carries the book's last change, which may be before we noticed the gap (wall time).
    for (const l of this.#gapListeners) l({ ticker, start: stale.at, end: Math.max(ts, stale.at), reason: stale.reason });
  }

  async #pollIfDown(): Promise<void> {
    const down = this.#wsDownSince;
    if (down === null || this.#done || this.#now() - down < (this.options.pollAfterMs ?? 3_000)) return;
    this.stats.polls++;
    for (const ticker of this.#books.keys()) {
      if (this.#closedSent.has(ticker)) continue;
      try {
        const [book, quote] = await Promise.all([this.options.directory.orderbook(ticker), this.options.directory.quote(ticker)]);
        // The socket came back while we asked: its snapshot is newer than this answer.
        if (this.#wsDownSince === null || this.#done) return;
        const ts = this.#stamp(null);
        const local = this.#books.get(ticker)!;
        local.applySnapshot(book.yes, book.no, ts);
        // A polled book is right at this instant, but trades between polls are missed and deltas
        // resume only with the socket's own snapshot: the stretch stays a gap until then.
        local.markStale();
        this.#push([local.toEvent(ts), quoteEvent(quote, ts)]);
      } catch {
        // REST down too: the gap simply goes on.
      }
    }
  }
}

/** Kalshi statuses of a market that trades no more but has not settled (settled and finalized ones are not followed). */
const ALREADY_CLOSED = new Set(["closed", "determined", "inactive"]);

function price(dollars: string | null | undefined): Units | null {
  if (dollars === null || dollars === undefined) return null;
  const u = dollarsToUnits(dollars);
  return u > 0 && u < 10_000 ? u : null;
}

function count(fp: string | null | undefined): number | null {
  if (fp === null || fp === undefined) return null;
  const n = Number(fp);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function quoteEvent(q: PolledQuote, ts: number): MarketEvent {
  return {
    kind: "quote",
    ts,
    ticker: q.ticker,
    yesBid: price(q.yesBidDollars),
    yesAsk: price(q.yesAskDollars),
    lastPrice: price(q.lastPriceDollars),
    volume: count(q.volumeFp),
    openInterest: count(q.openInterestFp),
  };
}

