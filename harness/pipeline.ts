/**
 * The engine: events through filter → strategy → sizing and risk →
 * execution (DESIGN.md "The pipeline"). Replay and live run this same code;
 * they differ only in the Clock, EventSource and Broker handed to it.
 *
 * Two cursors walk one event stream:
 * - the **read-ahead cursor** folds events into its own
 *   market state, runs the event filter and, once every event of a
 *   timestamp is in, builds each selected market's forecast request from
 *   that state and sends it, keeping up to `maxInFlight` forecasts in flight;
 * - the **commit cursor** folds the same events into the real state and
 *   the execution side (portfolio, broker), and takes each decision, in the
 *   order a serial run would, once its forecast is in and its time (the
 *   decision's time + the model latency) has come: it sizes, checks risk
 *   and submits on the state at that moment.
 * Strategies that call no model (no `prepare`) forecast on the commit
 * state at the decision's time, so a rule-only run keeps one state.
 * The digest of a run does not depend on maxInFlight: requests are issued
 * in serial order and decisions are taken in serial order.
 *
 * Time that works live: a decision whose time has come is taken even when
 * no further event arrives (the clock's timer wakes the loop), and event
 * intake never waits for a model unless maxInFlight forecasts are already
 * in flight or the commit cursor is `maxLagEvents` behind.
 */
import type { Clock } from "./clock/clock.ts";
import type { EventSource, MarketEvent } from "./events/types.ts";
import type { EventFilter } from "./filter/eventFilter.ts";
import { modelLatencyMs, type ModelLatencyConfig } from "./latency/modelLatency.ts";
import type { Execution } from "./portfolio/execution.ts";
import type { OrderRequest } from "./broker/broker.ts";
import type { Sizer } from "./sizing/sizer.ts";
import { MarketState } from "./state/marketState.ts";
import type { Store } from "./store/resultsStore.ts";
import type { ForecastOutput, Strategy } from "../strategies/strategy.ts";
import { unitsToDollars, type Units } from "./money/money.ts";
import { SimulatedClock } from "./clock/simulatedClock.ts";
import { atDecisionTime } from "./clock/decisionTime.ts";

export interface PipelineParts {
  clock: Clock;
  source: EventSource;
  filter: EventFilter;
  strategy: Strategy;
  sizer: Sizer;
  execution: Execution;
  store: Store;
  /** When a forecast takes effect after its decision's time (default none). */
  modelLatency?: ModelLatencyConfig;
}

export interface PipelineProgress {
  events: number;
  simTs: number;
  forecasts: number;
  orders: number;
  /** Forecasts requested and not yet answered. */
  inFlight: number;
}

export interface PipelineOptions {
  /** Write a durable checkpoint every this many events. */
  checkpointEvery?: number;
  onProgress?: (p: PipelineProgress) => void;
  /** Least wall time between progress reports besides every 65,536 events (default 250 ms). */
  progressIntervalMs?: number;
  /** Called after each durable checkpoint with the number of events it covers. */
  onCheckpoint?: (events: number) => void;
  /** Stop after this many events (tests: simulate an interruption). */
  stopAfter?: number;
  /** Most forecasts in flight at once (default 1: one at a time). */
  maxInFlight?: number;
  /** Most events the read-ahead cursor may run ahead of the commit cursor (bounds memory). */
  maxLagEvents?: number;
  /**
   * Asked before each decision is taken: a reason to stop the run before it
   * (e.g. the run's real-money cap was reached), or null. The run stops
   * resumably; answers already received come back from the call journal.
   */
  shouldStop?: () => string | null;
}

export interface PipelineResult {
  events: number;
  simStart: number | null;
  simEnd: number | null;
  forecasts: number;
  orders: number;
  filterDropped: Readonly<Record<string, number>>;
  stopped: boolean;
  /** Why the run stopped early (shouldStop's reason), when it did. */
  stopReason: string | null;
  /** Where a stopped run resumes: every row tagged with an event index below it is final. */
  resumeEv: number;
}

/** One decision: a market to forecast at a time, in issue (= serial) order. */
interface Decision {
  readonly seq: number;
  readonly ticker: string;
  readonly ts: number;
  /** The market's own price at the decision's time (the Brier-skill baseline). */
  readonly marketPrice: Units | null;
  outputs: ForecastOutput[] | null;
  failure: { error: unknown } | null;
  /** Settles when the forecast is in (never rejects). */
  answered: Promise<void>;
  /** Decision time + model latency, once the forecast is in. */
  dueAt: number;
}

class StopRun {
  constructor(
    /** Null for a stop the caller asked for (stopAfter). */
    readonly reason: string | null,
    readonly resumeEv: number,
  ) {}
}

/** A decision's forecast is in: it is due at its time + the model latency. */
function answer(d: Decision, outputs: ForecastOutput[], latency: ModelLatencyConfig): void {
  d.outputs = outputs;
  d.dueAt = d.ts + modelLatencyMs(latency, decidingForecast(outputs)?.latencyMs);
}

/** The forecast that gets sized: the one marked `decide`, else the last. */
function decidingForecast(outputs: readonly ForecastOutput[]): ForecastOutput | undefined {
  return outputs.find((f) => f.decide) ?? outputs[outputs.length - 1];
}

const NEVER = -1;
/** The `answered` of a forecast that was in at once (rule strategies): one shared promise, no allocation per decision. */
const SETTLED: Promise<void> = Promise.resolve();

export class Pipeline {
  readonly state: MarketState;

  constructor(private readonly parts: PipelineParts) {
    this.state = new MarketState(parts.clock);
  }

  async run(options: PipelineOptions = {}): Promise<PipelineResult> {
    const { clock, source, filter, strategy, execution, store } = this.parts;
    const latency = this.parts.modelLatency ?? { kind: "none" };
    const checkpointEvery = options.checkpointEvery ?? 250_000;
    const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    const maxLag = Math.max(1, options.maxLagEvents ?? 200_000);
    const readsAhead = strategy.prepare !== undefined;
    // The read-ahead cursor has a state of its own only when forecasts can be in flight.
    const aheadClock = readsAhead ? new SimulatedClock() : clock;
    const aheadState = readsAhead ? new MarketState(aheadClock) : this.state;

    let simStart: number | null = null;
    let simEnd: number | null = null;
    let forecasts = 0;
    let orders = 0;
    let nextCheckpoint = checkpointEvery;
    const progressEvery = 65_536;
    // Also every 250 ms of wall time (looked at every 256 events): a model-bound run moves slowly in events,
    // and a bar updated only every 65,536 events looks frozen for minutes.
    const progressWallMs = options.progressIntervalMs ?? 250;
    let lastProgressAt = performance.now();

    // ── read-ahead cursor ─────────────────────────────────────────────
    const selected: string[] = [];
    let aheadGroupTs = NEVER;
    let issued = 0;
    let inFlight = 0;
    /** Decisions issued and not yet taken, in issue order. */
    const open: Decision[] = [];

    /** The forecast comes later: count it in flight until it does (closures only on this path, not per rule decision). */
    const track = (d: Decision, pending: Promise<ForecastOutput[]>): void => {
      inFlight++;
      d.answered = pending.then(
        (outputs) => {
          inFlight--;
          answer(d, outputs, latency);
        },
        (error: unknown) => {
          inFlight--;
          d.failure = { error };
        },
      );
    };

    const issue = (ts: number): void => {
      for (const ticker of selected) {
        if (!aheadState.isOpen(ticker)) continue;
        const ctx = { now: ts };
        const d: Decision = {
          seq: issued++,
          ticker,
          ts,
          marketPrice: aheadState.marketPrice(ticker),
          outputs: null,
          failure: null,
          answered: SETTLED,
          dueAt: ts,
        };
        if (strategy.prepare) {
          // The request is built now, from the read-ahead state at `ts`; the model stack runs as of `ts`.
          const send = atDecisionTime(ts, () => strategy.prepare!(ticker, aheadState, ctx));
          track(d, atDecisionTime(ts, send));
        } else {
          const produced = strategy.forecast(ticker, aheadState, ctx);
          if (Array.isArray(produced)) answer(d, produced, latency);
          else track(d, produced);
        }
        open.push(d);
      }
      selected.length = 0;
    };

    const aheadSelect = (e: MarketEvent): void => {
      const verdicts = filter.select(e, aheadState);
      for (let s = 0; s < verdicts.length; s++) {
        const ticker = verdicts[s]!.ticker;
        if (!selected.includes(ticker)) selected.push(ticker);
      }
    };

    // ── commit cursor ─────────────────────────────────────────────────
    const lag: MarketEvent[] = [];
    let lagHead = 0;
    let ev = 0;
    let commitGroupTs = NEVER;

    /** Take one decision whose time has come; a promise only when the venue answers asynchronously. */
    const take = (d: Decision): Promise<void> | undefined => {
      if (d.failure) throw d.failure.error;
      const outputs = d.outputs ?? [];
      if (outputs.length === 0) return undefined;
      // Rows of this decision carry the index of the last event applied: a stop here resumes from there.
      const lastEv = Math.max(0, ev - 1);
      const reason = options.shouldStop?.() ?? null;
      if (reason !== null) throw new StopRun(reason, lastEv);
      clock.observe(d.dueAt);
      const order = this.#decide(lastEv, d, outputs);
      forecasts += outputs.length;
      if (!order) return undefined;
      orders += 1;
      return execution.submit(lastEv, d.seq, order, this.state) ?? undefined;
    };

    /**
     * Take every decision due before `limitTs` (all events before it applied).
     * Decisions stamped before it must have their forecasts in to know when
     * they are due: when one is still in flight, wait for it if `mayWait`,
     * else answer false (the commit cursor cannot move yet). Synchronous
     * unless something has to be waited for, so rule-only runs await nothing.
     */
    const takeDue = (limitTs: number, mayWait: boolean): boolean | Promise<boolean> => {
      for (const d of open) {
        if (d.ts >= limitTs) break;
        if (d.outputs === null && d.failure === null) return mayWait ? d.answered.then(() => takeDue(limitTs, mayWait)) : false;
      }
      for (;;) {
        let next = -1;
        for (let i = 0; i < open.length; i++) {
          const d = open[i]!;
          if (d.ts >= limitTs) break;
          if (d.dueAt < limitTs && (next < 0 || d.dueAt < open[next]!.dueAt)) next = i;
        }
        if (next < 0) return true;
        const d = open.splice(next, 1)[0]!;
        if (this.state.isOpen(d.ticker) || d.failure) {
          const placed = take(d);
          if (placed) return placed.then(() => takeDue(limitTs, mayWait));
        }
      }
    };

    /** Apply one event on the commit side; a promise only when something had to wait (checkpoint, a venue). */
    const commit = (e: MarketEvent): Promise<void> | undefined => {
      let checkpoint: Promise<void> | undefined;
      if (e.ts !== commitGroupTs) {
        commitGroupTs = e.ts;
        // A time boundary with nothing pending before it: a safe resume point.
        if (ev >= nextCheckpoint && !open.some((d) => d.ts < e.ts)) {
          const at = ev;
          checkpoint = store.checkpoint(at, simEnd ?? e.ts).then(() => options.onCheckpoint?.(at));
          nextCheckpoint = ev + checkpointEvery;
        }
        if (options.stopAfter !== undefined && ev >= options.stopAfter) throw new StopRun(null, ev);
      }
      clock.observe(e.ts);
      simStart ??= e.ts;
      simEnd = e.ts;
      this.state.apply(e);
      const work = execution.onEvent(ev, e, this.state);
      if (e.kind === "settle") this.#recordOutcome(ev, e);
      ev++;
      if ((ev & 255) === 0 && options.onProgress && ((ev & (progressEvery - 1)) === 0 || performance.now() - lastProgressAt >= progressWallMs)) {
        lastProgressAt = performance.now();
        options.onProgress({ events: ev, simTs: e.ts, forecasts, orders, inFlight });
      }
      if (checkpoint && work) return Promise.all([checkpoint, work]).then(() => undefined);
      return checkpoint ?? work ?? undefined;
    };

    /**
     * Move the commit cursor over lagged events as far as it can (all the
     * way when `mayWait`). Synchronous while no decision is pending before
     * the next event: the rule-only hot path awaits nothing.
     */
    const drain = (mayWait: boolean): Promise<void> | undefined => {
      while (lagHead < lag.length) {
        const e = lag[lagHead]!;
        if (open.length > 0 && open[0]!.ts < e.ts) return drainAfterDecisions(e, mayWait);
        lagHead++;
        const work = commit(e);
        if (work) return work.then(() => drain(mayWait));
      }
      lag.length = 0;
      lagHead = 0;
      return undefined;
    };
    const drainAfterDecisions = async (e: MarketEvent, mayWait: boolean): Promise<void> => {
      const due = takeDue(e.ts, mayWait);
      if (!(due === true || (due !== false && (await due)))) return;
      lagHead++;
      const work = commit(e);
      if (work) await work;
      await drain(mayWait);
    };

    // ── the loop ──────────────────────────────────────────────────────
    const iterator = source.events()[Symbol.asyncIterator]();
    let stopped = false;
    let stopReason: string | null = null;
    let resumeEv = 0;
    try {
      for (;;) {
        const next = await this.#nextBatch(iterator, open, () => (selected.length > 0 ? aheadGroupTs : null));
        if (next === "timer") {
          // Live: the clock passed a decision's time with no event after it.
          const now = clock.now();
          if (selected.length > 0 && aheadGroupTs < now) {
            issue(aheadGroupTs);
            aheadGroupTs = NEVER;
          }
          await drain(false);
          const due = takeDue(now, false);
          if (due !== true && due !== false) await due;
          execution.drainReports(ev);
          continue;
        }
        if (next.done) break;
        const batch = next.value;
        for (let i = 0; i < batch.length; i++) {
          const e = batch[i]!;
          // The read-ahead cursor sees `e`: a new timestamp first issues the decisions of the one before.
          if (e.ts !== aheadGroupTs) {
            if (selected.length > 0) issue(aheadGroupTs);
            aheadGroupTs = e.ts;
          }
          if (!readsAhead) {
            // One state: take what is due before this event, apply it, then let the filter see it (the rule-only hot path).
            if (open.length > 0 && open[0]!.ts < e.ts) {
              const due = takeDue(e.ts, true);
              if (due !== true) await due;
            }
            const work = commit(e);
            if (work) await work;
            aheadSelect(e);
            continue;
          }
          aheadClock.observe(e.ts);
          aheadState.apply(e);
          aheadSelect(e);
          if (lagHead > 65_536 && lagHead * 2 > lag.length) {
            lag.splice(0, lagHead);
            lagHead = 0;
          }
          lag.push(e);
          // The commit cursor follows as far as it can; it waits for a forecast only when the read-ahead may not go further.
          const work = drain(inFlight >= maxInFlight || lag.length - lagHead >= maxLag);
          if (work) await work;
        }
        execution.drainReports(ev);
      }
      // The stream ended: the last timestamp's decisions, then everything still pending.
      if (selected.length > 0) issue(aheadGroupTs);
      await drain(true);
      const rest = takeDue(Number.POSITIVE_INFINITY, true);
      if (rest !== true) await rest;
      resumeEv = ev;
      // Positions still open when the data ended are reported at their mark, not refunded.
      if (simEnd !== null) execution.finish?.(ev, simEnd, this.state);
    } catch (error) {
      if (!(error instanceof StopRun)) throw error;
      stopped = true;
      stopReason = error.reason;
      resumeEv = error.resumeEv;
    } finally {
      // Requests still in flight are not taken; wait for them so nothing runs after the run.
      await Promise.all(open.map((d) => d.answered));
      await iterator.return?.();
    }
    options.onProgress?.({ events: ev, simTs: simEnd ?? 0, forecasts, orders, inFlight: 0 });
    return { events: ev, simStart, simEnd, forecasts, orders, filterDropped: filter.dropped(), stopped, stopReason, resumeEv };
  }

  /**
   * The next batch of events, or "timer" when the clock (live) reaches the
   * time a decision waits for before any event arrives. A simulated clock
   * has no timers: its time moves only with events.
   */
  async #nextBatch(
    iterator: AsyncIterator<MarketEvent[]>,
    open: readonly Decision[],
    aheadGroupTs: () => number | null,
  ): Promise<IteratorResult<MarketEvent[]> | "timer"> {
    const { clock } = this.parts;
    const pending = this.#carried ?? iterator.next();
    this.#carried = null;
    if (!clock.timer) return pending;
    let at = aheadGroupTs() ?? Number.POSITIVE_INFINITY;
    const waits: Array<Promise<"timer">> = [];
    for (const d of open) {
      if (d.outputs === null && d.failure === null) waits.push(d.answered.then(() => "timer" as const));
      else at = Math.min(at, d.dueAt);
    }
    const timer = Number.isFinite(at) ? clock.timer(at + 1) : null;
    if (timer) waits.push(timer.fired.then(() => "timer" as const));
    if (waits.length === 0) return pending;
    try {
      const first = await Promise.race([pending, ...waits]);
      // The batch asked for above is still coming: hand it back on the next call.
      if (first === "timer") this.#carried = pending;
      return first;
    } finally {
      timer?.cancel();
    }
  }

  /** A batch asked for before a timer fired, still to be delivered. */
  #carried: Promise<IteratorResult<MarketEvent[]>> | null = null;

  #recordOutcome(ev: number, e: Extract<MarketEvent, { kind: "settle" }>): void {
    const market = this.state.market(e.ticker);
    this.parts.store.outcome(ev, {
      ticker: e.ticker,
      category: market?.info.category ?? null,
      // The actual close, known by now: its close event came first.
      closeTime: market?.closedAt ?? e.ts,
      settleTs: e.ts,
      result: e.result,
    });
  }

  /** Store the decision's forecasts, size the chosen one; the order to place, if any. */
  #decide(ev: number, d: Decision, outputs: readonly ForecastOutput[]): OrderRequest | null {
    const { strategy, sizer, execution, store } = this.parts;
    for (const f of outputs) {
      store.forecast(ev, {
        ts: d.ts,
        ticker: d.ticker,
        model: f.model,
        agent: f.agent ?? strategy.name,
        probability: f.probability,
        confidence: f.confidence,
        marketPrice: d.marketPrice === null ? null : unitsToDollars(d.marketPrice),
        abstained: f.probability === null,
        abstainReason: f.abstainReason ?? null,
        rationale: f.rationale ?? null,
        llmCallId: f.llmCallId ?? null,
      });
    }
    const chosen = decidingForecast(outputs)!;
    if (chosen.probability === null) return null;
    const { decision, order } = sizer.decide({ ticker: d.ticker, probability: chosen.probability, confidence: chosen.confidence }, this.state, execution.portfolio);
    store.decision(ev, decision);
    return order ?? null;
  }
}
