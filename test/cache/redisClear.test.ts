/**
 * `tapedeck cache clear` on Redis deletes the keys of its own prefix only,
 * even when the prefix holds glob characters (SCAN MATCH would read
 * `team*:` as a pattern and delete the cache of `teamB:` too).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CacheEntry } from "../../harness/cache/cache.ts";
import { RedisCache } from "../../harness/cache/backends/redisCache.ts";
import { T0, redisForTests, type RedisHandle } from "./helpers.ts";

const entry = (key: string): CacheEntry => ({
  key,
  task: "forecast",
  scope: "s",
  createdAt: T0,
  embedding: null,
  outcome: {
    answer: { probability: 0.4, confidence: 0.5, rationale: "r" },
    result: { text: "{}", usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 }, latencyMs: 1, ttftMs: 1, finishReason: "stop" },
    provider: "p",
    model: "m",
    tier: "cheap",
    costNusd: 1,
  },
});

describe("Redis cache clear", () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await redisForTests();
  });
  afterAll(async () => redis?.stop());

  it("leaves other prefixes alone, glob characters included", async () => {
    const run = Date.now();
    const globby = await RedisCache.open(redis.url, `t${run}:team*:`);
    const [other, bracket] = await Promise.all([RedisCache.open(redis.url, `t${run}:teamB:`), RedisCache.open(redis.url, `t${run}:[t]eam:`)]);
    try {
      await globby.put(entry("k1"));
      await other.put(entry("k2"));
      await bracket.put(entry("k3"));
      expect(await globby.clear()).toBe(1);
      expect(await globby.count()).toBe(0);
      expect(await other.count()).toBe(1);
      expect(await bracket.clear()).toBe(1);
      expect(await other.count()).toBe(1);
      expect(await other.getExact("k2", { from: T0, to: T0 })).toBeDefined();
    } finally {
      await Promise.all([globby.close(), other.close(), bracket.close()]);
    }
  });
});
