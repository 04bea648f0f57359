/**
 * The replay "node": hands harness/node/runNode.ts the replay-side parts
 * (SimulatedClock, ReplaySource, PaperBroker) for a config and a dataset;
 * runNode runs the pipeline into the results store and computes metrics
 * and the digest. The live node (harness/live/liveNode.ts) hands it a
 * WallClock, the exchange feed and the paper or Kalshi broker; nothing
 * below knows which it got.
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
import { FeeChangesError, loadFeeChanges, type FeeChange } from "../broker/feeChanges.ts";
import { loadImpliedPositions, provingExecution } from "./resumeProof.ts";
import { SimulatedClock } from "../clock/simulatedClock.ts";
import type { Db } from "../db/duckdb.ts";
import { DatasetError, ReplaySource, type ReplaySourceOptions } from "../events/replaySource.ts";
import type { PipelineProgress } from "../pipeline.ts";
import { ConfigError, parseRunConfig, type RunConfig } from "../../strategies/runConfig.ts";
import type { SharedModels, SpendGuard } from "./modelStack.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import type { CacheConfig } from "../cache/cacheConfig.ts";
import { StoredForecasts } from "./storedForecasts.ts";
import { runNode, type NodeOutcome } from "../node/runNode.ts";

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

export type ReplayOutcome = NodeOutcome;

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

export async function runReplay(req: ReplayRequest): Promise<ReplayOutcome> {
  const { config } = req;
  if (req.models && req.resumeRunId !== undefined) throw new ConfigError(`run ${req.resumeRunId}: a resumed run builds its own model stack; it cannot use a shared one`);
  const source = await ReplaySource.open(req.datasetDir, req.source);
  const described = await source.describe();
  const runId = req.resumeRunId ?? newRunId(config);
  if (req.resumeRunId !== undefined) await assertSameDataset(req.db, runId, described.hash, req.datasetDir);
  let feeChanges: FeeChange[];
  try {
    feeChanges = loadFeeChanges(req.datasetDir);
  } catch (error) {
    await source.close();
    throw error instanceof FeeChangesError ? new DatasetError(error.message) : error;
  }
  const stored = req.redecideFrom ? await StoredForecasts.load(req.db.connection, req.redecideFrom) : null;
  // A resumed run answers the decisions it already stored from its own rows: none of them reaches a model again.
  const resumed = req.resumeRunId !== undefined && !stored ? await StoredForecasts.load(req.db.connection, runId) : null;
  return runNode({
    config,
    db: req.db,
    runId,
    resume: req.resumeRunId !== undefined,
    kind: req.kind ?? "replay",
    label: req.label ?? null,
    parentRunId: req.parentRunId ?? null,
    dataset: { name: described.name, hash: described.hash, path: req.datasetDir },
    totalEvents: described.events,
    clock: new SimulatedClock(),
    source,
    execution: async ({ runId: id, store, resumeFrom }) => {
      const execution = createReplayExecution({
        runId: id,
        config: config.broker,
        store,
        dataset: { hasBidAsk: source.manifest.capabilities.hasBidAsk, hasOrderbook: source.manifest.capabilities.hasOrderbook },
        feeChanges,
      });
      // A resumed run checks its rebuilt portfolio against its stored fills when it reaches the checkpoint (resumeProof.ts).
      return resumeFrom > 0 ? provingExecution(execution, execution.engine.portfolio, id, resumeFrom, await loadImpliedPositions(req.db.connection, id, resumeFrom)) : execution;
    },
    markets: () => source.markets(),
    redecide: stored,
    resumed,
    ...(req.models ? { models: req.models } : {}),
    ...(req.runUsd !== undefined ? { runUsd: req.runUsd } : {}),
    ...(req.maxInFlight !== undefined ? { maxInFlight: req.maxInFlight } : {}),
    ...(req.checkpointEvery !== undefined ? { checkpointEvery: req.checkpointEvery } : {}),
    ...(req.onCheckpoint ? { onCheckpoint: req.onCheckpoint } : {}),
    ...(req.onStart ? { onStart: req.onStart } : {}),
    ...(req.stopAfter !== undefined ? { stopAfter: req.stopAfter } : {}),
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(req.progressIntervalMs !== undefined ? { progressIntervalMs: req.progressIntervalMs } : {}),
    ...(req.onWarning ? { onWarning: req.onWarning } : {}),
    ...(req.cacheMode ? { cacheMode: req.cacheMode } : {}),
    ...(req.cache ? { cache: req.cache } : {}),
    ...(req.env ? { env: req.env } : {}),
    ...(req.spendGuard ? { spendGuard: req.spendGuard } : {}),
  });
}
