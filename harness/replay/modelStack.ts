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
import { DuckDbCallLog, type CallLog, type CallRecord } from "../router/callLog.ts";
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
  /** Write buffered llm_calls rows (part of every checkpoint). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ModelStackOptions {
  clock: Clock;
  db: Db;
  runId: string;
  /** True while a resumed run replays events whose rows are already stored: their calls are not logged again. */
  muted: () => boolean;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: (level: "info" | "warn", message: string, fields?: Readonly<Record<string, unknown>>) => void;
}

/** Drops records while muted, so a resumed run does not log the same call twice. */
class GatedCallLog implements CallLog {
  constructor(
    private readonly inner: CallLog,
    private readonly muted: () => boolean,
  ) {}
  record(call: CallRecord): void {
    if (!this.muted()) this.inner.record(call);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
}

export function resolveRouterConfig(config: RunConfig): RouterConfig | undefined {
  if (config.router === undefined) return undefined;
  if (typeof config.router === "string") return loadRouterConfig(resolve(config.router));
  return config.router as RouterConfig;
}

/** The stack of a run that calls no model. */
export const NO_MODELS: ModelStack = { router: undefined, flush: async () => {}, close: async () => {} };

export async function buildModelStack(config: RunConfig, options: ModelStackOptions): Promise<ModelStack> {
  const routerConfig = resolveRouterConfig(config);
  if (!routerConfig) return NO_MODELS;
  const callLog = new DuckDbCallLog(options.db.connection, options.runId);
  const gated = new GatedCallLog(callLog, options.muted);
  const router: Router = buildRouter(routerConfig, {
    clock: options.clock,
    callLog: gated,
    baseDir: process.cwd(),
    ...(options.env ? { env: options.env } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
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
        clock: options.clock,
        callLog: gated,
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
