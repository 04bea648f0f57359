/**
 * The one ordered stream that drives a run. Replay produces it from a dataset
 * (replaySource.ts); live will produce it from the exchange feed. Prices here
 * are exact integer units of $0.0001 (harness/money), times epoch ms.
 *
 * Tie order at equal ts (fixed, so runs are deterministic): open, book, quote,
 * trade, news, close, settle; then ticker (or news id); then row order in the
 * table. Settle comes last so no strategy reacts to a price at the instant a
 * result became known before it is known.
 */
import type { Units } from "../money/money.ts";
import type { Result, Side } from "../../datasets/format.ts";

export type EventKind = "open" | "book" | "quote" | "trade" | "news" | "close" | "settle";
export const EVENT_TIE_ORDER: Readonly<Record<EventKind, number>> = {
  open: 0,
  book: 1,
  quote: 2,
  trade: 3,
  news: 4,
  close: 5,
  settle: 6,
};

/** What a strategy may know about a market before it closes: neither its result nor when it really closes. */
export interface MarketInfo {
  ticker: string;
  eventTicker: string;
  seriesTicker: string;
  title: string;
  subtitle: string | null;
  rules: string | null;
  background: string | null;
  category: string | null;
  openTime: number;
  /**
   * The close a trader could see in advance (the dataset's scheduled_close_time), or null when the
   * source has none. Never the actual close: a market that closes early (a match ends, a threshold
   * is hit) closes when its result becomes known, and that time reaches strategies only as the
   * `close` event.
   */
  scheduledCloseTime: number | null;
}

export interface OpenEvent { kind: "open"; ts: number; ticker: string; market: MarketInfo }
export interface QuoteEvent {
  kind: "quote"; ts: number; ticker: string;
  yesBid: Units | null; yesAsk: Units | null; lastPrice: Units | null;
  volume: number | null; openInterest: number | null;
}
export interface TradeEvent { kind: "trade"; ts: number; ticker: string; tradeId: string; yesPrice: Units; count: number; takerSide: Side }
/** Bids only on each side: [price units, qty][], best first. */
export interface BookEvent { kind: "book"; ts: number; ticker: string; yes: Array<[Units, number]>; no: Array<[Units, number]> }
export interface NewsEvent { kind: "news"; ts: number; id: string; source: string; title: string; summary: string | null; url: string | null; tickers: string[] | null }
export interface CloseEvent { kind: "close"; ts: number; ticker: string }
export interface SettleEvent { kind: "settle"; ts: number; ticker: string; result: Result }

export type MarketEvent = OpenEvent | QuoteEvent | TradeEvent | BookEvent | NewsEvent | CloseEvent | SettleEvent;

/** Where events come from: a recorded dataset (replay) or the exchange (live). */
export interface EventSource {
  /** Markets known up front (for validation and reports); results are never exposed here. */
  describe(): Promise<{ name: string; hash: string; start: number; end: number; events: number | null; hasBidAsk: boolean }>;
  /** Events in tie order, in batches (a batch is only a transport unit; it carries no meaning). */
  events(): AsyncIterable<MarketEvent[]>;
  close(): Promise<void>;
}
