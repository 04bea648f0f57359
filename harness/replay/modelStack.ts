/**
 * The model side of a run, for configs whose strategy calls models: the
 * router built from the config (API keys read from the environment by name),
 * its call log writing llm_calls rows for this run, and later layers in
 * front of it. Live trading builds the same stack with the wall clock.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../clock/clock.ts";
import type { Db } from "../db/duckdb.ts";
import { DuckDbCallLog } from "../router/callLog.ts";
import { CallJournal, loadSpentRows } from "../router/callJournal.ts";
import { DecisionClock } from "../clock/decisionTime.ts";
import { buildRouter, loadRouterConfig, type RouterConfig } from "../router/routerConfig.ts";
import type { Router } from "../router/router.ts";
import type { RunConfig } from "../../strategies/runConfig.ts";
import type { ForecastRouter } from "../../strategies/llmForecaster.ts";
import { buildCachedRouter } from "../cache/openCache.ts";
import type { CachedRouter } from "../cache/cachedRouter.ts";
import { LocalModelProvider } from "../../providers/llamaCpp.ts";

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
  env?: Readonly<Record<string, string | undefined>>;
  logger?: (level: "info" | "warn", message: string, fields?: Readonly<Record<string, unknown>>) => void;
}

export function resolveRouterConfig(config: RunConfig): RouterConfig | undefined {
  if (config.router === undefined) return undefined;
  if (typeof config.router === "string") return loadRouterConfig(resolve(config.router));
  return config.router as RouterConfig;
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
  const routerConfig = resolveRouterConfig(config);
  if (!routerConfig) return NO_MODELS;
  const callLog = new DuckDbCallLog(options.db.connection, options.runId);
  // Each request reads its decision's simulated time (harness/clock/decisionTime.ts), whatever else is in flight.
  const clock = new DecisionClock(options.clock);
  const journal = options.resume ? await CallJournal.load(options.db.connection, options.runId) : undefined;
  const router: Router = buildRouter(routerConfig, {
    clock,
    callLog,
    ...(journal ? { journal } : {}),
    baseDir: process.cwd(),
    ...(options.env ? { env: options.env } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  if (options.resume) {
    const upTo = options.resume.storedUpTo;
    router.budget.seedSpent((await loadSpentRows(options.db.connection, options.runId)).filter((r) => r.simTs <= upTo));
  }
  let cached: CachedRouter | null = null;
  let ownEmbedder: LocalModelProvider | null = null;
  try {
    if (config.cache?.enabled) {
      let embedder = router.embedder();
      if (!embedder && config.cache.semantic.enabled) {
        // No local model among the router's endpoints: embed with the bundled one (loaded lazily, on the first lookup).
        ownEmbedder = new LocalModelProvider({ name: "embedder", modelPath: BUNDLED_MODEL });
        embedder = ownEmbedder;
      }
      cached = await buildCachedRouter(router, config.cache, {
        clock,
        callLog,
        routerConfig,
        baseDir: process.cwd(),
        ...(embedder ? { embedder } : {}),
        ...(options.env ? { env: options.env } : {}),
      });
    }
  } catch (error) {
    await ownEmbedder?.dispose();
    await router.close();
    throw error;
  }
  return {
    router: cached ?? router,
    maxInFlight: maxInFlightFor(routerConfig),
    stopReason: () => router.runBudgetExhausted(),
    flush: () => callLog.flush(),
    async close() {
      // Each step runs even when one before it fails: a local model left loaded would keep the process alive.
      try {
        await callLog.close();
      } finally {
        try {
          await cached?.close();
        } finally {
          try {
            await ownEmbedder?.dispose();
          } finally {
            await router.close();
          }
        }
      }
    },
  };
}
