/**
 * One run of the engine, whichever node assembled it (DESIGN.md "Two small
 * nodes"): the run's row in the results DB, the prompt it used, the model
 * stack, the strategy, the pipeline, then metrics, digest and completion.
 * The replay node (harness/replay/runReplay.ts) hands it a SimulatedClock, a
 * dataset source and the paper broker; the live node
 * (harness/live/liveNode.ts) a WallClock, the exchange feed and the paper or
 * Kalshi broker. Nothing here asks which.
 */
import type { Clock } from "../clock/clock.ts";
import type { Db } from "../db/duckdb.ts";
import type { EventSource } from "../events/types.ts";
import { buildEventFilter } from "../filter/buildEventFilter.ts";
import { Pipeline, type PipelineProgress } from "../pipeline.ts";
import type { Execution } from "../portfolio/execution.ts";
import { computeRunMetrics } from "../results/runMetrics.ts";
import { runDigest } from "../results/digest.ts";
import { KellySizer } from "../sizing/sizer.ts";
import { DuckDbStore, type MetricRow, type RunRecord } from "../store/resultsStore.ts";
import { buildStrategy } from "../../strategies/registry.ts";
import { canonicalJson, ConfigError, configHash, type RunConfig } from "../../strategies/runConfig.ts";
import { codeVersion } from "../replay/codeVersion.ts";
import { buildModelStack, NO_MODELS, resolveRouterConfig, type SharedModels, type SpendGuard } from "../replay/modelStack.ts";
import { resolveTrainingCutoffs } from "../../strategies/modelCutoffs.ts";
import { abstentionsByReason, totalByReason } from "../store/runDetail.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import type { CacheConfig } from "../cache/cacheConfig.ts";
import { describeMarking } from "../portfolio/marking.ts";
import { resumeStrategy } from "../replay/resumeStrategy.ts";
import type { StoredForecasts } from "../replay/storedForecasts.ts";
import { newsForMarket } from "../../strategies/newsForMarket.ts";
import { promptTemplate, templateHash, templateText } from "../../strategies/prompts/forecastPrompt.ts";

export interface NodeRun {
  config: RunConfig;
  db: Db;
  runId: string;
  /** Continue this run's row (resume) instead of creating it. */
  resume: boolean;
  kind: RunRecord["kind"];
  label: string | null;
  parentRunId: string | null;
  dataset: { name: string; hash: string | null; path: string | null };
  totalEvents: number | null;
  clock: Clock;
  source: EventSource;
  /**
   * The node's execution (engine-owned portfolio over its broker), built once the run's store exists;
   * resumeFrom is the checkpoint a resumed run continues from (0 for a new run).
   */
  execution: (ctx: { runId: string; store: DuckDbStore; resumeFrom: number }) => Promise<Execution & { readonly fillModel: string }> | (Execution & { readonly fillModel: string });
  /**
   * The markets the run saw and the Kalshi event each belongs to, asked once the stream ended (a live feed
   * discovers markets as it goes): written to market_events before the metrics, whose intervals resample
   * whole events (the markets of one event are mutually exclusive).
   */
  markets?: () => Promise<ReadonlyArray<{ ticker: string; eventTicker: string }>>;
  /** Re-decide: answer every decision from these stored forecasts (no model is called). */
  redecide?: StoredForecasts | null;
  /** Resume: answer decisions already stored from these, the rest from the model stack. */
  resumed?: StoredForecasts | null;
  models?: SharedModels;
  runUsd?: number;
  maxInFlight?: number;
  checkpointEvery?: number;
  onCheckpoint?: (events: number) => void;
  onStart?: (runId: string) => void;
  stopAfter?: number;
  onProgress?: (p: PipelineProgress & { totalEvents: number | null }) => void;
  /** Least wall time between progress reports (default 250 ms). */
  progressIntervalMs?: number;
  /** Config warnings (a `models` key matched by model name); printed to stderr when absent. */
  onWarning?: (message: string) => void;
  /** `--cache` (harness/cache/cacheMode.ts): how this run uses the config's response cache. */
  cacheMode?: CacheMode;
  /** The cache this run uses instead of its config's, and the environment its router reads (a distributed sweep's worker; see ModelStackOptions.cache). */
  cache?: CacheConfig;
  env?: Readonly<Record<string, string | undefined>>;
  /** Money spent beyond this run that can stop it, resumably (a distributed sweep's sweep-wide cap). */
  spendGuard?: SpendGuard;
  /** Asked before each decision as well as the model stack's own stop reason (live: a kill switch). */
  shouldStop?: () => string | null;
}

export interface NodeOutcome {
  runId: string;
  status: "completed" | "interrupted";
  /** Why an interrupted run stopped (e.g. the run's real-money cap), when it stopped on its own. */
  stopReason?: string | null;
  digest: string | null;
  events: number;
  wallMs: number;
  eventsPerSecond: number;
  metrics: MetricRow[];
  datasetName: string;
  fillModel: string;
  filterDropped: Readonly<Record<string, number>>;
  /** Abstained forecasts by reason (all models), most frequent first; empty for an interrupted run. */
  abstentions: Array<{ reason: string; n: number }>;
}

export async function runNode(req: NodeRun): Promise<NodeOutcome> {
  const started = performance.now();
  const { config, runId, clock, source } = req;
  let trainingCutoffs: ReturnType<typeof resolveTrainingCutoffs>;
  let store: DuckDbStore;
  let resumeFrom: number;
  try {
    // Checked before the run starts: a `models` key that names no routed model would mark no forecast as contaminated.
    trainingCutoffs = (() => {
      try {
        return resolveTrainingCutoffs(config.models, Object.keys(config.models).length > 0 ? resolveRouterConfig(config) : undefined);
      } catch (error) {
        throw error instanceof ConfigError ? error : new ConfigError(error instanceof Error ? error.message : String(error));
      }
    })();
    ({ store, resumeFrom } = await DuckDbStore.forRun(
      req.db,
      {
        runId,
        parentRunId: req.parentRunId,
        kind: req.kind,
        label: req.label,
        configHash: configHash(config),
        configJson: canonicalJson(config),
        datasetName: req.dataset.name,
        datasetHash: req.dataset.hash,
        datasetPath: req.dataset.path,
        codeVersion: codeVersion(),
      },
      req.resume,
    ));
  } catch (error) {
    // The run never started: the source it was handed is closed all the same.
    await source.close().catch(() => undefined);
    throw error;
  }
  for (const w of trainingCutoffs.warnings) (req.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(w);

  req.onStart?.(runId);
  if ((config.strategy.kind === "llm" || config.strategy.kind === "consensus") && !req.resume) {
    const template = promptTemplate(config.strategy.prompt);
    await req.db.connection.run(`INSERT INTO prompts VALUES ($1, $2, $3, $4)`, [runId, template.version, templateHash(template), templateText(template)]);
  }
  const stored = req.redecide ?? null;
  const resumed = req.resumed ?? null;
  let models = NO_MODELS;
  if (!stored && req.models) {
    models = req.models.forRun({ runId, clock, db: req.db });
  } else if (!stored) {
    try {
      models = await buildModelStack(config, { clock, db: req.db, runId, ...(resumed ? { resume: { storedUpTo: resumed.lastTs } } : {}), ...(req.runUsd !== undefined ? { runUsd: req.runUsd } : {}), ...(req.cacheMode ? { cacheMode: req.cacheMode } : {}), ...(req.cache ? { cache: req.cache } : {}), ...(req.env ? { env: req.env } : {}), ...(req.spendGuard ? { spendGuard: req.spendGuard } : {}) });
    } catch (error) {
      // A router, cache or key that cannot be set up is the config's (or the environment's) problem: say so, plainly.
      const message = error instanceof Error ? error.message : String(error);
      await store.fail(message);
      await source.close();
      throw new ConfigError(`run ${runId}: ${message}`);
    }
  }
  store.beforeCheckpoint = () => models.flush();
  let execution: Execution & { readonly fillModel: string };
  try {
    execution = await req.execution({ runId, store, resumeFrom: req.resume ? resumeFrom : 0 });
    // The report names the fill model and the marking each run used.
    await req.db.connection.run(`UPDATE runs SET fill_model = $1, marking = $2 WHERE run_id = $3`, [execution.fillModel, describeMarking(config.broker.markEveryMs), runId]);
  } catch (error) {
    await store.fail(error instanceof Error ? error.message : String(error)).catch(() => undefined);
    await models.close();
    await source.close();
    throw error;
  }
  const strategy = stored
    ? stored.strategy(config.strategy, config.strategy.kind)
    : buildStrategy(config.strategy, { ...(models.router ? { router: models.router } : {}), selectNews: newsForMarket });
  const pipeline = new Pipeline({
    clock,
    source,
    filter: stored ? stored.filter() : buildEventFilter(config.filter),
    strategy: resumed ? resumeStrategy(resumed, strategy) : strategy,
    sizer: new KellySizer(config.risk, config.broker.fees, config.broker.tradePrint.halfSpreadUnits),
    execution,
    store,
    modelLatency: config.modelLatency,
  });

  try {
    const result = await pipeline.run({
      checkpointEvery: req.checkpointEvery ?? 250_000,
      ...(req.onCheckpoint ? { onCheckpoint: req.onCheckpoint } : {}),
      ...(req.stopAfter !== undefined ? { stopAfter: req.stopAfter } : {}),
      maxInFlight: req.maxInFlight ?? models.maxInFlight,
      // The run's real-money cap was reached (or the node's own stop): stop before the next decision, resumably.
      shouldStop: () => models.stopReason() ?? req.shouldStop?.() ?? null,
      onProgress: (p) => req.onProgress?.({ ...p, totalEvents: req.totalEvents }),
      ...(req.progressIntervalMs !== undefined ? { progressIntervalMs: req.progressIntervalMs } : {}),
    });
    const wallMs = performance.now() - started;
    if (result.stopped) {
      await store.checkpoint(result.resumeEv, result.simEnd ?? 0);
      if (result.stopReason !== null) await store.interrupt(result.stopReason);
      return {
        runId,
        status: "interrupted",
        stopReason: result.stopReason,
        digest: null,
        events: result.events,
        wallMs,
        eventsPerSecond: result.events / (wallMs / 1000),
        metrics: [],
        datasetName: req.dataset.name,
        fillModel: execution.fillModel,
        filterDropped: result.filterDropped,
        abstentions: [],
      };
    }
    await models.flush(); // before the forecasts that name its rows (DuckDbStore.checkpoint)
    await store.flush();
    await req.db.connection.run(`UPDATE runs SET sim_start = $1 WHERE run_id = $2`, [result.simStart, runId]);
    if (req.markets) await recordMarketEvents(req.db, runId, await req.markets());
    const { metrics, bins } = await computeRunMetrics(req.db.connection, runId, {
      filterDropped: result.filterDropped,
      trainingCutoffs: trainingCutoffs.cutoffs,
      bins: config.metrics.calibrationBins,
      bootstrap: { samples: config.metrics.bootstrapSamples, seed: config.metrics.seed },
      bankrollUnits: Math.round(config.broker.bankrollUsd * 10_000),
    });
    await store.writeMetrics(metrics, bins);
    const digest = await runDigest(req.db.connection, runId);
    const abstentions = totalByReason(await abstentionsByReason(req.db.connection, runId));
    const totalMs = performance.now() - started;
    await store.complete({ digest, events: result.events, simStart: result.simStart, simEnd: result.simEnd, wallMs: Math.round(totalMs) });
    return {
      runId,
      status: "completed",
      digest,
      events: result.events,
      wallMs: totalMs,
      eventsPerSecond: result.events / (wallMs / 1000),
      metrics,
      datasetName: req.dataset.name,
      fillModel: execution.fillModel,
      filterDropped: result.filterDropped,
      abstentions,
    };
  } catch (error) {
    await store.fail(error instanceof Error ? error.message : String(error)).catch(() => undefined);
    throw error;
  } finally {
    try {
      await models.close();
    } finally {
      await source.close();
    }
  }
}

/** Which event each market belongs to (the ticker where the source names none). */
async function recordMarketEvents(db: Db, runId: string, markets: ReadonlyArray<{ ticker: string; eventTicker: string }>): Promise<void> {
  await db.connection.run(`DELETE FROM market_events WHERE run_id = $1`, [runId]);
  const appender = await db.connection.createAppender("market_events");
  for (const m of markets) {
    appender.appendVarchar(runId);
    appender.appendVarchar(m.ticker);
    appender.appendVarchar(m.eventTicker === "" ? m.ticker : m.eventTicker);
    appender.endRow();
  }
  appender.closeSync();
}
