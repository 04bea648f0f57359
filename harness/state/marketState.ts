/**
 * What the world looks like as of the clock's now, built only from events
 * already delivered. Strategies, filters and sizing read it through the
 * read-only MarketView; only the pipeline applies events. Because the state
 * is folded from the ordered stream, nothing later than now can be in it:
 * no lookahead by construction. A market's result enters only with its
 * settle event, and strategies are not asked about settled markets.
 */
import type { Result } from "../../datasets/format.ts";
import type { Clock } from "../clock/clock.ts";
import type { MarketEvent, MarketInfo, NewsEvent, TradeEvent } from "../events/types.ts";
import type { Units } from "../money/money.ts";

export interface QuoteState {
  ts: number;
  yesBid: Units | null;
  yesAsk: Units | null;
  /**
   * The last price quotes reported (Kalshi's last_price; ForecastBench's freeze value). A quote
   * without one (a candlestick of an hour without trades) leaves it in place: no new price is not
   * "no price".
   */
  lastPrice: Units | null;
  /** When lastPrice was reported (it can be older than ts). */
  lastPriceTs: number | null;
}

export interface MarketSnapshot {
  readonly info: MarketInfo;
  readonly quote: QuoteState | null;
  readonly book: { ts: number; yes: ReadonlyArray<[Units, number]>; no: ReadonlyArray<[Units, number]> } | null;
  readonly lastTrade: TradeEvent | null;
  /** The most recent trades, oldest first (bounded). */
  readonly recentTrades: readonly TradeEvent[];
  /** Contracts traded so far: the quote's reported volume when present, else summed prints. */
  readonly volume: number;
  readonly closed: boolean;
  /** When the market really closed (its close event); null while open. */
  readonly closedAt: number | null;
  readonly settled: boolean;
  /** Known only after the settle event. */
  readonly result: Result | undefined;
}

export interface MarketView {
  now(): number;
  market(ticker: string): MarketSnapshot | undefined;
  /** Markets open for trading now. */
  openTickers(): Iterable<string>;
  isOpen(ticker: string): boolean;
  /** Latest news first, at most `limit` items (bounded history). */
  recentNews(limit: number): readonly NewsEvent[];
  /**
   * The market's own probability now: mid of bid/ask when both are quoted,
   * else the latest last price (a trade print, or the last price a quote
   * reported, however many price-less quotes came since), else the one side
   * that is quoted. Null when nothing is known.
   * Units of $0.0001.
   */
  marketPrice(ticker: string): Units | null;
}

interface MutableMarket {
  info: MarketInfo;
  quote: QuoteState | null;
  book: MarketSnapshot["book"];
  lastTrade: TradeEvent | null;
  recentTrades: TradeEvent[];
  printedVolume: number;
  quotedVolume: number | null;
  closed: boolean;
  closedAt: number | null;
  settled: boolean;
  result: Result | undefined;
}

const RECENT_TRADES = 32;
const RECENT_NEWS = 256;

export class MarketState implements MarketView {
  #markets = new Map<string, MutableMarket>();
  #open = new Set<string>();
  #news: NewsEvent[] = [];

  constructor(private readonly clock: Clock) {}

  now(): number {
    return this.clock.now();
  }

  apply(e: MarketEvent): void {
    if (e.kind === "news") {
      this.#news.push(e);
      if (this.#news.length > RECENT_NEWS * 2) this.#news = this.#news.slice(-RECENT_NEWS);
      return;
    }
    if (e.kind === "open") {
      this.#markets.set(e.ticker, {
        info: e.market,
        quote: null,
        book: null,
        lastTrade: null,
        recentTrades: [],
        printedVolume: 0,
        quotedVolume: null,
        closed: false,
        closedAt: null,
        settled: false,
        result: undefined,
      });
      this.#open.add(e.ticker);
      return;
    }
    const m = this.#markets.get(e.ticker);
    if (!m) return; // data for a market outside the replayed set
    switch (e.kind) {
      case "quote":
        // Updated in place: a quote per event would be most of the replay's garbage.
        // Bid and ask are the book now (null: that side is empty); a null last price is no news.
        if (m.quote) {
          m.quote.ts = e.ts;
          m.quote.yesBid = e.yesBid;
          m.quote.yesAsk = e.yesAsk;
          if (e.lastPrice !== null) {
            m.quote.lastPrice = e.lastPrice;
            m.quote.lastPriceTs = e.ts;
          }
        } else m.quote = { ts: e.ts, yesBid: e.yesBid, yesAsk: e.yesAsk, lastPrice: e.lastPrice, lastPriceTs: e.lastPrice === null ? null : e.ts };
        if (e.volume !== null) m.quotedVolume = e.volume;
        break;
      case "trade":
        m.lastTrade = e;
        m.printedVolume += e.count;
        m.recentTrades.push(e);
        if (m.recentTrades.length > RECENT_TRADES * 2) m.recentTrades = m.recentTrades.slice(-RECENT_TRADES);
        break;
      case "book":
        m.book = { ts: e.ts, yes: e.yes, no: e.no };
        break;
      case "close":
        m.closed = true;
        m.closedAt = e.ts;
        this.#open.delete(e.ticker);
        break;
      case "settle":
        m.settled = true;
        m.closedAt ??= e.ts;
        m.closed = true;
        m.result = e.result;
        this.#open.delete(e.ticker);
        break;
    }
  }

  market(ticker: string): MarketSnapshot | undefined {
    const m = this.#markets.get(ticker);
    if (!m) return undefined;
    return {
      info: m.info,
      quote: m.quote,
      book: m.book,
      lastTrade: m.lastTrade,
      recentTrades: m.recentTrades.length > RECENT_TRADES ? m.recentTrades.slice(-RECENT_TRADES) : m.recentTrades,
      volume: m.quotedVolume ?? m.printedVolume,
      closed: m.closed,
      closedAt: m.closedAt,
      settled: m.settled,
      result: m.result,
    };
  }

  openTickers(): Iterable<string> {
    return this.#open;
  }

  isOpen(ticker: string): boolean {
    return this.#open.has(ticker);
  }

  recentNews(limit: number): readonly NewsEvent[] {
    if (limit <= 0) return [];
    return this.#news.slice(-Math.min(limit, RECENT_NEWS)).reverse();
  }

  marketPrice(ticker: string): Units | null {
    const m = this.#markets.get(ticker);
    if (!m) return null;
    const bid = m.quote?.yesBid ?? null;
    const ask = m.quote?.yesAsk ?? null;
    if (bid !== null && ask !== null) return Math.round((bid + ask) / 2);
    const quoted = m.quote?.lastPrice ?? null;
    if (m.lastTrade && (quoted === null || m.lastTrade.ts >= (m.quote?.lastPriceTs ?? -Infinity))) return m.lastTrade.yesPrice;
    if (quoted !== null) return quoted;
    return bid ?? ask;
  }
}
