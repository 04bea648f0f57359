/**
 * Every cache backend, fresh on each call of its factory: memory, a real
 * DuckDB file in a temp folder, and a real redis-server on loopback. Call it
 * at the top of a test file: it registers the hooks that start Redis and
 * clean up the folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import type { CacheBackend } from "../../harness/cache/cache.ts";
import { MemoryCache } from "../../harness/cache/backends/memoryCache.ts";
import { DuckDbCache } from "../../harness/cache/backends/duckdbCache.ts";
import { RedisCache } from "../../harness/cache/backends/redisCache.ts";
import { redisForTests, type RedisHandle } from "./helpers.ts";

export function everyBackend(prefix: string): { dir: string; backends: Array<[string, () => Promise<CacheBackend>]> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await redisForTests();
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    backends: [
      ["memory", async () => new MemoryCache()],
      ["duckdb", () => DuckDbCache.open(join(dir, `${randomUUID()}.duckdb`))],
      // A fresh prefix per backend, so runs against CI's shared server never see each other's entries.
      ["redis", () => RedisCache.open(redis.url, `tapedeck-test:${randomUUID()}:`)],
    ],
  };
}
