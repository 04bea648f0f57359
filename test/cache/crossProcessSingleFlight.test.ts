/**
 * Single flight across processes on the Redis backend: two cache fronts with
 * their own Redis connections and their own providers (two workers of a
 * sweep) that miss on the same prompt at the same moment pay for it once:
 * one holds the key's claim and asks, the other waits for its entry. A
 * holder whose call fails lets the claim go, and the waiting one asks itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { RedisCache } from "../../harness/cache/backends/redisCache.ts";
import { FAIL_ONCE, ScriptedProvider, ask, makeCached, redisForTests, type RedisHandle } from "./helpers.ts";

describe("Redis cache: one provider call for a prompt two processes miss at once", () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await redisForTests();
  });
  afterAll(async () => redis?.stop());

  const twoWorkers = async (prefix: string) => {
    const fronts = [];
    for (let i = 0; i < 2; i++) {
      const backend = await RedisCache.open(redis.url, prefix);
      fronts.push(makeCached({ backend: "redis", semantic: { enabled: false } }, { backend, provider: new ScriptedProvider(() => 40) }));
    }
    return fronts;
  };

  it("asks once and serves the other process the same answer", async () => {
    const [a, b] = await twoWorkers(`test:sf:${Date.now()}:`);
    const request = { task: "forecast", messages: ask("Will it rain in Paris on Nov 9? Price now 0.31."), answer: forecastAnswer };
    const [ra, rb] = await Promise.all([a!.cached.complete(request), b!.cached.complete(request)]);
    expect(a!.provider.calls + b!.provider.calls).toBe(1);
    expect(ra.ok && rb.ok).toBe(true);
    if (ra.ok && rb.ok) expect(ra.answer).toEqual(rb.answer);
    const caches = [...a!.log.calls, ...b!.log.calls].map((r) => r.cache).sort();
    expect(caches).toEqual(["exact", "miss"]);
    await Promise.all([a!.cached.close(), b!.cached.close()]);
  });

  it("lets the waiting process ask when the holder's call fails", async () => {
    const [a, b] = await twoWorkers(`test:sf-fail:${Date.now()}:`);
    const request = { task: "forecast", messages: ask(`Will it snow in Oslo on Nov 9? ${FAIL_ONCE} price 0.70.`), answer: forecastAnswer };
    const outcomes = await Promise.all([a!.cached.complete(request), b!.cached.complete(request)]);
    // Each provider fails its first ask of this prompt: the holder's failure stores nothing, the other asks its own provider.
    expect(a!.provider.calls + b!.provider.calls).toBe(2);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    await Promise.all([a!.cached.close(), b!.cached.close()]);
  });

  it("a release the server never gets is not an error (the claim expires by itself)", async () => {
    const backend = await RedisCache.open(redis.url, `test:sf-release:${Date.now()}:`);
    const claim = await backend.claim("k");
    expect(claim).not.toBeNull();
    await backend.close(); // the connection is gone before the holder lets go
    await expect(claim!.release()).resolves.toBeUndefined();
  });
});
