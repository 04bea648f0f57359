/** Property tests of the cache's pure parts: the visibility rule, the window, key canonicalisation, cosine. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isServable, servableWindow } from "../../harness/cache/visibility.ts";
import { canonicalJson, exactKey } from "../../harness/cache/exactKey.ts";
import { bestMatch, cosine, toFloat32 } from "../../harness/cache/semantic.ts";
import { parseCacheConfig, ttlFor } from "../../harness/cache/cacheConfig.ts";
import type { CacheEntry } from "../../harness/cache/cache.ts";

const time = fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 });
const ttl = fc.integer({ min: 0, max: 30 * 86_400_000 });

describe("visibility", () => {
  it("an entry is servable iff it lies in the window, and never when made after now", () => {
    fc.assert(
      fc.property(time, time, ttl, (createdAt, now, ttlMs) => {
        const w = servableWindow(now, ttlMs);
        const inWindow = createdAt >= w.from && createdAt <= w.to;
        expect(isServable(createdAt, now, ttlMs)).toBe(inWindow);
        if (createdAt > now) expect(isServable(createdAt, now, ttlMs)).toBe(false);
      }),
    );
  });
});

describe("exact key", () => {
  it("does not depend on object key order, and changes with any message", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.boolean())), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const k = (content: string) => exactKey({ task: "t", scope: "s", messages: [{ role: "user", content }] });
        expect(k(a) === k(b)).toBe(a === b);
      }),
    );
  });

  it("ignores undefined members (an absent temperature equals an undefined one)", () => {
    const m = [{ role: "user" as const, content: "x" }];
    expect(exactKey({ task: "t", scope: "s", messages: m })).toBe(exactKey({ task: "t", scope: "s", messages: m, temperature: undefined }));
    expect(exactKey({ task: "t", scope: "s", messages: m, temperature: 0 })).not.toBe(exactKey({ task: "t", scope: "s", messages: m }));
  });
});

describe("cosine and best match", () => {
  const vec = fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 3, maxLength: 3 });
  it("lies in [-1, 1], is symmetric and scale-free", () => {
    fc.assert(
      fc.property(vec, vec, fc.double({ min: 0.1, max: 100, noNaN: true }), (a, b, k) => {
        const c = cosine(a, b);
        expect(c).toBeGreaterThanOrEqual(-1 - 1e-12);
        expect(c).toBeLessThanOrEqual(1 + 1e-12);
        expect(cosine(b, a)).toBeCloseTo(c, 12);
        expect(cosine(a.map((x) => x * k), b)).toBeCloseTo(c, 9);
      }),
    );
  });

  it("picks the most similar entry at or above the threshold; ties go to the newest", () => {
    const e = (key: string, createdAt: number, embedding: number[]): CacheEntry => ({
      key,
      task: "t",
      scope: "s",
      createdAt,
      embedding: toFloat32(embedding),
      outcome: { answer: null, result: { text: "", usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 }, latencyMs: 0, ttftMs: 0, finishReason: "stop" }, provider: "p", model: "m", tier: "cheap", costNusd: 0 },
    });
    const q = [1, 0, 0];
    const list = [e("far", 1, [0, 1, 0]), e("near-old", 1, [1, 0.1, 0]), e("near-new", 2, [1, 0.1, 0]), e("wrong-dim", 3, [1, 0])];
    expect(bestMatch(q, list, 0.95)?.entry.key).toBe("near-new");
    expect(bestMatch(q, list, 0.999)).toBeUndefined();
  });
});

describe("cache config", () => {
  it("fills defaults and names the bad field", () => {
    const c = parseCacheConfig({});
    expect(c).toMatchObject({ enabled: true, backend: "duckdb", exact: true, cassette: false, semantic: { enabled: false, threshold: 0.95 } });
    expect(ttlFor(parseCacheConfig({ ttlMs: { forecast: 5, default: 7 } }), "screen")).toBe(7);
    expect(() => parseCacheConfig({ backend: "sqlite" }, "run.json cache")).toThrow(/run\.json cache[\s\S]*backend/);
    expect(() => parseCacheConfig({ semantic: { threshold: 2 } })).toThrow(/semantic\.threshold/);
    expect(() => parseCacheConfig({ url: "http://x" })).toThrow(/url/);
  });
});
