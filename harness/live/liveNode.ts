/**
 * The live "node": hands harness/node/runNode.ts the live-side parts — the
 * WallClock, the exchange feed (LiveSource) and either the paper broker
 * (`trade`, the default: a `paper` run) or the Kalshi broker (`trade
 * --live`: a `live` run, placed through V2 orders, reconciled with the
 * exchange at start-up and every cycle). The engine, strategy, sizing,
 * store, metrics and digest are the replay's own; a paper run is written
 * like any run (same tables, same metrics, same report).
 *
 * Stopping: `stop(reason)` (SIGINT/SIGTERM, `--duration`, a kill-switch
 * file) ends the feed; decisions already due are taken, then the run is
 * completed with its metrics. Live, resting orders are cancelled first
 * unless `keepResting`; the kill switch cancels them all and stops.
 */
import { KalshiBroker } from "../broker/kalshiBroker.ts";
import { WallClock } from "../clock/wallClock.ts";
import type { Db } from "../db/duckdb.ts";
import type { EventSource, MarketEvent } from "../events/types.ts";
import { runNode, type NodeOutcome } from "../node/runNode.ts";
import { createReplayExecution } from "../portfolio/createReplayExecution.ts";
import type { Execution } from "../portfolio/execution.ts";
import { ExecutionEngine } from "../portfolio/executionEngine.ts";
import type { PipelineProgress } from "../pipeline.ts";
import { newRunId } from "../replay/runReplay.ts";
import type { DuckDbStore } from "../store/resultsStore.ts";
import type { RunConfig } from "../../strategies/runConfig.ts";
import type { Feed } from "./feedConnection.ts";
import { KalshiClient } from "./kalshi/client.ts";
import { KillSwitch } from "./killSwitch.ts";
import { LiveSource } from "./liveSource.ts";
import type { NewsFeed } from "./newsFeed.ts";
import { reconcile, ReconciliationLog, type ReconcileMode } from "./reconcile.ts";
import { RestMarketDirectory } from "./restDirectory.ts";

export interface LiveRequest {
  config: RunConfig;
  db: Db;
  feed: Feed;
  news?: readonly NewsFeed[];
  label?: string;
  /** Paper (default) or real orders through the Kalshi broker. */
  mode: "paper" | "live";
  /** Live: reconciliation mode (report stops trading on a discrepancy; fix repairs) and cycle. */
  reconcile?: { mode: ReconcileMode; everyMs: number };
  /** Live: a file whose appearance (like SIGUSR2, or the day's loss reaching the risk limit) cancels every resting order and stops. */
  killFile?: string;
  /** Live: leave resting orders on the exchange at a graceful stop. */
  keepResting?: boolean;
  /** Stop after this many wall ms. */
  durationMs?: number;
  /** Each event as the engine receives it (e.g. to record the session). */
  tap?: (e: MarketEvent) => void;
  onStart?: (runId: string, source: LiveSource) => void;
  onProgress?: (p: PipelineProgress & { totalEvents: number | null }) => void;
  log?: (line: string) => void;
}

export interface LiveOutcome extends NodeOutcome {
  mode: "paper" | "live";
  /** Why the feed ended: every market settled, or the stop reason. */
  ended: string;
}

/** Forwards a source's batches, showing each event to `tap` and counting them. */
class TappedSource implements EventSource {
  count = 0;
  constructor(
    private readonly inner: EventSource,
    private readonly tap: ((e: MarketEvent) => void) | undefined,
  ) {}
  describe(): ReturnType<EventSource["describe"]> {
    return this.inner.describe();
  }
  async *events(): AsyncIterable<MarketEvent[]> {
    for await (const batch of this.inner.events()) {
      this.count += batch.length;
      if (this.tap) for (const e of batch) this.tap(e);
      yield batch;
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export class LiveRun {
  #source: LiveSource;
  #stopReason: string | null = null;
  #halt: string | null = null;
  #broker: KalshiBroker | null = null;
  #killSwitch: KillSwitch | null = null;

  constructor(private readonly req: LiveRequest) {
    this.#source = new LiveSource({
      wsUrl: req.feed.wsUrl,
      authHeaders: req.feed.authHeaders,
      directory: new RestMarketDirectory(req.feed.restBase),
      series: req.feed.series,
      tickers: req.feed.tickers,
      news: req.news ?? [],
      privateChannels: req.mode === "live",
      name: `live:${[...req.feed.series, ...req.feed.tickers].join(",")}`,
    });
  }

  get source(): LiveSource {
    return this.#source;
  }

  /** End the session gracefully: the run completes with what it has. */
  async stop(reason: string): Promise<void> {
    if (this.#stopReason !== null) return;
    this.#stopReason = reason;
    this.req.log?.(`stopping: ${reason}`);
    if (this.#broker) {
      const r = await this.#broker.shutdown({ cancelResting: !(this.req.keepResting ?? false) }).catch(() => null);
      if (r) this.req.log?.(`resting orders: ${r.cancelled} cancelled, ${r.kept} kept`);
    }
    this.#source.stop();
  }

  async run(): Promise<LiveOutcome> {
    const { req } = this;
    const clock = new WallClock();
    await this.#source.start();
    const tapped = new TappedSource(this.#source, req.tap);
    const described = await this.#source.describe();
    const runId = newRunId(req.config);
    req.onStart?.(runId, this.#source);
    const timers: NodeJS.Timeout[] = [];
    try {
      return await this.#run(runId, clock, tapped, described.name, timers);
    } finally {
      for (const t of timers) clearTimeout(t);
      this.#killSwitch?.stop();
      await this.#killSwitch?.settled();
      await this.#source.close();
    }
  }

  async #run(runId: string, clock: WallClock, tapped: TappedSource, datasetName: string, timers: NodeJS.Timeout[]): Promise<LiveOutcome> {
    const { req } = this;
    const source: EventSource = tapped;
    if (req.durationMs !== undefined) timers.push(setTimeout(() => void this.stop(`duration of ${req.durationMs} ms reached`), req.durationMs));
    req.feed.fake?.begin();

    let execution: (ctx: { runId: string; store: DuckDbStore }) => Execution & { readonly fillModel: string };
    let liveSetup: Promise<void> = Promise.resolve();
    if (req.mode === "paper") {
      // The feed carries books and quotes: `auto` fills against the book, as replay of a recording does.
      execution = ({ runId: id, store }) => createReplayExecution({ runId: id, config: req.config.broker, store, dataset: { hasBidAsk: true, hasOrderbook: true } });
    } else {
      if (!req.feed.credentials) throw new Error("live trading needs Kalshi credentials");
      const client = await KalshiClient.connect({
        credentials: req.feed.credentials,
        environment: req.feed.environment === "production" ? "production" : "demo",
        restBase: req.feed.restBase,
      });
      const broker = new KalshiBroker({ client, ...(req.log ? { log: req.log } : {}) });
      this.#broker = broker;
      this.#source.onPrivate(broker);
      const cash = await client.balanceUnits();
      execution = ({ runId: id, store }) => {
        const engine = new ExecutionEngine({ runId: id, broker, store, startingCashUnits: cash, fees: req.config.broker.fees });
        const rec = req.reconcile ?? { mode: "report" as const, everyMs: 30_000 };
        const log = new ReconciliationLog(req.db.connection, id);
        let reconciling = false;
        const cycle = async (): Promise<void> => {
          // A slow exchange must not stack cycles on top of each other.
          if (reconciling || this.#stopReason !== null) return;
          reconciling = true;
          try {
            const r = await reconcile({ client, broker, local: engine.portfolio, drain: () => void engine.drainReports(tapped.count), mode: rec.mode, log });
            if (r.halted) {
              this.#halt = `reconciliation found ${r.discrepancies.length} discrepanc${r.discrepancies.length === 1 ? "y" : "ies"} (${r.discrepancies.map((d) => d.class).join(", ")}); trading stopped (report mode)`;
              await this.stop(this.#halt);
            }
          } finally {
            reconciling = false;
          }
        };
        // At start-up, before the first order: an account we could not read is not traded.
        liveSetup = cycle().catch((e: unknown) => {
          this.#halt = `start-up reconciliation failed: ${e instanceof Error ? e.message : String(e)}`;
          void this.stop(this.#halt);
        });
        // Then every cycle; a failed cycle is logged and tried again at the next.
        timers.push(setInterval(() => void cycle().catch((e: unknown) => req.log?.(`reconciliation failed: ${e instanceof Error ? e.message : String(e)}`)), rec.everyMs));
        // Kill switch: a file, SIGUSR2, or the day's loss reaching the risk config's limit cancels everything and stops.
        const kill = new KillSwitch({
          file: req.killFile,
          dailyLossLimitUnits: Math.round(req.config.risk.dailyLossLimitFraction * cash),
          portfolio: engine.portfolio,
          onTrip: async (reason) => {
            this.#halt = `kill switch: ${reason}`;
            try {
              await broker.killAll(reason);
            } finally {
              // Whatever the cancels met, the session stops.
              await this.stop(this.#halt);
            }
          },
          ...(req.log ? { log: req.log } : {}),
        }).start();
        this.#killSwitch = kill;
        return {
          portfolio: engine.portfolio,
          fillModel: "exchange",
          onEvent: (ev, e, view) => engine.onEvent(ev, e, view),
          submit: async (ev, seq, order, view) => {
            await liveSetup;
            return engine.submit(ev, seq, order, view);
          },
          drainReports: (ev) => engine.drainReports(ev),
        };
      };
    }
    const outcome = await runNode({
      config: req.config,
      db: req.db,
      runId,
      resume: false,
      kind: req.mode,
      label: req.label ?? null,
      parentRunId: null,
      dataset: { name: datasetName, hash: null, path: null },
      totalEvents: null,
      clock,
      source,
      execution,
      markets: async () => this.#source.markets(),
      checkpointEvery: 10_000,
      // A halted live session takes no further decision.
      shouldStop: () => this.#halt,
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
    return { ...outcome, mode: req.mode, ended: this.#stopReason ?? "every market settled" };
  }
}
