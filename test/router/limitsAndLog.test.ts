import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { DuckDbCallLog, type CallRecord } from "../../harness/router/callLog.ts";
import { fullJitterDelay, retryDelay, DEFAULT_RETRY } from "../../harness/router/backoff.ts";
import fc from "fast-check";
import { Endpoint } from "../../harness/router/endpoint.ts";
import { CircuitBreaker } from "../../harness/router/circuitBreaker.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { goodAnswer, makeRouter, openaiEndpoint } from "./fixture.ts";

let server: OpenAiLoopback | undefined;
afterEach(() => server?.close());

describe("per-provider limits", () => {
  it("never has more requests in flight than the endpoint's concurrency", async () => {
    let inFlight = 0;
    let peak = 0;
    server = await startOpenAiServer(() => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      setTimeout(() => (inFlight -= 1), 20);
      return { kind: "reply", content: goodAnswer, delayMs: 20 };
    });
    const { router } = makeRouter({
      endpoints: { p: openaiEndpoint(server.baseURL, { concurrency: 3 }) },
      routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 0, output: 0 } } },
    });
    // Distinct prompts: identical ones in flight at once would share one request.
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => router.complete({ task: "forecast", messages: [{ role: "user", content: `question ${i}` }] })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(peak).toBe(3);
  });
});

describe("requests-per-minute limit", () => {
  it("lets no more than the cap start in any window (sliding)", async () => {
    const started: number[] = [];
    const provider = {
      name: "p",
      complete: async () => {
        started.push(performance.now());
        return { text: goodAnswer, usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 }, latencyMs: 0, ttftMs: 0, finishReason: "stop" as const };
      },
    };
    // 600 per minute over a 200 ms window = 2 per 200 ms.
    const endpoint = new Endpoint("p", [provider], new CircuitBreaker({ now: () => 0 }), { requestsPerMinute: 600, rateWindowMs: 200 });
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => endpoint.queue.add(() => endpoint.nextClient().complete({ model: "m", messages: [] }))));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    for (let i = 2; i < started.length; i++) expect((started[i] ?? 0) - (started[i - 2] ?? 0)).toBeGreaterThanOrEqual(190);
  });
});

describe("backoff", () => {
  it("property: full jitter stays in [0, min(cap, base·2^attempt)); Retry-After is a floor", () => {
    fc.assert(
      fc.property(fc.nat(20), fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.option(fc.nat(100_000), { nil: undefined }), (attempt, r, retryAfter) => {
        const jitter = fullJitterDelay(attempt, DEFAULT_RETRY, () => r);
        const ceiling = Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** attempt);
        const delay = retryDelay(attempt, DEFAULT_RETRY, () => r, retryAfter);
        return jitter >= 0 && jitter < ceiling && delay >= (retryAfter ?? 0) && delay >= jitter;
      }),
    );
  });
});

describe("DuckDB call log", () => {
  it("batches rows through the appender into llm_calls with the run id", async () => {
    const db = await openDb(join(mkdtempSync(join(tmpdir(), "calllog-")), "results.duckdb"));
    await applySchema(db.connection);
    const log = new DuckDbCallLog(db.connection, "run-1", 100);
    const row = (i: number): CallRecord => ({
      callId: `c${i}`,
      simTs: 1_000 + i,
      wallTs: 2_000 + i,
      task: "forecast",
      provider: "openrouter",
      model: "m",
      status: i % 10 === 0 ? "error" : "ok",
      ...(i % 10 === 0 ? { errorClass: "server" } : { latencyMs: 12.5 }),
      attempts: 1,
      inputTokens: 10,
      outputTokens: 5,
      cachedTokens: 0,
      costNusd: i % 10 === 0 ? 0 : 1_234,
      cache: "miss",
    });
    for (let i = 0; i < 250; i++) log.record(row(i));
    await log.close();
    const reader = await db.connection.runAndReadAll(
      "SELECT count(*)::INTEGER AS n, sum(cost_nusd)::BIGINT AS cost, count(*) FILTER (WHERE error_class = 'server')::INTEGER AS errors, min(run_id) AS run, sum(sim_ts)::BIGINT AS sim FROM llm_calls",
    );
    expect(reader.getRowObjectsJson()[0]).toEqual({ n: 250, cost: String(225 * 1_234), errors: 25, run: "run-1", sim: String(250 * 1000 + (249 * 250) / 2) });
    db.close();
  });
});
