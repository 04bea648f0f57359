/**
 * What the live source reads over REST: the markets to follow (their text
 * and times, for `open` events and the recorded markets table) and, as a
 * fallback while the WebSocket is down, books and quotes by polling. The
 * Kalshi REST client implements it (restDirectory.ts); tests may hand in
 * any implementation.
 */
export interface LiveMarket {
  ticker: string;
  eventTicker: string;
  seriesTicker: string;
  title: string;
  subtitle: string | null;
  rules: string | null;
  category: string | null;
  /** ms */
  openTime: number;
  /** Scheduled (or actual, once closed) close, ms. */
  closeTime: number;
  /**
   * The close a trader could see in advance, ms: Kalshi's close_time while the market is open, moved by
   * close_date_updated; never the actual close (which reaches strategies only as the close event).
   */
  scheduledCloseTime: number;
  /** Kalshi status: initialized | active | closed | determined | settled (others pass through). */
  status: string;
  result: "yes" | "no" | null;
  settleTime: number | null;
}

export interface PolledQuote {
  ticker: string;
  yesBidDollars: string | null;
  yesAskDollars: string | null;
  lastPriceDollars: string | null;
  volumeFp: string | null;
  openInterestFp: string | null;
}

export interface MarketDirectory {
  /** Markets of these series (not yet settled) plus these tickers. */
  markets(query: { series: readonly string[]; tickers: readonly string[] }): Promise<LiveMarket[]>;
  /** A market's whole book by REST: [price_dollars, count_fp] bids per side. */
  orderbook(ticker: string): Promise<{ yes: Array<[string, string]>; no: Array<[string, string]> }>;
  /** A market's current quote by REST. */
  quote(ticker: string): Promise<PolledQuote>;
}
