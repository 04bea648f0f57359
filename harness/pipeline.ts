/**
 * One event at a time through filter → strategy → sizing and risk → broker
 * (DESIGN.md "The pipeline"). Replay and live run this same code; they
 * differ only in the Clock, EventSource and Broker handed to it.
 */
import type { Broker } from "./broker/broker.ts";
import type { Clock } from "./clock/clock.ts";
import type { EventSource, MarketEvent } from "./events/types.ts";
import type { EventFilter } from "./filter/eventFilter.ts";
import type { Sizer } from "./sizing/sizer.ts";
import { MarketState } from "./state/marketState.ts";
import type { Store } from "./store/resultsStore.ts";
import type { ForecastOutput, Strategy } from "../strategies/strategy.ts";
import { unitsToDollars } from "./money/money.ts";

export interface PipelineParts {
  clock: Clock;
  source: EventSource;
  filter: EventFilter;
  strategy: Strategy;
  sizer: Sizer;
  broker: Broker;
  store: Store;
}

export interface PipelineProgress {
  events: number;
  simTs: number;
  forecasts: number;
  orders: number;
}

export interface PipelineOptions {
  /** Write a durable checkpoint every this many events. */
  checkpointEvery?: number;
  onProgress?: (p: PipelineProgress) => void;
  /** Called after each durable checkpoint with the number of events it covers. */
  onCheckpoint?: (events: number) => void;
  /** Stop after this many events (tests: simulate an interruption). */
  stopAfter?: number;
}

export interface PipelineResult {
  events: number;
  simStart: number | null;
  simEnd: number | null;
  forecasts: number;
  orders: number;
  filterDropped: Readonly<Record<string, number>>;
  stopped: boolean;
}

export class Pipeline {
  readonly state: MarketState;
  #ev = 0;

  /**
   * Index of the event whose rows are being produced now (while decisions of a
   * timestamp are taken, the last event of that timestamp): resume mutes
   * writes, model-call logs included, for events before its checkpoint.
   */
  get eventIndex(): number {
    return this.#ev;
  }

  constructor(private readonly parts: PipelineParts) {
    this.state = new MarketState(parts.clock);
  }

  async run(options: PipelineOptions = {}): Promise<PipelineResult> {
    const { clock, source, filter, broker, store } = this.parts;
    const checkpointEvery = options.checkpointEvery ?? 250_000;
    let ev = 0;
    let simStart: number | null = null;
    let simEnd: number | null = null;
    let forecasts = 0;
    let orders = 0;
    let nextCheckpoint = checkpointEvery;
    const progressEvery = 65_536;
    let stopped = false;

    // Decisions wait until every event stamped with the same time has been
    // applied: at time t a strategy sees all rows with ts <= t, whatever their
    // tie order, and a market that closes at t is not traded at t.
    const pending: string[] = [];
    let groupTs = -Infinity;
    const decidePending = async (lastEv: number) => {
      this.#ev = lastEv;
      for (let s = 0; s < pending.length; s++) {
        const ticker = pending[s]!;
        if (!this.state.isOpen(ticker)) continue;
        const counts = await this.#forecastAndDecide(lastEv, ticker);
        forecasts += counts.forecasts;
        orders += counts.orders;
      }
      pending.length = 0;
    };

    outer: for await (const batch of source.events()) {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        if (e.ts !== groupTs) {
          // A time boundary: everything before event `ev` is now decided, so it is a safe resume point.
          if (pending.length > 0) await decidePending(ev - 1);
          groupTs = e.ts;
          if (ev >= nextCheckpoint) {
            await store.checkpoint(ev, simEnd ?? e.ts);
            options.onCheckpoint?.(ev);
            nextCheckpoint = ev + checkpointEvery;
          }
          if (options.stopAfter !== undefined && ev >= options.stopAfter) {
            stopped = true;
            break outer;
          }
        }
        this.#ev = ev;
        clock.observe(e.ts);
        simStart ??= e.ts;
        simEnd = e.ts;
        this.state.apply(e);
        const brokerWork = broker.onEvent(ev, e, this.state);
        if (brokerWork) await brokerWork;
        if (e.kind === "settle") this.#recordOutcome(ev, e);

        const selected = filter.select(e, this.state);
        for (let s = 0; s < selected.length; s++) {
          const ticker = selected[s]!.ticker;
          if (!pending.includes(ticker)) pending.push(ticker);
        }

        ev++;
        if ((ev & (progressEvery - 1)) === 0) options.onProgress?.({ events: ev, simTs: e.ts, forecasts, orders });
      }
    }
    if (!stopped && pending.length > 0) await decidePending(ev - 1);
    options.onProgress?.({ events: ev, simTs: simEnd ?? 0, forecasts, orders });
    return { events: ev, simStart, simEnd, forecasts, orders, filterDropped: filter.dropped(), stopped };
  }

  #recordOutcome(ev: number, e: Extract<MarketEvent, { kind: "settle" }>): void {
    const info = this.state.market(e.ticker)?.info;
    this.parts.store.outcome(ev, {
      ticker: e.ticker,
      category: info?.category ?? null,
      closeTime: info?.closeTime ?? e.ts,
      settleTs: e.ts,
      result: e.result,
    });
  }

  async #forecastAndDecide(ev: number, ticker: string): Promise<{ forecasts: number; orders: number }> {
    const { strategy, sizer, broker, store } = this.parts;
    const now = this.state.now();
    const produced = strategy.forecast(ticker, this.state, { now });
    const outputs: ForecastOutput[] = Array.isArray(produced) ? produced : await produced;
    if (outputs.length === 0) return { forecasts: 0, orders: 0 };
    const marketPrice = this.state.marketPrice(ticker);
    for (const f of outputs) {
      store.forecast(ev, {
        ts: now,
        ticker,
        model: f.model,
        agent: f.agent ?? strategy.name,
        probability: f.probability,
        confidence: f.confidence,
        marketPrice: marketPrice === null ? null : unitsToDollars(marketPrice),
        abstained: f.probability === null,
        abstainReason: f.abstainReason ?? null,
        rationale: f.rationale ?? null,
        llmCallId: f.llmCallId ?? null,
      });
    }
    const chosen = outputs.find((f) => f.decide) ?? outputs[outputs.length - 1]!;
    if (chosen.probability === null) return { forecasts: outputs.length, orders: 0 };
    const { decision, order } = sizer.decide({ ticker, probability: chosen.probability, confidence: chosen.confidence }, this.state, broker.portfolio);
    store.decision(ev, decision);
    if (!order) return { forecasts: outputs.length, orders: 0 };
    const placed = broker.submit(ev, order, this.state);
    if (placed) await placed;
    return { forecasts: outputs.length, orders: 1 };
  }
}
