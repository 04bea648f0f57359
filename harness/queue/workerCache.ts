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
 */
import { parseCacheConfig, type CacheConfig } from "../cache/cacheConfig.ts";
import type { RunConfig } from "../../strategies/runConfig.ts";

export interface WorkerCache {
  cache: CacheConfig;
  /** TAPEDECK_REDIS_URL for the cache (a URL with a password never goes into a config). */
  redisUrl: string;
}

export function workerCache(config: RunConfig, sweepId: string, queueUrl: string, env: Readonly<Record<string, string | undefined>> = process.env): WorkerCache {
  const own = config.cache;
  if (own?.enabled && own.backend === "redis") return { cache: own, redisUrl: env["TAPEDECK_REDIS_URL"] ?? queueUrl };
  if (own?.enabled) {
    const { path: _path, url: _url, ...policy } = own;
    return { cache: parseCacheConfig({ ...policy, backend: "redis", prefix: `tapedeck:sweep:${sweepId}:cache:` }, "sweep cache"), redisUrl: queueUrl };
  }
  return {
    cache: parseCacheConfig({ enabled: true, backend: "redis", exact: true, semantic: { enabled: false }, ttlMs: { default: 0 }, prefix: `tapedeck:sweep:${sweepId}:memo:` }, "sweep memo"),
    redisUrl: queueUrl,
  };
}
