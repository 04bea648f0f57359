import { afterEach, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startOllamaServer, type OllamaLoopback } from "../loopback/ollamaServer.ts";
import { sequence, type ScriptStep } from "../loopback/script.ts";
import { goodAnswer, makeRouter, openaiEndpoint, question } from "./fixture.ts";

const servers: Array<OpenAiLoopback | OllamaLoopback> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const prices = { models: { "primary/m1": { input: 1, output: 2 }, "backup/m2": { input: 1, output: 2 } } };

async function twoServers(first: ScriptStep) {
  const a = await startOpenAiServer(sequence(first));
  const b = await startOpenAiServer(sequence({ kind: "reply", content: goodAnswer }));
  servers.push(a, b);
  const f = makeRouter({
    endpoints: { primary: openaiEndpoint(a.baseURL, { timeoutMs: 200 }), backup: openaiEndpoint(b.baseURL) },
    routes: {
      forecast: {
        chain: [
          { endpoint: "primary", model: "m1", tier: "cheap" },
          { endpoint: "backup", model: "m2", tier: "balanced" },
        ],
      },
    },
    prices,
    retry: { maxRetries: 2, baseMs: 100, capMs: 1000 },
  });
  return { a, b, ...f };
}

describe("router fallback on each error class", () => {
  it.each([
    ["rate_limited", { kind: "status", status: 429 } as ScriptStep, 3],
    ["server", { kind: "status", status: 500 } as ScriptStep, 3],
    ["server", { kind: "status", status: 503 } as ScriptStep, 3],
    ["server", { kind: "malformed_body" } as ScriptStep, 3],
    ["timeout", { kind: "hang" } as ScriptStep, 3],
    ["network", { kind: "reset" } as ScriptStep, 3],
    ["bad_request", { kind: "status", status: 400 } as ScriptStep, 1],
    ["auth", { kind: "status", status: 401 } as ScriptStep, 1],
    ["malformed_output", { kind: "reply", content: "no JSON here" } as ScriptStep, 1],
    ["malformed_output", { kind: "reply", content: JSON.stringify({ probability: -5.1, confidence: 0.5, rationale: "x" }) } as ScriptStep, 1],
  ])("%s (%j): falls back to the next model after %i attempt(s)", async (errorClass, step, attempts) => {
    const { a, b, router, log, sleeps } = await twoServers(step);
    const outcome = await router.complete({ task: "forecast", messages: question, answer: forecastAnswer });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.answer).toEqual({ probability: 0.42, confidence: 0.7, rationale: "momentum" });
    expect(outcome.provider).toBe("backup");
    expect(a.requests).toHaveLength(attempts); // retries only on rate_limited, server, timeout, network
    expect(b.requests).toHaveLength(1);
    expect(sleeps).toHaveLength(attempts - 1);
    expect(log.calls.map((c) => [c.provider, c.status, c.errorClass ?? null, c.attempts])).toEqual([
      ["primary", "error", errorClass, attempts],
      ["backup", "ok", null, 1],
    ]);
    expect(outcome.trace.map((t) => t.status)).toEqual(["error", "ok"]);
  });

  it("backs off with full jitter: delays drawn below base·2^attempt", async () => {
    const { sleeps, router } = await twoServers({ kind: "status", status: 500 });
    await router.complete({ task: "forecast", messages: question });
    expect(sleeps).toEqual([50, 100]); // rng 0.5 × min(cap, 100·2^0), 0.5 × 100·2^1
  });

  it("honours Retry-After: waits what the server asked, then succeeds on the same model", async () => {
    const a = await startOpenAiServer(sequence({ kind: "status", status: 429, retryAfter: "2" }, { kind: "reply", content: goodAnswer }));
    servers.push(a);
    const { router, sleeps, log } = makeRouter({
      endpoints: { primary: openaiEndpoint(a.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "primary", model: "m1", tier: "cheap" }] } },
      prices,
    });
    const outcome = await router.complete({ task: "forecast", messages: question, answer: forecastAnswer });
    expect(outcome.ok).toBe(true);
    expect(sleeps).toEqual([2000]);
    expect(log.calls[0]).toMatchObject({ status: "ok", attempts: 2 });
  });

  it("a Retry-After beyond the limit cools the provider down instead of waiting; wall time lifts it, simulated time does not", async () => {
    const a = await startOpenAiServer(sequence({ kind: "status", status: 429, retryAfter: "600" }, { kind: "reply", content: goodAnswer }));
    const b = await startOpenAiServer(sequence({ kind: "reply", content: goodAnswer }));
    servers.push(a, b);
    const { router, sleeps, clock, health } = makeRouter({
      endpoints: { primary: openaiEndpoint(a.baseURL), backup: openaiEndpoint(b.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "primary", model: "m1", tier: "cheap" }, { endpoint: "backup", model: "m2", tier: "cheap" }] } },
      prices,
      retry: { maxRetryAfterMs: 30_000 },
    });
    expect((await router.complete({ task: "forecast", messages: question })).ok).toBe(true);
    expect(sleeps).toEqual([]);
    await router.complete({ task: "forecast", messages: question });
    expect(a.requests).toHaveLength(1); // cooling down: skipped
    clock.advance(6 * 3_600_000); // hours of simulated time: still cooling down
    expect((await router.complete({ task: "forecast", messages: question })).ok).toBe(true);
    expect(a.requests).toHaveLength(1);
    health.advance(600_000);
    const third = await router.complete({ task: "forecast", messages: question });
    expect(third.ok && third.provider).toBe("primary");
  });

  it("prefers the premium chain when the edge or stake is large", async () => {
    const cheap = await startOpenAiServer(sequence({ kind: "reply", content: goodAnswer }));
    const premium = await startOpenAiServer(sequence({ kind: "reply", content: goodAnswer }));
    servers.push(cheap, premium);
    const { router } = makeRouter({
      endpoints: { cheap: openaiEndpoint(cheap.baseURL), premium: openaiEndpoint(premium.baseURL) },
      routes: {
        forecast: {
          chain: [{ endpoint: "cheap", model: "deepseek", tier: "cheap" }],
          premium: [{ endpoint: "premium", model: "claude", tier: "premium" }],
          preferPremiumWhen: { minEdge: 0.1, minStakeUsd: 100 },
        },
      },
      prices: { models: { deepseek: { input: 0.27, output: 1.1 }, claude: { input: 3, output: 15 } } },
    });
    const small = await router.complete({ task: "forecast", messages: question, edge: 0.02, stakeUsd: 10 });
    const bigEdge = await router.complete({ task: "forecast", messages: question, edge: 0.15 });
    const bigStake = await router.complete({ task: "forecast", messages: question, stakeUsd: 500 });
    expect([small, bigEdge, bigStake].map((o) => o.ok && o.tier)).toEqual(["cheap", "premium", "premium"]);
  });

  it("falls back from a cloud model to a local Ollama model", async () => {
    const cloud = await startOpenAiServer(sequence({ kind: "status", status: 401 }));
    const ollama = await startOllamaServer(sequence({ kind: "reply", content: goodAnswer, promptTokens: 30, completionTokens: 12 }));
    servers.push(cloud, ollama);
    const { router, log } = makeRouter({
      endpoints: { cloud: openaiEndpoint(cloud.baseURL), ollama: { kind: "ollama", host: ollama.origin } },
      routes: { screen: { chain: [{ endpoint: "cloud", model: "gpt-4o-mini", tier: "cheap" }, { endpoint: "ollama", model: "llama3.2", tier: "local" }] } },
      prices: { models: { "gpt-4o-mini": { input: 0.15, output: 0.6 } } },
    });
    const outcome = await router.complete({ task: "screen", messages: question, answer: forecastAnswer });
    expect(outcome.ok && outcome.provider).toBe("ollama");
    expect(log.calls[1]).toMatchObject({ provider: "ollama", status: "ok", inputTokens: 30, outputTokens: 12, costNusd: 0, gpuMs: 24 });
  });
});
