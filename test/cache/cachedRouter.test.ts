/** CachedRouter over the memory backend and a real Router whose one provider counts its calls. */
import { describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { MemoryCache } from "../../harness/cache/backends/memoryCache.ts";
import { hitRate } from "../../harness/cache/cacheStats.ts";
import { BagOfWordsEmbedder, CALL_COST_NUSD, CountingProvider, HOUR, T0, ask, makeCached } from "./helpers.ts";

const q1 = "Will BTC close above $100k on Nov 9? Price now 0.42, volume 1200, news: ETF inflows continue, funding rates neutral, open interest rising, options skew flat, miners selling less, macro calendar quiet this week";
const q1near = "Will BTC close above $100k on Nov 9? Price now 0.43, volume 1200, news: ETF inflows continue, funding rates neutral, open interest rising, options skew flat, miners selling less, macro calendar quiet this week";
const q2 = "Will the Lakers beat the Celtics tonight in Boston?";

describe("exact cache", () => {
  it("a repeated request is answered from the cache: same answer, provider, model, tier, cost 0, one provider call", async () => {
    const { cached, provider, log } = makeCached({ backend: "memory" });
    const first = await cached.complete({ task: "forecast", agent: "llm", messages: ask(q1), answer: forecastAnswer });
    const second = await cached.complete({ task: "forecast", agent: "llm", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(1);
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(first.costNusd).toBe(CALL_COST_NUSD);
    expect(second.costNusd).toBe(0);
    expect(second.answer).toEqual(first.answer);
    expect([second.provider, second.model, second.tier]).toEqual(["paid", "m1", "cheap"]);
    expect(second.callId).not.toBe(first.callId);
    expect(log.calls).toHaveLength(2);
    expect(log.calls[0]).toMatchObject({ cache: "miss", costNusd: CALL_COST_NUSD, inputTokens: 1000 });
    expect(log.calls[1]).toMatchObject({ callId: second.callId, cache: "exact", status: "ok", costNusd: 0, inputTokens: 0, outputTokens: 0, simTs: T0, agent: "llm", provider: "paid", model: "m1", tier: "cheap", attempts: 0 });
    expect(log.calls[1]?.latencyMs).toBeGreaterThanOrEqual(0);
    const stats = await cached.stats();
    expect(stats).toMatchObject({ exactHits: 1, semanticHits: 0, misses: 1, stores: 1, entries: 1, savedNusd: CALL_COST_NUSD });
    expect(hitRate(stats)).toBe(0.5);
  });

  it("a different prompt, temperature, seed, task or schema misses", async () => {
    const { cached, provider } = makeCached({ backend: "memory" });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    await cached.complete({ task: "forecast", messages: ask(q2), answer: forecastAnswer });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer, temperature: 0.7 });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer, seed: 7 });
    await cached.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(5);
    // The agent name does not change the answer's content: a hit.
    await cached.complete({ task: "forecast", agent: "other", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(5);
  });

  it("an entry expires after the task's TTL on the simulated clock, and each task has its own TTL", async () => {
    const { cached, provider, clock } = makeCached({ backend: "memory", ttlMs: { forecast: HOUR, screen: 10 * 60_000, default: HOUR } });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    await cached.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    clock.observe(T0 + 10 * 60_000); // exactly the screen TTL: still servable
    await cached.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(2);
    clock.observe(T0 + 10 * 60_000 + 1); // one ms past it
    await cached.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(3);
    clock.observe(T0 + HOUR);
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(3);
    clock.observe(T0 + HOUR + 1);
    const late = await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(4);
    expect(late.ok && late.costNusd).toBe(CALL_COST_NUSD);
  });

  it("never serves an answer created after the clock's now (a rerun at an earlier simulated time)", async () => {
    const backend = new MemoryCache();
    const laterProvider = new CountingProvider();
    laterProvider.calls = 50; // its answers differ from the earlier run's
    const later = makeCached({ backend: "memory" }, { backend, clock: new SimulatedClock(T0 + HOUR / 2), provider: laterProvider });
    const made = await later.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    // A second run sharing the backend, at an earlier simulated time.
    const earlier = makeCached({ backend: "memory" }, { backend, clock: new SimulatedClock(T0) });
    const seen = await earlier.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    expect(earlier.provider.calls).toBe(1);
    expect(earlier.log.calls[0]?.cache).toBe("miss");
    expect(seen.ok && made.ok).toBe(true);
    if (!seen.ok || !made.ok) return;
    expect(seen.answer.probability).not.toBe(made.answer.probability);
    // Both answers are kept; at T0 + 20 min the earlier run's own answer is the newest servable one.
    earlier.clock.observe(T0 + 20 * 60_000);
    const again = await earlier.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    expect(again.ok && seen.ok && again.answer).toEqual(seen.ok && seen.answer);
    expect(await backend.count()).toBe(2);
  });

  it("a stored answer that no longer passes the request's schema is not served", async () => {
    const { cached, provider, clock } = makeCached({ backend: "memory" });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    const stricter = { ...forecastAnswer, validate: forecastAnswer.validate.refine((a) => a.probability > 0.9, "probability must exceed 0.9") };
    clock.observe(T0 + 1);
    const outcome = await cached.complete({ task: "forecast", messages: ask(q1), answer: stricter });
    expect(provider.calls).toBe(2);
    expect(outcome.ok).toBe(false); // the provider's fresh answer fails the stricter check too
    expect((await cached.stats()).invalid).toBe(1);
  });

  it("identical requests in flight at once share one provider call", async () => {
    const { cached, provider, log } = makeCached({ backend: "memory" });
    const outcomes = await Promise.all([1, 2, 3].map(() => cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer })));
    expect(provider.calls).toBe(1);
    expect(new Set(outcomes.map((o) => (o.ok ? o.answer.probability : null))).size).toBe(1);
    expect(log.calls.map((c) => c.cache).sort()).toEqual(["exact", "exact", "miss"]);
  });

  it("disabled, it passes every request to the router", async () => {
    const { cached, provider } = makeCached({ enabled: false, backend: "memory" });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    expect(provider.calls).toBe(2);
  });

  it("caches plain-text answers too (the router's overload without a schema)", async () => {
    const { cached, provider } = makeCached({ backend: "memory" });
    const a = await cached.complete({ task: "forecast", messages: ask(q2) });
    const b = await cached.complete({ task: "forecast", messages: ask(q2) });
    expect(provider.calls).toBe(1);
    expect(a.ok && b.ok && typeof b.answer === "string" && b.answer === a.answer).toBe(true);
  });
});

describe("semantic cache", () => {
  const semantic = { backend: "memory" as const, semantic: { enabled: true, threshold: 0.95 } };

  it("serves a near-identical prompt at or above the threshold, not a different one", async () => {
    const embedder = new BagOfWordsEmbedder();
    const [a, b, c] = await embedder.embed([q1, q1near, q2]);
    const { cosine } = await import("../../harness/cache/semantic.ts");
    expect(cosine(a!, b!)).toBeGreaterThanOrEqual(0.95);
    expect(cosine(a!, c!)).toBeLessThan(0.5);

    const { cached, provider, log, clock } = makeCached(semantic, { embedder });
    const first = await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    clock.observe(T0 + 1);
    const near = await cached.complete({ task: "forecast", messages: ask(q1near), answer: forecastAnswer });
    expect(provider.calls).toBe(1);
    expect(near.ok && first.ok && near.answer).toEqual(first.ok && first.answer);
    expect(log.calls[1]).toMatchObject({ cache: "semantic", costNusd: 0, provider: "paid" });
    await cached.complete({ task: "forecast", messages: ask(q2), answer: forecastAnswer });
    expect(provider.calls).toBe(2);
    expect(await cached.stats()).toMatchObject({ exactHits: 0, semanticHits: 1, misses: 2 });
  });

  it("an answer made at the same simulated instant is not served semantically (exact still is)", async () => {
    const { cached, provider, log, clock } = makeCached(semantic, { embedder: new BagOfWordsEmbedder() });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    await cached.complete({ task: "forecast", messages: ask(q1near), answer: forecastAnswer }); // same instant: a miss
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer }); // same instant, same key: an exact hit
    expect(provider.calls).toBe(2);
    clock.observe(T0 + 1);
    const q1far = q1near.replace("0.43", "0.44");
    await cached.complete({ task: "forecast", messages: ask(q1far), answer: forecastAnswer });
    expect(provider.calls).toBe(2);
    expect(log.calls.map((c) => c.cache)).toEqual(["miss", "miss", "exact", "semantic"]);
  });

  it("below the threshold it misses (threshold above the pair's similarity)", async () => {
    const embedder = new BagOfWordsEmbedder();
    const [a, b] = await embedder.embed([q1, q1near]);
    const { cosine } = await import("../../harness/cache/semantic.ts");
    const similarity = cosine(a!, b!);
    const { cached, provider, clock } = makeCached({ backend: "memory", semantic: { enabled: true, threshold: Math.min(1, similarity + 1e-6) } }, { embedder });
    await cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    clock.observe(T0 + 1);
    await cached.complete({ task: "forecast", messages: ask(q1near), answer: forecastAnswer });
    expect(provider.calls).toBe(2);
  });

  it("applies only to the tasks named, and not to prompts shorter than minChars", async () => {
    const embedder = new BagOfWordsEmbedder();
    const { cached, provider } = makeCached({ backend: "memory", semantic: { enabled: true, tasks: ["screen"], minChars: 1000 } }, { embedder });
    await cached.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    await cached.complete({ task: "screen", messages: ask(q1near), answer: forecastAnswer });
    expect(provider.calls).toBe(2); // shorter than 1000 characters
    expect(embedder.calls).toBe(0);
    const { cached: c2, provider: p2, clock: clock2 } = makeCached({ backend: "memory", semantic: { enabled: true, tasks: ["screen"] } }, { embedder });
    await c2.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    clock2.observe(T0 + 1);
    await c2.complete({ task: "forecast", messages: ask(q1near), answer: forecastAnswer });
    expect(p2.calls).toBe(2); // forecast is not a semantic task
    await c2.complete({ task: "screen", messages: ask(q1), answer: forecastAnswer });
    clock2.observe(T0 + 2);
    await c2.complete({ task: "screen", messages: ask(q1near), answer: forecastAnswer });
    expect(p2.calls).toBe(3);
  });

  it("a semantic match created after now is never served", async () => {
    const embedder = new BagOfWordsEmbedder();
    const backend = new MemoryCache();
    const later = makeCached(semantic, { embedder, backend, clock: new SimulatedClock(T0 + 60_000) });
    await later.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    const earlier = makeCached(semantic, { embedder, backend, clock: new SimulatedClock(T0) });
    await earlier.cached.complete({ task: "forecast", messages: ask(q1near), answer: forecastAnswer });
    expect(earlier.provider.calls).toBe(1);
  });

  it("refuses to start semantic matching without an embedder", () => {
    expect(() => makeCached(semantic)).toThrow(/no embedder/);
  });
});

describe("cassette mode", () => {
  it("answers from the cache and never calls a provider; a miss is a cache_miss outcome with a row", async () => {
    const backend = new MemoryCache();
    const recording = makeCached({ backend: "memory" }, { backend });
    const recorded = await recording.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });

    const playback = makeCached({ backend: "memory", cassette: true }, { backend });
    const hit = await playback.cached.complete({ task: "forecast", messages: ask(q1), answer: forecastAnswer });
    const miss = await playback.cached.complete({ task: "forecast", messages: ask(q2), answer: forecastAnswer });
    expect(playback.provider.calls).toBe(0);
    expect(hit.ok && recorded.ok && hit.answer).toEqual(recorded.ok && recorded.answer);
    expect(miss).toMatchObject({ ok: false, errorClass: "cache_miss" });
    expect(playback.log.calls.map((c) => [c.cache, c.status, c.errorClass ?? null, c.costNusd])).toEqual([
      ["exact", "ok", null, 0],
      ["miss", "error", "cache_miss", 0],
    ]);
  });
});
