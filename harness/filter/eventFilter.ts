/**
 * The EventFilter seam: decides which markets deserve a forecast after an
 * event. Everything a model call costs starts here, so it records why.
 */
import type { MarketEvent } from "../events/types.ts";
import type { MarketView } from "../state/marketState.ts";
import type { Priority } from "./filterConfig.ts";

export interface FilterVerdict {
  ticker: string;
  /** Why the market passed (e.g. "interval", "price_change", "news", "batch_timeout"). */
  reason: string;
  /** The full filter's priority of the event that let the market through. */
  priority?: Priority;
  /** The trigger behind a pass; differs from `reason` when a batch released it. */
  trigger?: string;
  /** The cheap pre-score the market had when it was considered. */
  preScore?: number;
}

/**
 * Told of every verdict as it happens, e.g. to store rows in the results DB.
 * `ticker` is "" for an event that is about no market (an unmatched headline).
 */
export type VerdictSink = (ts: number, ticker: string, passed: boolean, reason: string) => void;

export interface EventFilter {
  /** Markets to forecast now because of this event (usually zero or one). */
  select(event: MarketEvent, view: MarketView): FilterVerdict[];
  /** How many market events were looked at and dropped, by reason. */
  dropped(): Readonly<Record<string, number>>;
  /** How many markets were passed, by reason (optional: filters written before it may lack it). */
  passed?(): Readonly<Record<string, number>>;
}

/**
 * The plainest filter: a market event (quote, trade, book) on an open market
 * passes when at least `minIntervalMs` of the run's clock has gone by since
 * that market was last forecast. It is the baseline the full event filter
 * (price change, volume spikes, priorities, sampling) is measured against.
 */
export class IntervalFilter implements EventFilter {
  #last = new Map<string, number>();
  #dropped: Record<string, number> = {};
  #passed: Record<string, number> = {};

  constructor(
    private readonly minIntervalMs: number,
    private readonly onVerdict?: VerdictSink,
  ) {}

  select(event: MarketEvent, view: MarketView): FilterVerdict[] {
    if (event.kind !== "quote" && event.kind !== "trade" && event.kind !== "book") return [];
    const now = view.now();
    if (!view.isOpen(event.ticker)) return this.#drop(now, event.ticker, "market_closed");
    const last = this.#last.get(event.ticker);
    if (last !== undefined && now - last < this.minIntervalMs) return this.#drop(now, event.ticker, "min_interval");
    this.#last.set(event.ticker, now);
    this.#passed.interval = (this.#passed.interval ?? 0) + 1;
    this.onVerdict?.(now, event.ticker, true, "interval");
    return [{ ticker: event.ticker, reason: "interval" }];
  }

  dropped(): Readonly<Record<string, number>> {
    return this.#dropped;
  }

  passed(): Readonly<Record<string, number>> {
    return this.#passed;
  }

  #drop(ts: number, ticker: string, reason: string): [] {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
    this.onVerdict?.(ts, ticker, false, reason);
    return [];
  }
}
