/**
 * The done-when of the cache: rerunning the same replay with a warm DuckDB
 * cache file (closed and opened again, as a second process run would) makes
 * zero provider calls, spends $0 in llm_calls, and gives the same answers.
 * The same holds for Redis across two connections (two processes sharing it).
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { buildCachedRouter } from "../../harness/cache/openCache.ts";
import type { CacheConfigInput } from "../../harness/cache/cacheConfig.ts";
import { CALL_COST_NUSD, CountingProvider, HOUR, T0, ask, makeRouterStack, redisForTests, type RedisHandle } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "tapedeck-rerun-"));
let results: Db;
let redis: RedisHandle;
beforeAll(async () => {
  results = await openDb(join(dir, "results.duckdb"));
  await applySchema(results.connection);
  redis = await redisForTests();
});
afterAll(async () => {
  results.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A miniature replay: forecasts at advancing simulated times, some prompts asked twice within the TTL. */
const script = [
  { at: T0, q: "Will BTC close above $100k? price 0.42" },
  { at: T0, q: "Will the Lakers win tonight? price 0.55" },
  { at: T0 + 60_000, q: "Will BTC close above $100k? price 0.42" },
  { at: T0 + 120_000, q: "Will BTC close above $100k? price 0.44" },
  { at: T0 + 2 * HOUR, q: "Will BTC close above $100k? price 0.42" }, // past the TTL: asked again
];

async function replay(runId: string, cache: CacheConfigInput) {
  const clock = new SimulatedClock(T0);
  const callLog = new DuckDbCallLog(results.connection, runId);
  // The router and the cache write the same log, as in a run.
  const stack = makeRouterStack(clock, new CountingProvider(), callLog);
  const cached = await buildCachedRouter(stack.router, cache, { clock, callLog, baseDir: dir });
  const answers: unknown[] = [];
  for (const step of script) {
    clock.observe(step.at);
    const outcome = await cached.complete({ task: "forecast", messages: ask(step.q), answer: forecastAnswer });
    answers.push(outcome.ok ? outcome.answer : outcome.errorClass);
  }
  const stats = await cached.stats();
  await cached.close();
  await callLog.close();
  const digest = createHash("sha256").update(JSON.stringify(answers)).digest("hex");
  const rows = (
    await results.connection.runAndReadAll(
      `SELECT count(*)::DOUBLE AS calls, coalesce(sum(cost_nusd), 0)::DOUBLE AS spend, count(*) FILTER (WHERE cache = 'miss')::DOUBLE AS misses FROM llm_calls WHERE run_id = $1`,
      [runId],
    )
  ).getRowObjectsJS()[0] as { calls: number; spend: number; misses: number };
  return { providerCalls: stack.provider.calls, digest, rows, stats };
}

describe.each<[string, () => CacheConfigInput]>([
  ["duckdb file", () => ({ backend: "duckdb", path: "cache/cache.duckdb" })],
  ["redis", () => ({ backend: "redis", url: redis.url, prefix: `tapedeck-test:${randomUUID()}:` })],
])("rerun with a warm %s cache", (_name, makeConfig) => {
  it("makes zero provider calls, spends $0 and gives the same answers", async () => {
    const config = makeConfig();
    const cold = await replay(randomUUID(), config);
    // BTC 0.42, Lakers, (BTC 0.42 again: a hit), BTC 0.44, BTC 0.42 past its one-hour TTL.
    expect(cold.providerCalls).toBe(4);
    expect(cold.rows).toEqual({ calls: 5, spend: 4 * CALL_COST_NUSD, misses: 4 });

    const warm = await replay(randomUUID(), config);
    expect(warm.providerCalls).toBe(0);
    expect(warm.rows).toEqual({ calls: 5, spend: 0, misses: 0 });
    expect(warm.digest).toBe(cold.digest);
    expect(warm.stats).toMatchObject({ exactHits: 5, misses: 0, stores: 0, entries: 4, savedNusd: 5 * CALL_COST_NUSD });
  });
});
