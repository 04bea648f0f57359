/**
 * Test bench for event filters: a real MarketState on a SimulatedClock, fed
 * event by event exactly as the pipeline does (observe, apply, select).
 */
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { MarketEvent, MarketInfo, NewsEvent } from "../../harness/events/types.ts";
import type { EventFilter, FilterVerdict } from "../../harness/filter/eventFilter.ts";
import { MarketFilterConfig } from "../../harness/filter/filterConfig.ts";
import type { MarketFilterConfig as MarketFilterConfigT } from "../../harness/filter/filterConfig.ts";
import { MarketState } from "../../harness/state/marketState.ts";

export const SEC = 1_000;
export const MIN = 60_000;
export const T0 = Date.UTC(2025, 10, 8, 12, 0, 0);

export function info(ticker: string, title: string, over: Partial<MarketInfo> = {}): MarketInfo {
  return {
    ticker,
    eventTicker: ticker.split("-")[0] ?? ticker,
    seriesTicker: ticker.split("-")[0] ?? ticker,
    title,
    subtitle: null,
    rules: null,
    background: null,
    category: null,
    openTime: T0 - 86_400_000,
    scheduledCloseTime: T0 + 7 * 86_400_000,
    ...over,
  };
}

export const open = (ts: number, m: MarketInfo): MarketEvent => ({ kind: "open", ts, ticker: m.ticker, market: m });
/** A quote with a one-cent spread around `mid` dollars. */
export const quote = (ts: number, ticker: string, mid: number, volume: number | null = null): MarketEvent => ({
  kind: "quote",
  ts,
  ticker,
  yesBid: Math.round(mid * 10_000) - 50,
  yesAsk: Math.round(mid * 10_000) + 50,
  lastPrice: null,
  volume,
  openInterest: null,
});
let tradeSeq = 0;
export const trade = (ts: number, ticker: string, price: number, count: number): MarketEvent => ({
  kind: "trade",
  ts,
  ticker,
  tradeId: `t${++tradeSeq}`,
  yesPrice: Math.round(price * 10_000),
  count,
  takerSide: "yes",
});
export const news = (ts: number, id: string, title: string, tickers: string[] | null = null): NewsEvent => ({
  kind: "news",
  ts,
  id,
  source: "test",
  title,
  summary: null,
  url: null,
  tickers,
});
export const close = (ts: number, ticker: string): MarketEvent => ({ kind: "close", ts, ticker });

/** A full-filter config with every layer off unless the test turns it on. */
export function quietConfig(over: Record<string, unknown> = {}): MarketFilterConfigT {
  const base = {
    kind: "market",
    minIntervalMs: 0,
    triggers: { firstLook: false },
    preScore: { enabled: false },
    sampling: { enabled: false },
    batching: { enabled: false },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = (base as Record<string, unknown>)[k];
    merged[k] = b && typeof b === "object" && v && typeof v === "object" ? { ...b, ...v } : v;
  }
  return MarketFilterConfig.parse(merged);
}

export class Bench {
  readonly clock = new SimulatedClock(0);
  readonly state = new MarketState(this.clock);
  constructor(readonly filter: EventFilter) {}

  feed(e: MarketEvent): FilterVerdict[] {
    this.clock.observe(e.ts);
    this.state.apply(e);
    return this.filter.select(e, this.state);
  }

  /** Feeds all and returns every verdict with the time it was given. */
  feedAll(events: readonly MarketEvent[]): Array<FilterVerdict & { at: number }> {
    const out: Array<FilterVerdict & { at: number }> = [];
    for (const e of events) for (const v of this.feed(e)) out.push({ ...v, at: e.ts });
    return out;
  }
}
