/**
 * The engine on the wall clock, as the live node runs it: a scripted event
 * source emits events in real time while one model call hangs for 5 s.
 * Event intake and new model requests must go on meanwhile, and a decision
 * whose market then goes quiet must still be taken, on its timer, with no
 * further event.
 */
import { describe, expect, it } from "vitest";
import { PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { WallClock } from "../../harness/clock/wallClock.ts";
import type { EventSource, MarketEvent, MarketInfo } from "../../harness/events/types.ts";
import { IntervalFilter } from "../../harness/filter/eventFilter.ts";
import { Pipeline } from "../../harness/pipeline.ts";
import { createReplayExecution } from "../../harness/portfolio/createReplayExecution.ts";
import { KellySizer } from "../../harness/sizing/sizer.ts";
import { RiskLimitsSchema } from "../../harness/sizing/riskLimits.ts";
import type { DecisionRow, ForecastRow, Store } from "../../harness/store/resultsStore.ts";
import type { ForecastOutput, Strategy } from "../../strategies/strategy.ts";

const info = (ticker: string, now: number): MarketInfo => ({
  ticker,
  eventTicker: `${ticker}-EV`,
  seriesTicker: "KXTEST",
  title: `Will ${ticker} happen?`,
  subtitle: null,
  rules: null,
  background: null,
  category: "Test",
  openTime: now - 1000,
  scheduledCloseTime: now + 3_600_000,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Emits events stamped with the wall time at which it emits them; `script` says when. */
class ScriptedWallSource implements EventSource {
  readonly emitted: Array<{ wall: number; event: MarketEvent }> = [];
  constructor(private readonly script: ReadonlyArray<{ atMs: number; make: (now: number) => MarketEvent }>, private readonly endAtMs: number) {}
  async describe() {
    return { name: "scripted", hash: "x", start: 0, end: 0, events: null, hasBidAsk: true };
  }
  async *events(): AsyncIterable<MarketEvent[]> {
    const start = Date.now();
    for (const step of this.script) {
      const wait = start + step.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      const now = Date.now();
      const event = step.make(now);
      this.emitted.push({ wall: now, event });
      yield [event];
    }
    await sleep(Math.max(0, start + this.endAtMs - Date.now()));
  }
  async close() {}
}

/** A store that keeps rows in memory with the wall time they were written. */
class MemoryStore implements Store {
  readonly forecasts: Array<ForecastRow & { wall: number }> = [];
  readonly decisions: Array<DecisionRow & { wall: number }> = [];
  forecast(_ev: number, row: ForecastRow) {
    this.forecasts.push({ ...row, wall: Date.now() });
  }
  decision(_ev: number, row: DecisionRow) {
    this.decisions.push({ ...row, wall: Date.now() });
  }
  order() {}
  fill() {}
  settlement() {}
  openPosition() {}
  equity() {}
  outcome() {}
  async checkpoint() {}
}

describe("the engine on the wall clock", () => {
  it("keeps taking events and issuing requests while a model call hangs 5 s, and takes a quiet market's decision on its timer", async () => {
    const quote = (ticker: string, bid: number) => (now: number): MarketEvent => ({
      kind: "quote",
      ts: now,
      ticker,
      yesBid: bid,
      yesAsk: bid + 200,
      lastPrice: null,
      volume: 10_000,
      openInterest: null,
    });
    const script: Array<{ atMs: number; make: (now: number) => MarketEvent }> = [
      { atMs: 0, make: (now) => ({ kind: "open", ts: now, ticker: "SLOW", market: info("SLOW", now) }) },
      { atMs: 0, make: (now) => ({ kind: "open", ts: now, ticker: "QUIET", market: info("QUIET", now) }) },
      { atMs: 20, make: quote("SLOW", 4000) },
    ];
    // QUIET quotes every 500 ms while SLOW's model call hangs, then goes quiet at 6 s; the source stays open until 8 s.
    for (let t = 500; t <= 6000; t += 500) script.push({ atMs: t, make: quote("QUIET", 3000 + t / 10) });
    const source = new ScriptedWallSource(script, 8000);

    const asked: Array<{ ticker: string; wall: number; ts: number }> = [];
    let slowAnsweredAt = 0;
    const strategy: Strategy = {
      name: "scripted",
      forecast: () => {
        throw new Error("a model strategy is asked through prepare");
      },
      prepare: (ticker, _view, ctx) => {
        asked.push({ ticker, wall: Date.now(), ts: ctx.now });
        const hang = ticker === "SLOW" ? 5000 : 20;
        return async (): Promise<ForecastOutput[]> => {
          await sleep(hang);
          if (ticker === "SLOW") slowAnsweredAt = Date.now();
          return [{ ticker, model: "scripted", probability: 0.5, confidence: 0.9 }];
        };
      },
    };
    const store = new MemoryStore();
    const clock = new WallClock();
    const pipeline = new Pipeline({
      clock,
      source,
      filter: new IntervalFilter(0),
      strategy,
      sizer: new KellySizer(RiskLimitsSchema.parse({})),
      execution: createReplayExecution({ runId: "wall", config: PaperBrokerConfig.parse({ latencyMs: 0 }), store, dataset: { hasBidAsk: true, hasOrderbook: false } }),
      store,
    });
    const started = Date.now();
    const result = await pipeline.run({ maxInFlight: 4 });

    expect(result.events).toBe(script.length);
    const slowAsked = asked.find((a) => a.ticker === "SLOW")!;
    expect(slowAnsweredAt - slowAsked.wall).toBeGreaterThanOrEqual(4990);
    // While SLOW's call hung, QUIET's quotes kept coming in and each was sent to the model at its own time.
    const duringHang = asked.filter((a) => a.ticker === "QUIET" && a.wall < slowAnsweredAt);
    expect(duringHang.length).toBeGreaterThanOrEqual(8);
    for (const a of duringHang) expect(a.wall - a.ts).toBeLessThan(250);
    // Every decision is taken, in serial order: SLOW's first, then QUIET's in time order.
    expect(store.forecasts.map((f) => f.ticker)).toEqual(["SLOW", ...script.filter((s) => s.atMs >= 500).map(() => "QUIET")]);
    const tsOrder = store.forecasts.map((f) => f.ts);
    expect([...tsOrder].sort((a, b) => a - b)).toEqual(tsOrder);
    // The last QUIET quote (at 6 s) had no event after it: its decision was taken on its timer, long before the source ended at 8 s.
    const last = store.forecasts[store.forecasts.length - 1]!;
    const lastQuote = source.emitted[source.emitted.length - 1]!;
    expect(last.ts).toBe(lastQuote.wall);
    expect(last.wall - lastQuote.wall).toBeLessThan(500);
    expect(last.wall - started).toBeLessThan(7500);
  }, 20_000);
});
