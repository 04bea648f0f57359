/**
 * The EventFilter seam: decides which markets deserve a forecast after an
 * event. Everything a model call costs starts here, so it records why.
 */
import type { MarketEvent } from "../events/types.ts";
import type { MarketView } from "../state/marketState.ts";

export interface FilterVerdict {
  ticker: string;
  /** Why the market passed (e.g. "interval", "price_change", "news"). */
  reason: string;
}

export interface EventFilter {
  /** Markets to forecast now because of this event (usually zero or one). */
  select(event: MarketEvent, view: MarketView): FilterVerdict[];
  /** How many market events were looked at and dropped, by reason. */
  dropped(): Readonly<Record<string, number>>;
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

  constructor(private readonly minIntervalMs: number) {}

  select(event: MarketEvent, view: MarketView): FilterVerdict[] {
    if (event.kind !== "quote" && event.kind !== "trade" && event.kind !== "book") return [];
    if (!view.isOpen(event.ticker)) return this.#drop("market_closed");
    const last = this.#last.get(event.ticker);
    const now = view.now();
    if (last !== undefined && now - last < this.minIntervalMs) return this.#drop("min_interval");
    this.#last.set(event.ticker, now);
    return [{ ticker: event.ticker, reason: "interval" }];
  }

  dropped(): Readonly<Record<string, number>> {
    return this.#dropped;
  }

  #drop(reason: string): [] {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
    return [];
  }
}
