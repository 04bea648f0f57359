/**
 * The model side of a run, for configs whose strategy calls models: the
 * router built from the config (API keys read from the environment by name),
 * its call log writing llm_calls rows for this run, and later layers in
 * front of it. Live trading builds the same stack with the wall clock.
 * Several runs of one process (a sweep's leaders) can share one stack
 * instead (buildSharedModels): each takes its per-run view of it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../clock/clock.ts";
import type { Db } from "../db/duckdb.ts";
import { DuckDbCallLog, RunDispatchCallLog, type CallLog } from "../router/callLog.ts";
import { CallJournal, loadSpentRows } from "../router/callJournal.ts";
import { DecisionClock } from "../clock/decisionTime.ts";
import { buildRouter, loadRouterConfig, type RouterConfig } from "../router/routerConfig.ts";
import type { Router, RouterOutcome, RouterRequest } from "../router/router.ts";
import { canonicalJson, type RunConfig } from "../../strategies/runConfig.ts";
import type { AnswerSpec } from "../../providers/forecastAnswer.ts";
import { parseCacheConfig, type CacheConfig } from "../cache/cacheConfig.ts";
import type { ForecastRouter } from "../../strategies/llmForecaster.ts";
import { buildCachedRouter } from "../cache/openCache.ts";
import type { CachedRouter } from "../cache/cachedRouter.ts";
import { LocalModelProvider } from "../../providers/llamaCpp.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import { DEFAULT_TRANSCRIPTS, type TranscriptPolicy } from "../store/callTranscripts.ts";

/** The tiny model shipped in the repo (models/PROVENANCE.md). */
export const BUNDLED_MODEL = fileURLToPath(new URL("../../models/stories260K.gguf", import.meta.url));

export interface ModelStack {
  router: ForecastRouter | undefined;
  /**
   * Forecasts a run keeps in flight by default: the largest concurrency
   * among the router's endpoints (each endpoint's queue enforces its own).
   */
  maxInFlight: number;
  /** Why the run must stop now (its real-money cap, budget.runUsd, was reached), or null. */
  stopReason(): string | null;
  /** Write buffered llm_calls rows (part of every checkpoint). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ModelStackOptions {
  clock: Clock;
  db: Db;
  runId: string;
  /**
   * Resuming: the run's decisions up to this simulated time are answered
   * from its stored forecasts, so the spend of their calls is seeded into
   * the budgets; calls after it are answered from the call journal (which
   * counts them itself) or sent.
   */
  resume?: { storedUpTo: number };
  /** Real money this process may spend, in dollars: replaces the router's budget.runUsd (a spending guard, not part of the experiment). */
  runUsd?: number;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: (level: "info" | "warn", message: string, fields?: Readonly<Record<string, unknown>>) => void;
  /** `--cache` (cacheMode.ts): off leaves the config's cache out; refresh and read-only change how it is used. */
  cacheMode?: CacheMode;
  /** Check each endpoint with one cheap request before the run (default true). */
  preflight?: boolean;
  /**
   * The cache to use instead of the config's (a distributed sweep's worker: one
   * Redis cache for every worker, harness/queue/workerCache.ts). Not part of the
   * experiment: the run's stored config stays as written.
   */
  cache?: CacheConfig;
  /** Real money spent beyond this run (a distributed sweep's sweep-wide cap, harness/queue/sweepBudget.ts). */
  spendGuard?: SpendGuard;
}

/** Told the cost of every call this run pays for; asked before each decision whether the run must stop. */
export interface SpendGuard {
  spent(costNusd: number): void;
  stopReason(): string | null;
}

/** The cache this invocation uses: none when off; else the override (a sweep worker's shared cache) or the config's, when enabled. */
function cacheFor(config: RunConfig, mode: CacheMode | undefined, override: CacheConfig | undefined): CacheConfig | undefined {
  if (mode === "off") return undefined;
  const chosen = override ?? config.cache;
  return chosen?.enabled ? chosen : undefined;
}

export function resolveRouterConfig(config: RunConfig): RouterConfig | undefined {
  if (config.router === undefined) return undefined;
  if (typeof config.router === "string") return loadRouterConfig(resolve(config.router));
  return config.router as RouterConfig;
}

/** What of each call's prompt and answer the run keeps (llm_transcripts). */
export function transcriptPolicy(config: RunConfig): TranscriptPolicy {
  return config.transcripts ?? DEFAULT_TRANSCRIPTS;
}

/** The stack of a run that calls no model. */
export const NO_MODELS: ModelStack = { router: undefined, maxInFlight: 1, stopReason: () => null, flush: async () => {}, close: async () => {} };

/** Endpoints without a stated concurrency: how many requests a run keeps in flight to them. */
const DEFAULT_IN_FLIGHT = 8;

export function maxInFlightFor(config: RouterConfig): number {
  let most = 1;
  for (const e of Object.values(config.endpoints)) {
    const stated = e.concurrency ?? (e.kind === "local" ? (e.sequences ?? 1) : DEFAULT_IN_FLIGHT);
    most = Math.max(most, stated);
  }
  return most;
}

export async function buildModelStack(config: RunConfig, options: ModelStackOptions): Promise<ModelStack> {
  const configured = resolveRouterConfig(config);
  const routerConfig =
    configured && options.runUsd !== undefined ? { ...configured, budget: { ...(configured.budget ?? {}), runUsd: options.runUsd } } : configured;
  if (!routerConfig) return NO_MODELS;
  const callLog = DuckDbCallLog.ownConnection(options.db, options.runId, transcriptPolicy(config));
  // Each request reads its decision's simulated time (harness/clock/decisionTime.ts), whatever else is in flight.
  const clock = new DecisionClock(options.clock);
  const journal = options.resume ? await CallJournal.load(options.db.connection, options.runId) : undefined;
  const guard = options.spendGuard;
  const tapped: CallLog = guard
    ? {
        record(call) {
          if (call.costNusd > 0) guard.spent(call.costNusd);
          callLog.record(call);
        },
        flush: () => callLog.flush(),
      }
    : callLog;
  let stack: AssembledStack;
  try {
    stack = await assemble(routerConfig, cacheFor(config, options.cacheMode, options.cache), {
      clock,
      callLog: tapped,
      ...(options.cacheMode && options.cacheMode !== "off" ? { cacheMode: options.cacheMode } : {}),
      ...(journal ? { journal } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (error) {
    await callLog.close().catch(() => undefined);
    throw error;
  }
  // Fail at once on an endpoint that is down or refuses its key, unless no request can reach a provider (cassette).
  if (options.preflight !== false && !config.cache?.cassette) {
    try {
      await stack.router.preflight();
    } catch (error) {
      await callLog.close().catch(() => undefined);
      await stack.close().catch(() => undefined);
      throw error;
    }
  }
  if (options.resume) {
    const upTo = options.resume.storedUpTo;
    stack.router.budget.seedSpent((await loadSpentRows(options.db.connection, options.runId)).filter((r) => r.simTs <= upTo));
  }
  return {
    router: stack.front,
    maxInFlight: maxInFlightFor(routerConfig),
    stopReason: () => stack.router.runBudgetExhausted() ?? guard?.stopReason() ?? null,
    flush: () => callLog.flush(),
    async close() {
      try {
        await callLog.close();
      } finally {
        await stack.close();
      }
    },
  };
}

interface AssembledStack {
  router: Router;
  /** What a strategy calls: the cache in front of the router, or the router. */
  front: ForecastRouter;
  /** Closes the cache, the embedder it loaded and the router (not the call log). */
  close(): Promise<void>;
}

/** The router from its config, and the cache (when given) in front of it. */
async function assemble(
  routerConfig: RouterConfig,
  cacheConfig: CacheConfig | undefined,
  deps: {
    clock: Clock;
    callLog: CallLog;
    journal?: CallJournal;
    env?: Readonly<Record<string, string | undefined>>;
    logger?: ModelStackOptions["logger"];
    cacheMode?: Exclude<CacheMode, "off">;
  },
): Promise<AssembledStack> {
  const { clock, callLog } = deps;
  const router: Router = buildRouter(routerConfig, {
    clock,
    callLog,
    ...(deps.journal ? { journal: deps.journal } : {}),
    baseDir: process.cwd(),
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  let cached: CachedRouter | null = null;
  let ownEmbedder: LocalModelProvider | null = null;
  try {
    if (cacheConfig?.enabled) {
      let embedder = router.embedder();
      if (!embedder && cacheConfig.semantic.enabled) {
        // No local model among the router's endpoints: embed with the bundled one (loaded lazily, on the first lookup).
        ownEmbedder = new LocalModelProvider({ name: "embedder", modelPath: BUNDLED_MODEL });
        embedder = ownEmbedder;
      }
      cached = await buildCachedRouter(router, cacheConfig, {
        clock,
        callLog,
        routerConfig,
        baseDir: process.cwd(),
        ...(embedder ? { embedder } : {}),
        ...(deps.cacheMode ? { mode: deps.cacheMode } : {}),
        ...(deps.env ? { env: deps.env } : {}),
      });
    }
  } catch (error) {
    await ownEmbedder?.dispose();
    await router.close();
    throw error;
  }
  return {
    router,
    front: cached ?? router,
    async close() {
      // Each step runs even when one before it fails: a local model left loaded would keep the process alive.
      try {
        await cached?.close();
      } finally {
        try {
          await ownEmbedder?.dispose();
        } finally {
          await router.close();
        }
      }
    },
  };
}

/**
 * One model stack for several runs of this process (the leaders of a sweep,
 * DESIGN.md "One router per process, shared by a sweep"): one router, so
 * each endpoint has one queue and its concurrency and rate limits hold
 * across all the runs; one budget; one cache handle. Each run takes its
 * view with forRun(): its requests run inside its run context, so the
 * shared clock reads that run's decision time (its own clock outside
 * atDecisionTime) and every llm_calls row goes to that run, with its run id.
 *
 * The budget is the stack's, so its limits (daily, monthly, budget.runUsd)
 * count the spend of all the runs sharing it: what the process really pays.
 */
export interface SharedModels {
  /** The stack one run uses; closing it writes out and detaches that run's call log and leaves the shared stack open. */
  forRun(run: { runId: string; clock: Clock; db: Db }): ModelStack;
  /** Records no attached run claimed (should be 0: every request runs as some run's). */
  readonly unroutedCalls: number;
  close(): Promise<void>;
}

/** The run a request of a shared stack belongs to, and that run's clock. */
interface RunScope {
  runId: string;
  clock: Clock;
}
const runScope = new AsyncLocalStorage<RunScope>();

/** The clock of the run whose request is in progress (the shared DecisionClock's base, read outside atDecisionTime only). */
const currentRunClock: Clock = {
  now() {
    const scope = runScope.getStore();
    if (!scope) throw new Error("shared model stack: the clock was read outside any run's request");
    return scope.clock.now();
  },
  observe() {},
};

/**
 * The cache a shared stack puts in front of its router when the runs'
 * config has none: in memory, exact only, for the stack's lifetime (the
 * sweep's), so a prompt a run sends is answered to the other runs that ask
 * it, however far apart in wall time they ask. TTL 0: an answer is served
 * only at the simulated instant it was made, so it stands in for exactly
 * the call the same prompt at the same decision time would have made; a
 * run never gets an answer from another time that alone it would have
 * asked again. Hits leave their own llm_calls rows (cache "exact", cost 0);
 * only cost metrics differ from a run alone, and digests exclude them.
 */
const SWEEP_MEMO: CacheConfig = parseCacheConfig({ enabled: true, backend: "memory", exact: true, semantic: { enabled: false }, ttlMs: { default: 0 } }, "sweep memo");

/** Runs whose configs give the same key can share one model stack; null: the config calls no model. */
export function sharedModelsKey(config: RunConfig): string | null {
  const routerConfig = resolveRouterConfig(config);
  if (!routerConfig) return null;
  return canonicalJson({ router: routerConfig, cache: config.cache?.enabled ? config.cache : null });
}

/** The shared stack for runs with this config's router and cache (sharedModelsKey), or null when it calls no model. */
export async function buildSharedModels(
  config: RunConfig,
  options: { env?: Readonly<Record<string, string | undefined>>; logger?: ModelStackOptions["logger"]; cacheMode?: CacheMode } = {},
): Promise<SharedModels | null> {
  const routerConfig = resolveRouterConfig(config);
  if (!routerConfig) return null;
  const callLog = new RunDispatchCallLog(() => runScope.getStore()?.runId);
  // Requests carry their decision time (atDecisionTime); outside one, the requesting run's own clock.
  const clock = new DecisionClock(currentRunClock);
  // --cache off leaves the persistent cache out; the in-memory memo still shares a sweep's identical requests (made at one instant).
  const persistent = cacheFor(config, options.cacheMode, undefined);
  const stack = await assemble(routerConfig, persistent ?? SWEEP_MEMO, {
    clock,
    callLog,
    ...(persistent && options.cacheMode && options.cacheMode !== "off" ? { cacheMode: options.cacheMode } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  if (!config.cache?.cassette) {
    try {
      await stack.router.preflight();
    } catch (error) {
      await stack.close().catch(() => undefined);
      throw error;
    }
  }
  const maxInFlight = maxInFlightFor(routerConfig);
  const transcripts = transcriptPolicy(config);
  return {
    forRun({ runId, clock: runClock, db }) {
      const log = DuckDbCallLog.ownConnection(db, runId, transcripts);
      callLog.attach(runId, log);
      const scope: RunScope = { runId, clock: runClock };
      const router: ForecastRouter = {
        complete: <T>(request: RouterRequest & { answer: AnswerSpec<T> }): Promise<RouterOutcome<T>> => runScope.run(scope, () => stack.front.complete(request)),
      };
      return {
        router,
        maxInFlight,
        stopReason: () => stack.router.runBudgetExhausted(),
        flush: () => log.flush(),
        async close() {
          try {
            await log.close();
          } finally {
            callLog.detach(runId);
          }
        },
      };
    },
    get unroutedCalls() {
      return callLog.unrouted.length;
    },
    close: () => stack.close(),
  };
}
