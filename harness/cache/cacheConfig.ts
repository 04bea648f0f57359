/**
 * The response cache's settings, as they appear in a run config:
 *
 * { "enabled": true, "backend": "duckdb", "path": "reports/cache.duckdb",
 *   "exact": true, "semantic": { "enabled": false, "threshold": 0.95, "minChars": 40, "tasks": ["screen"] },
 *   "ttlMs": { "forecast": 3600000, "screen": 600000, "default": 3600000 }, "cassette": false }
 *
 * TTLs are run-clock milliseconds (simulated in replay). Semantic matching is
 * off by default: two market prompts that differ only in the price embed
 * almost identically, so a semantic hit can serve a forecast made at another
 * price; turn it on per task where that is acceptable (screening, news triage).
 */
import { z } from "zod";

export const DEFAULT_CACHE_PATH = "reports/cache.duckdb";

const ttl = z.number().int().nonnegative();

export const cacheConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    backend: z.enum(["memory", "duckdb", "redis"]).default("duckdb"),
    /** DuckDB file (backend duckdb). */
    path: z.string().min(1).optional(),
    /** redis:// URL (backend redis); TAPEDECK_REDIS_URL when absent. */
    url: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      // Configs are stored with every run: a password belongs in TAPEDECK_REDIS_URL, never here.
      .refine((u) => !/^rediss?:\/\/[^/@]*:[^/@]*@/.test(u), "must not carry a password (set TAPEDECK_REDIS_URL instead)")
      .optional(),
    /** Key prefix in Redis, so several projects can share a server. */
    prefix: z.string().optional(),
    exact: z.boolean().default(true),
    semantic: z
      .object({
        enabled: z.boolean().default(false),
        threshold: z.number().min(-1).max(1).default(0.95),
        /** Prompts shorter than this (characters of user text) are not matched semantically. */
        minChars: z.number().int().nonnegative().default(0),
        /** Tasks semantic matching applies to; all tasks when absent. */
        tasks: z.array(z.string()).optional(),
      })
      .strict()
      .default({ enabled: false, threshold: 0.95, minChars: 0 }),
    /** TTL per task; "default" covers tasks not named. */
    ttlMs: z.record(z.string(), ttl).default({ default: 3_600_000 }),
    /** Answer only from the cache; a miss is an error outcome and no provider is ever called. */
    cassette: z.boolean().default(false),
  })
  .strict();

export type CacheConfigInput = z.input<typeof cacheConfigSchema>;
export type CacheConfig = z.output<typeof cacheConfigSchema>;

export function parseCacheConfig(json: unknown, source = "cache config"): CacheConfig {
  const parsed = cacheConfigSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The TTL of a task: its own, else "default", else one hour. */
export function ttlFor(config: Pick<CacheConfig, "ttlMs">, task: string): number {
  return config.ttlMs[task] ?? config.ttlMs["default"] ?? 3_600_000;
}

export function semanticApplies(config: Pick<CacheConfig, "semantic">, task: string): boolean {
  return config.semantic.enabled && (config.semantic.tasks === undefined || config.semantic.tasks.includes(task));
}
