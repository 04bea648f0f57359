/**
 * The full event filter (issue 5). For each event it decides which markets
 * deserve a model call now, and records why every candidate passed or not.
 *
 * One market event (quote, trade, book) on an open market goes through:
 *   1. triggers: news matched to the market, a large move or a price change
 *      since the last call on it, a volume spike over the rolling mean,
 *      volatility over a window, a first look at a market never called.
 *      With triggers off every market event is a candidate ("event").
 *      The strongest trigger sets the event's priority (config `priorities`).
 *   2. minimum interval per market (critical events may bypass it);
 *   3. pre-score: below the threshold no model is called (critical skip it);
 *   4. sampling gate (medium and low only): periodic / change / threshold /
 *      adaptive to volatility;
 *   5. low priority waits in a batch released by size or timeout; the other
 *      priorities pass at once.
 * A news event matches headlines to open markets and sends each matched
 * market through the same steps with the "news" trigger.
 *
 * Batches leave from a later select() call: any event whose time is at least
 * the timeout after the first batched market releases the batch, so the
 * pipeline needs no timer. Counters: every market event considered ends in
 * exactly one of passed(), dropped() or the batch still pending (reported in
 * dropped() as "batch_pending" while it waits).
 */
import type { MarketEvent } from "../events/types.ts";
import type { Units } from "../money/money.ts";
import { UNITS_PER_DOLLAR } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import { LowPriorityBatch } from "./batching.ts";
import type { BatchRelease } from "./batching.ts";
import type { EventFilter, FilterVerdict, VerdictSink } from "./eventFilter.ts";
import type { MarketFilterConfig, Priority, Trigger } from "./filterConfig.ts";
import { marketKeywords, matchNews } from "./newsMatch.ts";
import type { MatchableMarket } from "./newsMatch.ts";
import { preScore } from "./preScore.ts";
import type { PreScoreScales } from "./preScore.ts";
import { PriceWindow, VolumeBuckets } from "./rollingStats.ts";
import { shouldSample } from "./sampling.ts";

interface Track {
  lastCallTs: number | null;
  /** Price at the last call; before any call, the first price seen. */
  refPrice: Units | null;
  prices: PriceWindow;
  volume: VolumeBuckets;
  lastCumVolume: number | null;
  lastNewsTs: number | null;
  words: ReadonlySet<string> | null;
  /** The scheduled close (null when the data has none: no closing-soon bonus); never the actual close. */
  closeTime: number | null;
}

export interface MarketFilterOptions {
  onVerdict?: VerdictSink;
}

const RANK: Readonly<Record<Priority, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

export class MarketFilter implements EventFilter {
  readonly #tracks = new Map<string, Track>();
  readonly #dropped: Record<string, number> = {};
  readonly #passed: Record<string, number> = {};
  readonly #batch: LowPriorityBatch;
  readonly #scales: PreScoreScales;
  readonly #onVerdict: VerdictSink | undefined;

  constructor(
    readonly config: MarketFilterConfig,
    options: MarketFilterOptions = {},
  ) {
    this.#batch = new LowPriorityBatch(config.batching.size, config.batching.timeoutMs);
    this.#onVerdict = options.onVerdict;
    const t = config.triggers;
    this.#scales = {
      priceChangePct: t.priceChangePct,
      volumeSpike: t.volumeSpike,
      volatility: t.volatility,
      closingSoonMs: config.preScore.closingSoonMs,
      newsRecentMs: config.preScore.newsRecentMs,
    };
  }

  select(event: MarketEvent, view: MarketView): FilterVerdict[] {
    const now = view.now();
    const out: FilterVerdict[] = [];
    const due = this.#batch.due(now);
    if (due) this.#release(due, now, view, out);

    switch (event.kind) {
      case "quote":
      case "trade":
      case "book":
        this.#onMarketEvent(event.ticker, now, view, out);
        break;
      case "news":
        this.#onNews(event, now, view, out);
        break;
      case "close":
      case "settle":
        if (this.#batch.remove(event.ticker)) this.#drop(now, event.ticker, "batch_market_closed");
        break;
      case "open":
        break;
    }
    // The event that fills the batch releases it at once.
    const full = this.#batch.due(now);
    if (full === "batch_size") this.#release(full, now, view, out);
    return out;
  }

  dropped(): Readonly<Record<string, number>> {
    const pending = this.#batch.pending;
    return pending > 0 ? { ...this.#dropped, batch_pending: pending } : this.#dropped;
  }

  passed(): Readonly<Record<string, number>> {
    return this.#passed;
  }

  /** Markets waiting in the low-priority batch now. */
  get pending(): number {
    return this.#batch.pending;
  }

  #onMarketEvent(ticker: string, now: number, view: MarketView, out: FilterVerdict[]): void {
    if (!view.isOpen(ticker)) {
      this.#drop(now, ticker, "market_closed");
      return;
    }
    const track = this.#track(ticker);
    const price = view.marketPrice(ticker);
    const snapshot = view.market(ticker);
    if (price !== null) {
      track.prices.push(now, price);
      track.refPrice ??= price;
    }
    if (snapshot) {
      track.closeTime = snapshot.info.scheduledCloseTime;
      const cum = snapshot.volume;
      if (track.lastCumVolume !== null && cum > track.lastCumVolume) track.volume.add(now, cum - track.lastCumVolume);
      else track.volume.add(now, 0); // marks the market as seen from this bucket on
      track.lastCumVolume = cum;
    }

    const t = this.config.triggers;
    const changePct = this.#changePct(track, price);
    const volumeRatio = track.volume.ratio(now);
    const volatility = track.prices.std(now);
    let trigger: Trigger | null;
    if (!t.enabled) trigger = "event";
    else {
      const fired: Trigger[] = [];
      if (changePct >= t.largeMovePct) fired.push("large_move");
      else if (changePct >= t.priceChangePct) fired.push("price_change");
      if (volumeRatio >= t.volumeSpike) fired.push("volume_spike");
      if (volatility >= t.volatility) fired.push("volatility");
      if (t.firstLook && track.lastCallTs === null) fired.push("first_look");
      trigger = this.#strongest(fired);
    }
    if (trigger === null) {
      this.#drop(now, ticker, "no_trigger");
      return;
    }
    this.#consider(ticker, trigger, now, view, out, { changePct, volumeRatio, volatility, price });
  }

  #onNews(event: Extract<MarketEvent, { kind: "news" }>, now: number, view: MarketView, out: FilterVerdict[]): void {
    const matched = matchNews(event, this.#openMarkets(view), this.config.triggers.newsMinOverlap);
    for (const ticker of matched) this.#track(ticker).lastNewsTs = now;
    if (!this.config.triggers.enabled || !this.config.triggers.news) return;
    if (matched.length === 0) {
      this.#drop(now, "", "news_unmatched");
      return;
    }
    for (const ticker of matched) {
      const track = this.#track(ticker);
      const price = view.marketPrice(ticker);
      this.#consider(ticker, "news", now, view, out, {
        changePct: this.#changePct(track, price),
        volumeRatio: track.volume.ratio(now),
        volatility: track.prices.std(now),
        price,
      });
    }
  }

  /** Steps 2-5 for a market that has a trigger. */
  #consider(
    ticker: string,
    trigger: Trigger,
    now: number,
    view: MarketView,
    out: FilterVerdict[],
    seen: { changePct: number; volumeRatio: number; volatility: number; price: Units | null },
  ): void {
    const track = this.#track(ticker);
    const priority = this.config.priorities[trigger];
    const critical = priority === "critical";
    if (!(critical && this.config.priorities.criticalBypassesInterval) && track.lastCallTs !== null && now - track.lastCallTs < this.config.minIntervalMs) {
      this.#drop(now, ticker, "min_interval");
      return;
    }
    track.closeTime ??= view.market(ticker)?.info.scheduledCloseTime ?? null;
    const score = preScore(
      {
        priceChangePct: seen.changePct,
        volumeRatio: seen.volumeRatio,
        volatility: seen.volatility,
        msToClose: track.closeTime === null ? Infinity : track.closeTime - now,
        newsAgeMs: track.lastNewsTs === null ? null : now - track.lastNewsTs,
        unseen: trigger === "first_look",
      },
      this.#scales,
    );
    if (this.config.preScore.enabled && !critical && score < this.config.preScore.threshold) {
      this.#drop(now, ticker, "pre_score");
      return;
    }
    const s = this.config.sampling;
    if (s.enabled && RANK[priority] >= RANK.medium) {
      const last = track.lastCallTs === null ? null : { ts: track.lastCallTs, price: this.#dollars(track.refPrice) };
      if (!shouldSample(s, last, now, this.#dollars(seen.price), seen.volatility)) {
        this.#drop(now, ticker, `sampling_${s.strategy}`);
        return;
      }
    }
    if (priority === "low" && this.config.batching.enabled) {
      if (!this.#batch.add({ ticker, trigger, ts: now })) this.#drop(now, ticker, "batch_duplicate");
      return;
    }
    // A market passing now no longer needs its batched entry.
    if (this.#batch.remove(ticker)) this.#drop(now, ticker, "batch_superseded");
    this.#pass(ticker, trigger, trigger, priority, score, now, view, out);
  }

  #release(why: BatchRelease, now: number, view: MarketView, out: FilterVerdict[]): void {
    for (const e of this.#batch.drain()) {
      if (!view.isOpen(e.ticker)) {
        this.#drop(now, e.ticker, "batch_market_closed");
        continue;
      }
      this.#pass(e.ticker, why, e.trigger, "low", null, now, view, out);
    }
  }

  #pass(ticker: string, reason: string, trigger: string, priority: Priority, score: number | null, now: number, view: MarketView, out: FilterVerdict[]): void {
    const track = this.#track(ticker);
    track.lastCallTs = now;
    const price = view.marketPrice(ticker);
    if (price !== null) track.refPrice = price;
    this.#passed[reason] = (this.#passed[reason] ?? 0) + 1;
    this.#onVerdict?.(now, ticker, true, reason);
    const v: FilterVerdict = { ticker, reason, trigger, priority };
    if (score !== null) v.preScore = score;
    out.push(v);
  }

  #drop(ts: number, ticker: string, reason: string): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
    this.#onVerdict?.(ts, ticker, false, reason);
  }

  #strongest(fired: readonly Trigger[]): Trigger | null {
    let best: Trigger | null = null;
    for (const f of fired) if (best === null || RANK[this.config.priorities[f]] < RANK[this.config.priorities[best]]) best = f;
    return best;
  }

  /** |relative change| in percent from the reference price; 0 when either is unknown. */
  #changePct(track: Track, price: Units | null): number {
    if (price === null || track.refPrice === null || track.refPrice <= 0) return 0;
    return (Math.abs(price - track.refPrice) * 100) / track.refPrice;
  }

  #dollars(units: Units | null): number | null {
    return units === null ? null : units / UNITS_PER_DOLLAR;
  }

  #track(ticker: string): Track {
    let t = this.#tracks.get(ticker);
    if (!t) {
      const c = this.config.triggers;
      t = {
        lastCallTs: null,
        refPrice: null,
        prices: new PriceWindow(c.volatilityWindowMs),
        volume: new VolumeBuckets(c.volumeWindowMs, c.volumeLookback),
        lastCumVolume: null,
        lastNewsTs: null,
        words: null,
        closeTime: null,
      };
      this.#tracks.set(ticker, t);
    }
    return t;
  }

  *#openMarkets(view: MarketView): Generator<MatchableMarket> {
    for (const ticker of view.openTickers()) {
      const track = this.#track(ticker);
      if (track.words === null) {
        const info = view.market(ticker)?.info;
        track.words = info ? marketKeywords(info.title, info.subtitle) : new Set();
      }
      yield { ticker, words: track.words };
    }
  }
}
