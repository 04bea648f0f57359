/**
 * From a cache config to a working cache: the backend it names, opened
 * (relative paths against baseDir; the Redis URL from the config or
 * TAPEDECK_REDIS_URL), and the CachedRouter in front of a router.
 * The caller owns the result and closes it (CachedRouter.close closes the backend).
 */
import { resolve } from "node:path";
import type { Clock } from "../clock/clock.ts";
import type { CallLog } from "../router/callLog.ts";
import type { RouterConfig } from "../router/routerConfig.ts";
import type { CacheBackend } from "./cache.ts";
import { DEFAULT_CACHE_PATH, parseCacheConfig, type CacheConfig, type CacheConfigInput } from "./cacheConfig.ts";
import { CachedRouter, type CompletingRouter } from "./cachedRouter.ts";
import { DuckDbCache } from "./backends/duckdbCache.ts";
import { MemoryCache } from "./backends/memoryCache.ts";
import { RedisCache } from "./backends/redisCache.ts";
import { routeScopes } from "./routeScope.ts";
import type { Embedder } from "./semantic.ts";
import type { CacheMode } from "./cacheMode.ts";

export interface OpenCacheOptions {
  baseDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function openCacheBackend(config: CacheConfig, options: OpenCacheOptions = {}): Promise<CacheBackend> {
  switch (config.backend) {
    case "memory":
      return new MemoryCache();
    case "duckdb":
      return DuckDbCache.open(resolve(options.baseDir ?? process.cwd(), config.path ?? DEFAULT_CACHE_PATH));
    case "redis": {
      const url = config.url ?? (options.env ?? process.env)["TAPEDECK_REDIS_URL"];
      if (!url) throw new Error("cache: backend redis needs a url (cache.url or TAPEDECK_REDIS_URL)");
      return RedisCache.open(url, config.prefix);
    }
  }
}

export interface CachedRouterDeps extends OpenCacheOptions {
  clock: Pick<Clock, "now">;
  callLog: CallLog;
  embedder?: Embedder;
  /** The router's config, for per-task scopes; without it answers are scoped by task only. */
  routerConfig?: RouterConfig;
  /** `--cache`: on (default), refresh or read-only ("off" builds no cache at all). */
  mode?: Exclude<CacheMode, "off">;
}

/** Validate the config, open its backend and put the cache in front of `inner`. */
export async function buildCachedRouter(inner: CompletingRouter, cacheConfig: CacheConfigInput | CacheConfig, deps: CachedRouterDeps): Promise<CachedRouter> {
  const config = parseCacheConfig(cacheConfig);
  if (config.enabled && config.semantic.enabled && !deps.embedder) {
    throw new Error("cache: semantic matching is enabled but no embedder was given (set semantic.enabled false, or pass the local provider)");
  }
  const backend = config.enabled ? await openCacheBackend(config, deps) : new MemoryCache();
  return new CachedRouter({
    inner,
    backend,
    config,
    clock: deps.clock,
    callLog: deps.callLog,
    ...(deps.embedder ? { embedder: deps.embedder } : {}),
    ...(deps.routerConfig ? { scopeFor: routeScopes(deps.routerConfig) } : {}),
    ...(deps.mode ? { mode: deps.mode } : {}),
  });
}
