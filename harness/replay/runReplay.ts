/**
 * The replay "node": assembles one pipeline from a config and a dataset with
 * the replay-side parts (SimulatedClock, ReplaySource, PaperBroker) and the
 * results store, runs it, then computes metrics and the digest. Live
 * trading assembles the same pipeline with a WallClock, an exchange feed
 * and the Kalshi broker; nothing below the pipeline knows which it got.
 *
 * Resume: a run that did not complete (crash, kill -9, Ctrl-C) keeps its
 * checkpoint. Resuming replays the stream from the start with writes muted
 * for events before the checkpoint (the pipeline is deterministic, so its
 * state at the checkpoint is rebuilt exactly), deletes any rows written past
 * it, and carries on. Decisions before the checkpoint are answered from the
 * run's own stored forecasts (resumeStrategy.ts); model calls answered after
 * it but before the crash come back from the run's call journal. Neither is
 * paid or logged again.
 */
import { randomBytes } from "node:crypto";
import { createReplayExecution } from "../portfolio/createReplayExecution.ts";
import { describeMarking } from "../portfolio/marking.ts";
import { FeeChangesError, loadFeeChanges, type FeeChange } from "../broker/feeChanges.ts";
import type { MarketInfo } from "../events/types.ts";
import { resumeStrategy } from "./resumeStrategy.ts";
import { loadImpliedPositions, provingExecution } from "./resumeProof.ts";
import { SimulatedClock } from "../clock/simulatedClock.ts";
import type { Db } from "../db/duckdb.ts";
import { DatasetError, ReplaySource, type ReplaySourceOptions } from "../events/replaySource.ts";
import { buildEventFilter } from "../filter/buildEventFilter.ts";
import { Pipeline, type PipelineProgress } from "../pipeline.ts";
import { computeRunMetrics } from "../results/runMetrics.ts";
import { runDigest } from "../results/digest.ts";
import { KellySizer } from "../sizing/sizer.ts";
import { DuckDbStore, type MetricRow } from "../store/resultsStore.ts";
import { buildStrategy } from "../../strategies/registry.ts";
import { canonicalJson, ConfigError, configHash, parseRunConfig, type RunConfig } from "../../strategies/runConfig.ts";
import { codeVersion } from "./codeVersion.ts";
import { buildModelStack, NO_MODELS, resolveRouterConfig, type SharedModels, type SpendGuard } from "./modelStack.ts";
import { resolveTrainingCutoffs } from "../../strategies/modelCutoffs.ts";
import { abstentionsByReason, totalByReason } from "../store/runDetail.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import { StoredForecasts } from "./storedForecasts.ts";
import type { CacheConfig } from "../cache/cacheConfig.ts";
import { newsForMarket } from "../../strategies/newsForMarket.ts";
import { promptTemplate, templateHash, templateText } from "../../strategies/prompts/forecastPrompt.ts";

export interface ReplayRequest {
  config: RunConfig;
  datasetDir: string;
  db: Db;
  /** Continue this unfinished run instead of starting one. */
  resumeRunId?: string;
  label?: string;
  parentRunId?: string;
  kind?: "replay" | "sweep" | "redecide";
  /** Re-decide: answer from this run's stored forecasts (no model is called) at the times it forecast. */
  redecideFrom?: string;
  source?: ReplaySourceOptions;
  onProgress?: (p: PipelineProgress & { totalEvents: number | null }) => void;
  /** Least wall time between progress reports (default 250 ms). */
  progressIntervalMs?: number;
  checkpointEvery?: number;
  onCheckpoint?: (events: number) => void;
  /** Called once the run row exists (new or resumed), with its id. */
  onStart?: (runId: string) => void;
  /** Config warnings (a `models` key matched by model name); printed to stderr when absent. */
  onWarning?: (message: string) => void;
  /** Tests: stop after this many events, leaving the run unfinished as a crash would. */
  stopAfter?: number;
  /** Real money (dollars) this process may spend on model calls: replaces the config's budget.runUsd, e.g. raised to resume a run that stopped at it. */
  runUsd?: number;
  /** The most model requests the pipeline keeps in flight at once (default: from the endpoints' concurrency). */
  maxInFlight?: number;
  /**
   * A model stack shared with other runs of this process (a sweep's leaders,
   * built by buildSharedModels from a config with this run's router and
   * cache): the run calls models through it, with its own llm_calls rows,
   * and leaves it open for its owner to close. Not for resuming (a resumed
   * run answers from its own call journal and seeds its own budget).
   */
  models?: SharedModels;
  /** `--cache` (harness/cache/cacheMode.ts): how this run uses the config's response cache. */
  cacheMode?: CacheMode;
  /** The cache this run uses instead of its config's, and the environment its router reads (a distributed sweep's worker; see ModelStackOptions.cache). */
  cache?: CacheConfig;
  env?: Readonly<Record<string, string | undefined>>;
  /** Money spent beyond this run that can stop it, resumably (a distributed sweep's sweep-wide cap). */
  spendGuard?: SpendGuard;
}

export interface ReplayOutcome {
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

export function newRunId(config: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${config.name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 32)}-${stamp}-${randomBytes(3).toString("hex")}`;
}

export interface StoredRun {
  config: RunConfig;
  datasetDir: string;
  status: string;
}

/** A run's config (as stored) and dataset path, for resuming or re-deciding it. */
export async function readRun(db: Db, runId: string): Promise<StoredRun> {
  const reader = await db.connection.runAndReadAll(`SELECT config_json, dataset_path, status FROM runs WHERE run_id = $1`, [runId]);
  const row = reader.getRowObjectsJS()[0] as { config_json: string; dataset_path: string | null; status: string } | undefined;
  if (!row) throw new ConfigError(`run ${runId} is not in the results database`);
  if (!row.dataset_path) throw new ConfigError(`run ${runId} has no dataset path recorded`);
  return { config: parseRunConfig(JSON.parse(row.config_json), `run ${runId} config`), datasetDir: row.dataset_path, status: row.status };
}

/** Reads an unfinished run so it can be resumed as it was started. */
export async function loadRunForResume(db: Db, runId: string): Promise<StoredRun> {
  const run = await readRun(db, runId);
  if (run.status === "completed") throw new ConfigError(`run ${runId} is already completed; nothing to resume`);
  return run;
}

/** A run resumes only on the data it started with: a re-imported dataset would mix two recordings into one run. */
async function assertSameDataset(db: Db, runId: string, hash: string, dir: string): Promise<void> {
  const row = (await db.connection.runAndReadAll(`SELECT dataset_hash FROM runs WHERE run_id = $1`, [runId])).getRowObjectsJS()[0] as
    | { dataset_hash: string | null }
    | undefined;
  if (row?.dataset_hash && row.dataset_hash !== hash) {
    throw new DatasetError(`${dir}: its content changed since run ${runId} started (dataset hash ${hash.slice(0, 12)}…, was ${row.dataset_hash.slice(0, 12)}…); start a new run`);
  }
}

/** Which event each market belongs to (the ticker where the dataset names none): intervals resample whole events. */
async function recordMarketEvents(db: Db, runId: string, markets: readonly MarketInfo[]): Promise<void> {
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

export async function runReplay(req: ReplayRequest): Promise<ReplayOutcome> {
  const started = performance.now();
  const { config } = req;
  if (req.models && req.resumeRunId !== undefined) throw new ConfigError(`run ${req.resumeRunId}: a resumed run builds its own model stack; it cannot use a shared one`);
  // Checked before the run starts: a `models` key that names no routed model would mark no forecast as contaminated.
  const trainingCutoffs = (() => {
    try {
      return resolveTrainingCutoffs(config.models, Object.keys(config.models).length > 0 ? resolveRouterConfig(config) : undefined);
    } catch (error) {
      throw error instanceof ConfigError ? error : new ConfigError(error instanceof Error ? error.message : String(error));
    }
  })();
  for (const w of trainingCutoffs.warnings) (req.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(w);
  const source = await ReplaySource.open(req.datasetDir, req.source);
  const described = await source.describe();
  const runId = req.resumeRunId ?? newRunId(config);
  if (req.resumeRunId !== undefined) await assertSameDataset(req.db, runId, described.hash, req.datasetDir);
  const { store, resumeFrom } = await DuckDbStore.forRun(
    req.db,
    {
      runId,
      parentRunId: req.parentRunId ?? null,
      kind: req.kind ?? "replay",
      label: req.label ?? null,
      configHash: configHash(config),
      configJson: canonicalJson(config),
      datasetName: described.name,
      datasetHash: described.hash,
      datasetPath: req.datasetDir,
      codeVersion: codeVersion(),
    },
    req.resumeRunId !== undefined,
  );

  req.onStart?.(runId);
  if ((config.strategy.kind === "llm" || config.strategy.kind === "consensus") && req.resumeRunId === undefined) {
    const template = promptTemplate(config.strategy.prompt);
    await req.db.connection.run(`INSERT INTO prompts VALUES ($1, $2, $3, $4)`, [runId, template.version, templateHash(template), templateText(template)]);
  }
  const clock = new SimulatedClock();
  const stored = req.redecideFrom ? await StoredForecasts.load(req.db.connection, req.redecideFrom) : null;
  // A resumed run answers the decisions it already stored from its own rows: none of them reaches a model again.
  const resumed = req.resumeRunId !== undefined && !stored ? await StoredForecasts.load(req.db.connection, runId) : null;
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
  let feeChanges: FeeChange[];
  try {
    feeChanges = loadFeeChanges(req.datasetDir);
  } catch (error) {
    await store.fail(error instanceof Error ? error.message : String(error));
    await models.close();
    await source.close();
    throw error instanceof FeeChangesError ? new DatasetError(error.message) : error;
  }
  const replayExecution = createReplayExecution({
    runId,
    config: config.broker,
    store,
    dataset: { hasBidAsk: source.manifest.capabilities.hasBidAsk, hasOrderbook: source.manifest.capabilities.hasOrderbook },
    feeChanges,
  });
  // The report names the fill model and the marking each run used.
  await req.db.connection.run(`UPDATE runs SET fill_model = $1, marking = $2 WHERE run_id = $3`, [replayExecution.fillModel, describeMarking(config.broker.markEveryMs), runId]);
  await recordMarketEvents(req.db, runId, await source.markets());
  // A resumed run checks its rebuilt portfolio against its stored fills when it reaches the checkpoint (resumeProof.ts).
  const execution =
    req.resumeRunId !== undefined && resumeFrom > 0
      ? provingExecution(replayExecution, replayExecution.engine.portfolio, runId, resumeFrom, await loadImpliedPositions(req.db.connection, runId, resumeFrom))
      : replayExecution;
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
      // The run's real-money cap was reached: stop before the next decision, resumably.
      shouldStop: () => models.stopReason(),
      onProgress: (p) => req.onProgress?.({ ...p, totalEvents: described.events }),
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
        datasetName: described.name,
        fillModel: execution.fillModel,
        filterDropped: result.filterDropped,
        abstentions: [],
      };
    }
    await store.flush();
    await models.flush();
    await req.db.connection.run(`UPDATE runs SET sim_start = $1 WHERE run_id = $2`, [result.simStart, runId]);
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
      datasetName: described.name,
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
