/**
 * The cache a sweep's workers put in front of their routers: one cache for
 * all of them, on the queue's Redis, so a prompt any worker asked is answered
 * to the others, and two workers missing on it at once pay for it once (the
 * Redis backend's per-key claim, cachedRouter.ts). It mirrors what the
 * in-process sweep shares between its leaders (modelStack.ts):
 * - a config with a Redis cache keeps it as configured;
 * - a config with a cache of one process (memory, DuckDB file) keeps its
 *   policy (TTLs, exact, semantic) on Redis, under the sweep's own prefix;
 * - a config with no cache gets the sweep memo: exact, TTL 0 (an answer is
 *   served only at the simulated instant it was made, so it stands in for
 *   exactly the call the other run would have made), for this sweep only.
 * The run's stored config is unchanged: the cache is not the experiment.
 *
 * `sweep --cache <mode>` applies to the config's own cache, as in-process
 * (modelStack.ts buildSharedModels): off leaves it out, and the sweep memo
 * (which always shares, whatever the mode) stands in; refresh and read-only
 * change how the shared cache is used. The memo itself is used as "on".
 */
import { parseCacheConfig, type CacheConfig } from "../cache/cacheConfig.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import type { RunConfig } from "../../strategies/runConfig.ts";

export interface WorkerCache {
  cache: CacheConfig;
  /** TAPEDECK_REDIS_URL for the cache (a URL with a password never goes into a config). */
  redisUrl: string;
  /** How the run uses `cache` (never "off": off means the memo, used as "on"). */
  mode: Exclude<CacheMode, "off">;
}

export function workerCache(
  config: RunConfig,
  sweepId: string,
  queueUrl: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cacheMode: CacheMode = "on",
): WorkerCache {
  const own = cacheMode === "off" ? undefined : config.cache;
  const mode = cacheMode === "off" ? "on" : cacheMode;
  if (own?.enabled && own.backend === "redis") return { cache: own, redisUrl: env["TAPEDECK_REDIS_URL"] ?? queueUrl, mode };
  if (own?.enabled) {
    const { path: _path, url: _url, ...policy } = own;
    return { cache: parseCacheConfig({ ...policy, backend: "redis", prefix: `tapedeck:sweep:${sweepId}:cache:` }, "sweep cache"), redisUrl: queueUrl, mode };
  }
  return {
    cache: parseCacheConfig({ enabled: true, backend: "redis", exact: true, semantic: { enabled: false }, ttlMs: { default: 0 }, prefix: `tapedeck:sweep:${sweepId}:memo:` }, "sweep memo"),
    redisUrl: queueUrl,
    mode: "on",
  };
}
