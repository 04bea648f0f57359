/**
 * A 500-call batch with 30% injected faults of every kind across two
 * providers: every call ends either answered or recorded as failed, never lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import type { Script, ScriptStep } from "../loopback/script.ts";
import { goodAnswer, makeRouter, openaiEndpoint, question } from "./fixture.ts";
import { seededRandom } from "../../harness/random/seededRandom.ts";

const FAULTS: ScriptStep[] = [
  { kind: "status", status: 429, retryAfter: "0" },
  { kind: "status", status: 500 },
  { kind: "status", status: 503 },
  { kind: "status", status: 400 },
  { kind: "hang" },
  { kind: "reset" },
  { kind: "malformed_body" },
  { kind: "reply", content: "not json" },
  { kind: "reply", content: JSON.stringify({ probability: -5.1, confidence: 2, rationale: "nonsense" }) },
  { kind: "reply", content: goodAnswer, delayMs: 30 },
];

/** 30% of requests draw a fault (seeded, so the batch is the same every run). */
function faulty(seed: number): { script: Script; faults: () => number } {
  const random = seededRandom(seed);
  let faults = 0;
  const draw = (n: number) => Math.floor(random() * n);
  return {
    script: () => {
      if (draw(100) >= 30) return { kind: "reply", content: goodAnswer };
      faults += 1;
      return FAULTS[draw(FAULTS.length)] ?? { kind: "status", status: 500 };
    },
    faults: () => faults,
  };
}

let servers: OpenAiLoopback[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe("fault injection", () => {
  it("500 calls with 30% faults: every call answered or recorded as failed", async () => {
    const a = faulty(1);
    const b = faulty(2);
    const one = await startOpenAiServer(a.script);
    const two = await startOpenAiServer(b.script);
    servers = [one, two];
    const { router, log } = makeRouter({
      endpoints: { one: openaiEndpoint(one.baseURL, { concurrency: 16, timeoutMs: 500 }), two: openaiEndpoint(two.baseURL, { concurrency: 16, timeoutMs: 500 }) },
      routes: { forecast: { chain: [{ endpoint: "one", model: "m", tier: "cheap" }, { endpoint: "two", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 1, output: 2 } } },
      retry: { maxRetries: 1 },
      breaker: { failures: 1000 },
    });
    const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => router.complete({ task: "forecast", agent: `call-${i}`, messages: [{ role: "user", content: `${question[0]?.content} (#${i})` }], answer: forecastAnswer })));
    expect(a.faults() + b.faults()).toBeGreaterThan(100);
    const answered = outcomes.filter((o) => o.ok);
    const failed = outcomes.filter((o) => !o.ok);
    expect(answered.length + failed.length).toBe(500);
    expect(answered.length).toBeGreaterThan(350); // sanity: retries and fallback recover most faults
    const rowsByAgent = new Map<string, typeof log.calls>();
    for (const row of log.calls) rowsByAgent.set(row.agent ?? "", [...(rowsByAgent.get(row.agent ?? "") ?? []), row]);
    outcomes.forEach((outcome, i) => {
      const rows = rowsByAgent.get(`call-${i}`) ?? [];
      expect(rows.length).toBeGreaterThan(0);
      if (outcome.ok) {
        expect(outcome.answer.probability).toBeGreaterThanOrEqual(0);
        expect(rows.find((r) => r.callId === outcome.callId)?.status).toBe("ok");
      } else {
        expect(rows.every((r) => r.status === "error")).toBe(true);
        expect(rows.length).toBe(outcome.trace.length);
      }
    });
  });
});
