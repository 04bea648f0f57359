/**
 * Every backend against the same contract: the servable window, several
 * answers per key, first write wins, semantic candidates, and the cache in
 * front of the router never serving an answer made after the clock's now.
 * DuckDB is a real file; Redis is a real redis-server on loopback.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { CacheEntry } from "../../harness/cache/cache.ts";
import { DuckDbCache } from "../../harness/cache/backends/duckdbCache.ts";
import { RedisCache } from "../../harness/cache/backends/redisCache.ts";
import { toFloat32 } from "../../harness/cache/semantic.ts";
import { BagOfWordsEmbedder, CountingProvider, HOUR, T0, ask, makeCached, redisForTests } from "./helpers.ts";
import { everyBackend } from "./everyBackend.ts";

const { dir, backends } = everyBackend("tapedeck-cache-");

function entry(key: string, createdAt: number, probability: number, extra: Partial<CacheEntry> = {}): CacheEntry {
  return {
    key,
    task: "forecast",
    scope: "s",
    createdAt,
    embedding: null,
    outcome: {
      answer: { probability, confidence: 0.5, rationale: "r" },
      result: { text: "{}", usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0 }, latencyMs: 3, ttftMs: 3, finishReason: "stop" },
      provider: "paid",
      model: "m1",
      tier: "cheap",
      costNusd: 1200,
    },
    ...extra,
  };
}

describe.each(backends)("%s backend", (_name, open) => {
  it("serves an entry only inside the window [from, to], the newest one first", async () => {
    const b = await open();
    try {
      await b.put(entry("k", T0 + 10, 0.1));
      expect(await b.getExact("k", { from: T0 - HOUR, to: T0 })).toBeUndefined(); // created after `to`: the future
      expect((await b.getExact("k", { from: T0, to: T0 + 10 }))?.outcome.answer).toEqual({ probability: 0.1, confidence: 0.5, rationale: "r" });
      expect(await b.getExact("k", { from: T0 + 11, to: T0 + HOUR })).toBeUndefined(); // older than `from`: expired
      // An earlier answer to the same key, added later (a rerun at an earlier simulated time): both are kept.
      await b.put(entry("k", T0 - 5, 0.2));
      expect((await b.getExact("k", { from: T0 - HOUR, to: T0 }))?.createdAt).toBe(T0 - 5);
      expect((await b.getExact("k", { from: T0 - HOUR, to: T0 + HOUR }))?.createdAt).toBe(T0 + 10);
      expect(await b.getExact("other", { from: T0 - HOUR, to: T0 + HOUR })).toBeUndefined();
      expect(await b.count()).toBe(2);
    } finally {
      await b.close();
    }
  });

  it("replace (--cache refresh) overwrites the answer at that key and time; clear empties only this cache", async () => {
    const b = await open();
    try {
      await b.put(entry("k", T0, 0.3, { embedding: toFloat32([1, 0]) }));
      await b.put(entry("j", T0, 0.4));
      await b.put(entry("k", T0, 0.7, { embedding: toFloat32([1, 0]) }), { replace: true });
      expect((await b.getExact("k", { from: T0, to: T0 }))?.outcome.answer).toMatchObject({ probability: 0.7 });
      expect(await b.count()).toBe(2);
      const candidates = await b.candidates("forecast", "s", { from: T0, to: T0 });
      expect(candidates.map((c) => (c.outcome.answer as { probability: number }).probability)).toEqual([0.7]);
      expect(await b.clear()).toBe(2);
      expect(await b.count()).toBe(0);
      expect(await b.getExact("k", { from: T0, to: T0 })).toBeUndefined();
    } finally {
      await b.close();
    }
  });

  it("keeps the first answer written for a key at a given time", async () => {
    const b = await open();
    try {
      await b.put(entry("k", T0, 0.3));
      await b.put(entry("k", T0, 0.9));
      const got = await b.getExact("k", { from: T0, to: T0 });
      expect(got?.outcome.answer).toMatchObject({ probability: 0.3 });
      expect(got?.outcome.result).toEqual(entry("k", T0, 0.3).outcome.result);
      expect(await b.count()).toBe(1);
    } finally {
      await b.close();
    }
  });

  it("lists semantic candidates of one task and scope, with embeddings, inside the window, newest first", async () => {
    const b = await open();
    const v = toFloat32([0.1, 0.2, 0.3]);
    try {
      await b.put(entry("a", T0 - 2, 0.1, { embedding: v }));
      await b.put(entry("b", T0 - 1, 0.2, { embedding: v }));
      await b.put(entry("c", T0 + 1, 0.3, { embedding: v })); // future
      await b.put(entry("d", T0, 0.4)); // no embedding
      await b.put(entry("e", T0, 0.5, { embedding: v, scope: "other" }));
      await b.put(entry("f", T0, 0.6, { embedding: v, task: "screen" }));
      const found = await b.candidates("forecast", "s", { from: T0 - HOUR, to: T0 });
      expect(found.map((e) => e.key)).toEqual(["b", "a"]);
      expect(found[0]?.embedding).toEqual(v); // float32 values come back exactly
    } finally {
      await b.close();
    }
  });

  it("in front of the router: a later run's answer is never served at an earlier simulated time, exact or semantic", async () => {
    const b = await open();
    const embedder = new BagOfWordsEmbedder();
    const config = { backend: "memory" as const, semantic: { enabled: true, threshold: 0.95 } };
    const prompt = "Will ETH close above $4,000 on Nov 9? Price now 0.31, volume 800, funding neutral, open interest rising, skew flat, news quiet";
    const near = prompt.replace("0.31", "0.32");
    try {
      const laterProvider = new CountingProvider();
      laterProvider.calls = 50;
      const later = makeCached(config, { backend: b, embedder, clock: new SimulatedClock(T0 + HOUR / 2), provider: laterProvider });
      const made = await later.cached.complete({ task: "forecast", messages: ask(prompt), answer: forecastAnswer });
      expect(made.ok).toBe(true);

      const earlier = makeCached(config, { backend: b, embedder, clock: new SimulatedClock(T0) });
      const exact = await earlier.cached.complete({ task: "forecast", messages: ask(prompt), answer: forecastAnswer });
      expect(earlier.provider.calls).toBe(1); // not served from the future: asked the provider
      expect(exact.ok && made.ok && exact.answer.probability !== made.answer.probability).toBe(true);
      earlier.clock.observe(T0 + 1); // the semantic cache serves only answers made strictly before now
      const semantic = await earlier.cached.complete({ task: "forecast", messages: ask(near), answer: forecastAnswer });
      // The near prompt matches the earlier run's own answer (made at T0), never the later one.
      expect(earlier.provider.calls).toBe(1);
      expect(semantic.ok && exact.ok && semantic.answer).toEqual(exact.ok && exact.answer);
      expect(earlier.log.calls.map((c) => c.cache)).toEqual(["miss", "semantic"]);

      // Once the clock passes the later answer's creation time, it is the newest servable one.
      earlier.clock.observe(T0 + HOUR / 2);
      const after = await earlier.cached.complete({ task: "forecast", messages: ask(prompt), answer: forecastAnswer });
      expect(after.ok && made.ok && after.answer).toEqual(made.ok && made.answer);
      expect(earlier.provider.calls).toBe(1);
    } finally {
      await b.close();
    }
  });
});

describe("duckdb backend, bad rows", () => {
  it("a corrupt stored answer is an error naming the file, key and field", async () => {
    const path = join(dir, "corrupt.duckdb");
    const cache = await DuckDbCache.open(path);
    await cache.close();
    const { openDb } = await import("../../harness/db/duckdb.ts");
    const db = await openDb(path);
    await db.connection.run(`INSERT INTO cache_entries VALUES ('badkey', 'forecast', 's', ${T0}, NULL, '{"answer": 1, "provider": "p"}')`);
    db.close();
    const reopened = await DuckDbCache.open(path);
    try {
      await expect(reopened.getExact("badkey", { from: T0, to: T0 })).rejects.toThrow(/corrupt\.duckdb key badkey[\s\S]*model/);
    } finally {
      await reopened.close();
    }
  });
});

describe("redis backend, clear", () => {
  it("matches its prefix literally: a glob character in it never reaches another cache's keys; an empty prefix is refused", async () => {
    const redis = await redisForTests();
    const globbed = await RedisCache.open(redis.url, "tc[ab]:");
    const other = await RedisCache.open(redis.url, "tca:");
    const bare = await RedisCache.open(redis.url, "");
    try {
      await globbed.put(entry("k", T0, 0.1));
      await other.put(entry("k", T0, 0.2));
      expect(await globbed.clear()).toBe(1);
      expect(await globbed.count()).toBe(0);
      expect(await other.count()).toBe(1); // "tc[ab]:*" as a glob would have matched "tca:…"
      await expect(bare.clear()).rejects.toThrow(/empty prefix/);
      expect(await other.count()).toBe(1);
    } finally {
      await Promise.all([globbed.close(), other.close(), bare.close()]);
      await redis.stop();
    }
  });
});
