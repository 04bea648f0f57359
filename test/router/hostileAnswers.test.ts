/**
 * Issue 14, findings 3–5: one hostile answer or one odd usage figure never
 * kills a run. Every case goes through the real OpenAI-compatible client
 * against a loopback server, the router, the cache on every backend and the
 * DuckDB call log; each ends as an outcome with one llm_calls row.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { CachedRouter } from "../../harness/cache/cachedRouter.ts";
import { parseCacheConfig } from "../../harness/cache/cacheConfig.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { MAX_ANSWER_CHARS, MAX_ANSWER_DEPTH } from "../../providers/answerLimits.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import type { ScriptStep } from "../loopback/script.ts";
import { everyBackend } from "../cache/everyBackend.ts";
import { startChaosServer } from "../../harness/bench/chaosServer.ts";
import { goodAnswer, makeRouter, openaiEndpoint, question } from "./fixture.ts";

const servers: OpenAiLoopback[] = [];
const { dir, backends } = everyBackend("tapedeck-hostile-");
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A rationale with a JSON escape of a lone surrogate: valid JSON, not encodable as UTF-8 once parsed. */
const loneSurrogate = String.raw`{"probability": 0.4, "confidence": 0.5, "rationale": "a\ud800b"}`;
/** An extra field nested 5,000 levels deep (the audit's stack overflow was at ~4,000 in memory, 8,000 in DuckDB/Redis). */
const deepExtra = `{"probability": 0.4, "confidence": 0.5, "rationale": "x", "extra": ${"[".repeat(5000)}${"]".repeat(5000)}}`;

const config = (baseURL: string, maxTokens = 200) => ({
  endpoints: { p: openaiEndpoint(baseURL, { concurrency: 4 }) },
  routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" as const }], maxTokens } },
  prices: { models: { m: { input: 1, output: 2 } } },
  budget: { dailyUsd: "0.01" },
  retry: { maxRetries: 0 },
});

async function serve(step: (n: number) => ScriptStep): Promise<OpenAiLoopback> {
  const server = await startOpenAiServer(({ n }) => step(n));
  servers.push(server);
  return server;
}

describe("finding 3: a hostile answer is a malformed_output abstention, never a dead cached run", () => {
  for (const [name, open] of backends) {
    it(`${name} cache: a lone surrogate and a 5,000-deep extra field abstain; the next answer is cached and served`, async () => {
      const answers = [loneSurrogate, deepExtra, goodAnswer];
      const server = await serve((n) => ({ kind: "reply", content: answers[Math.min(n, 2)] as string }));
      const db = await openDb(join(dir, `${name}-calls.duckdb`));
      await applySchema(db.connection);
      const callLog = new DuckDbCallLog(db.connection, "run-3");
      const { router, clock } = makeRouter(config(server.baseURL), { KEY_A: "sk-a" }, { callLog });
      const backend = await open();
      const cached = new CachedRouter({ inner: router, backend, config: parseCacheConfig({ enabled: true, backend: name as "memory" }), clock, callLog });
      const ask = (i: number) => cached.complete({ task: "forecast", messages: [{ role: "user", content: `q${i}` }], answer: forecastAnswer });
      const surrogate = await ask(1);
      const deep = await ask(2);
      expect(surrogate.ok).toBe(false);
      expect(!surrogate.ok && surrogate.errorClass).toBe("malformed_output");
      expect(!surrogate.ok && surrogate.message).toMatch(/lone UTF-16 surrogate/);
      expect(!deep.ok && deep.errorClass).toBe("malformed_output");
      expect(!deep.ok && deep.message).toMatch(new RegExp(`deeper than ${MAX_ANSWER_DEPTH}`));
      const good = await ask(3);
      expect(good.ok).toBe(true);
      clock.advance(1000);
      const again = await ask(3);
      expect(again.ok && again.trace[0]?.attempts).toBe(0); // served from the cache
      expect(server.requests.length).toBe(3);
      await callLog.close();
      const rows = (await db.connection.runAndReadAll("SELECT status, error_class, cache FROM llm_calls ORDER BY wall_ts, rowid")).getRowObjectsJS();
      expect(rows).toEqual([
        { status: "error", error_class: "malformed_output", cache: "miss" },
        { status: "error", error_class: "malformed_output", cache: "miss" },
        { status: "ok", error_class: null, cache: "miss" },
        { status: "ok", error_class: null, cache: "exact" },
      ]);
      // The raw text is kept as text the store can hold: the escape, not a broken code unit.
      const kept = (await db.connection.runAndReadAll("SELECT answer_text FROM llm_calls LIMIT 1")).getRowObjectsJS()[0] as { answer_text: string };
      expect(kept.answer_text).toBe(loneSurrogate);
      db.close();
      await cached.close();
    });
  }

  it("an answer past the size limit is malformed_output, charged, and logged", async () => {
    const big = JSON.stringify({ probability: 0.4, confidence: 0.5, rationale: "y".repeat(MAX_ANSWER_CHARS) });
    const server = await serve(() => ({ kind: "reply", content: big, promptTokens: 10, completionTokens: 100 }));
    const { router, log } = makeRouter(config(server.baseURL));
    const out = await router.complete({ task: "forecast", messages: question, answer: forecastAnswer });
    expect(!out.ok && out.message).toMatch(/exceeds the limit/);
    expect(log.calls.map((c) => [c.status, c.errorClass, c.costNusd])).toEqual([["error", "malformed_output", 10 * 1000 + 100 * 2000]]);
  });
});

describe("a 200 whose shape is wrong (found by the chaos storm)", () => {
  it("message content that is not text, or no choices, is malformed_output with a row, never a TypeError", async () => {
    const bodies = ['{"choices": [{"message": {"content": 42}}]}', '{"choices": [{"message": {"content": {"probability": 0.4}}}]}', '{"choices": []}', '{"choices": "none"}'];
    const server = await startChaosServer(({ n }) => ({ fault: "raw", action: { kind: "raw", body: bodies[n % bodies.length] as string } }));
    try {
      const { router, log } = makeRouter({ ...config(server.baseURL), breaker: { failures: 100 } });
      for (let i = 0; i < bodies.length; i++) {
        const out = await router.complete({ task: "forecast", messages: [{ role: "user", content: `q${i}` }], answer: forecastAnswer });
        expect(out.ok).toBe(false);
        expect(!out.ok && out.errorClass, bodies[i]).toBe("malformed_output");
      }
      expect(log.calls.map((c) => c.errorClass)).toEqual(bodies.map(() => "malformed_output"));
    } finally {
      await server.close();
    }
  });
});

describe("finding 4: a provider that ignores max_tokens or lies about cost cannot overspend the budget", () => {
  it("20,000 output tokens against a 200 cap: flagged over_cap, charged at most the reservation, spend stays under the daily limit", async () => {
    // $2/M output: 20,000 tokens claim $0.04 per call against a $0.01 daily limit.
    const server = await serve(() => ({ kind: "reply", content: goodAnswer, promptTokens: 50, completionTokens: 20_000 }));
    const { router, log, logs } = makeRouter(config(server.baseURL));
    const outcomes = [];
    for (let i = 0; i < 40; i++) outcomes.push(await router.complete({ task: "forecast", messages: [{ role: "user", content: `q${i}` }], answer: forecastAnswer }));
    const spent = log.calls.reduce((n, c) => n + c.costNusd, 0);
    expect(spent).toBeLessThanOrEqual(10_000_000);
    expect(router.budget.spentToday()).toBe(spent);
    expect(router.usageAnomalies.get("over_cap")).toBe(outcomes.filter((o) => o.ok).length);
    expect(outcomes.some((o) => !o.ok && o.errorClass === "budget")).toBe(true);
    expect(logs.some((l) => l.includes("usage anomaly") && l.includes("over_cap"))).toBe(true);
  });

  it("a 1 MB answer with matching usage spends no more than the limit", async () => {
    const huge = "z".repeat(1_000_000);
    const server = await serve(() => ({ kind: "reply", content: huge, promptTokens: 50, completionTokens: 262_000 }));
    const { router, log } = makeRouter(config(server.baseURL));
    for (let i = 0; i < 10; i++) await router.complete({ task: "forecast", messages: [{ role: "user", content: `q${i}` }], answer: forecastAnswer });
    expect(log.calls.reduce((n, c) => n + c.costNusd, 0)).toBeLessThanOrEqual(10_000_000);
  });

  it("a negative usage.cost gives no money back: charged the worst case, recorded as an anomaly", async () => {
    const server = await serve(() => ({ kind: "reply", content: goodAnswer, promptTokens: 50, completionTokens: 20, cost: -0.5 }));
    const { router, log } = makeRouter(config(server.baseURL));
    const out = await router.complete({ task: "forecast", messages: question, answer: forecastAnswer });
    expect(out.ok).toBe(true);
    const row = log.calls[0];
    expect(row?.costNusd).toBeGreaterThan(0);
    expect(row?.reportedCostNusd).toBeUndefined();
    expect(router.budget.spentToday()).toBe(row?.costNusd);
    expect(router.usageAnomalies.get("bad_reported_cost")).toBe(1);
  });
});

describe("finding 5: odd usage numbers never crash a call or the call log", () => {
  const odd: Array<[string, Partial<Extract<ScriptStep, { kind: "reply" }>>]> = [
    ["prompt_tokens 1e20", { promptTokens: 1e20 }],
    ["prompt_tokens 10.5", { promptTokens: 10.5 }],
    ["completion_tokens -3", { completionTokens: -3 }],
    ["cached_tokens 1e300", { cachedTokens: 1e300 }],
    ["usage.cost 1e30", { cost: 1e30 }],
  ];
  it("each is answered, charged the worst case at most, and leaves a row the DuckDB call log writes", async () => {
    const dbDir = mkdtempSync(join(tmpdir(), "tapedeck-usage-"));
    const db = await openDb(join(dbDir, "r.duckdb"));
    await applySchema(db.connection);
    const callLog = new DuckDbCallLog(db.connection, "run-5");
    const server = await serve((n) => ({ kind: "reply", content: goodAnswer, promptTokens: 10, completionTokens: 5, ...(odd[n]?.[1] ?? {}) }));
    const { router } = makeRouter({ ...config(server.baseURL), budget: { dailyUsd: "1" } }, { KEY_A: "sk-a" }, { callLog });
    for (let i = 0; i < odd.length + 1; i++) {
      const out = await router.complete({ task: "forecast", messages: [{ role: "user", content: `q${i}` }], answer: forecastAnswer });
      expect(out.ok, odd[i]?.[0] ?? "normal").toBe(true);
    }
    expect(router.budget.openReservations).toBe(0);
    await callLog.close();
    const rows = (await db.connection.runAndReadAll("SELECT input_tokens::DOUBLE AS i, output_tokens::DOUBLE AS o, cached_tokens::DOUBLE AS c, cost_nusd::DOUBLE AS cost FROM llm_calls ORDER BY wall_ts, rowid")).getRowObjectsJS() as Array<{ i: number; o: number; c: number; cost: number }>;
    expect(rows).toHaveLength(odd.length + 1);
    for (const r of rows) {
      expect(Number.isInteger(r.i) && r.i >= 0 && r.i <= 10_000_000).toBe(true);
      expect(Number.isInteger(r.o) && r.o >= 0 && r.o <= 200).toBe(true);
      expect(r.cost).toBeGreaterThan(0);
    }
    // The normal call after them is charged its real cost, exactly: 10 input at $1/M + 5 output at $2/M = 20,000 nUSD.
    expect(rows.at(-1)?.cost).toBe(20_000);
    expect(router.budget.spentToday()).toBe(rows.reduce((n, r) => n + r.cost, 0));
    db.close();
    rmSync(dbDir, { recursive: true, force: true });
  });
});
