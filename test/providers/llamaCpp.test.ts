/**
 * The real tiny model (models/stories260K.gguf, 260K parameters) through the
 * local provider: the forecast grammar admits only probabilities and
 * confidences in [0, 1], so its answers (noise from a story model) pass the
 * harness's range check and are scored like any model's.
 */
import { afterAll, describe, expect, it } from "vitest";
import { LocalModelProvider } from "../../providers/llamaCpp.ts";
import { forecastAnswer, forecastAnswerJsonSchema, forecastAnswerSchema } from "../../providers/forecastAnswer.ts";
import { Router } from "../../harness/router/router.ts";
import { Endpoint } from "../../harness/router/endpoint.ts";
import { CircuitBreaker } from "../../harness/router/circuitBreaker.ts";
import { Budget } from "../../harness/router/budget.ts";
import { MemoryCallLog } from "../../harness/router/callLog.ts";
import { PriceTable } from "../../harness/router/pricing.ts";

const MODEL = new URL("../../models/stories260K.gguf", import.meta.url).pathname;
const provider = new LocalModelProvider({ modelPath: MODEL, sequences: 2, threads: 1, contextSize: 256 });
afterAll(() => provider.dispose());

const messages = [{ role: "user" as const, content: "Will the Lakers win tonight?" }];

describe("local GGUF provider (real tiny model)", () => {
  it("loads once and reports its device", async () => {
    const device = await provider.device();
    expect(device.threads).toBe(1);
    expect(device.totalLayers).toBeGreaterThan(0);
    expect(["cpu", "cuda", "vulkan", "metal"]).toContain(device.backend);
    expect(await provider.device()).toBe(device);
  });

  it("returns schema-valid JSON under the grammar, with token counts", async () => {
    const result = await provider.complete({ model: "stories260K", messages, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema }, maxTokens: 120, temperature: 0 });
    const parsed = result.parsed as Record<string, unknown>;
    expect(typeof parsed["probability"]).toBe("number");
    expect(typeof parsed["confidence"]).toBe("number");
    expect(typeof parsed["rationale"]).toBe("string");
    expect(result.usage.inputTokens).toBeGreaterThan(5);
    expect(result.usage.outputTokens).toBeGreaterThan(5);
    expect(result.ttftMs).toBeLessThanOrEqual(result.latencyMs);
  });

  it("serves parallel requests from the sequence pool, deterministically at temperature 0", async () => {
    const request = { model: "stories260K", messages, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema }, maxTokens: 120, temperature: 0 };
    const results = await Promise.all([1, 2, 3, 4].map(() => provider.complete(request)));
    const texts = new Set(results.map((r) => r.text));
    expect(texts.size).toBe(1);
  });

  it("under the forecast grammar every answer is in range, whatever the prompt", async () => {
    const questions = ["Will it rain in Paris?", "Will BTC close above 100k?", "Will the Jets score first?", "Once upon a time", "Will the Fed cut rates?", "Yes or no?"];
    const results = await Promise.all(
      questions.map((q, i) =>
        provider.complete({ model: "stories260K", messages: [{ role: "user", content: q }], schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema }, maxTokens: 120, temperature: 0.8, seed: i }),
      ),
    );
    for (const r of results) expect(forecastAnswerSchema.safeParse(r.parsed).success, r.text).toBe(true);
  });

  it("through the router, its answers are accepted: scored like any model (and worth as much as noise)", async () => {
    const clock = { now: () => Date.UTC(2025, 10, 8) };
    const log = new MemoryCallLog();
    const router = new Router({
      clock,
      endpoints: new Map([["local", new Endpoint("local", [provider], new CircuitBreaker(clock), { concurrency: 2 }, true)]]),
      routes: { forecast: { chain: [{ endpoint: "local", model: "stories260K", tier: "local" }], maxTokens: 120, temperature: 0 } },
      prices: new PriceTable(),
      budget: new Budget(clock, { dailyNusd: 0 }),
      callLog: log,
    });
    const outcome = await router.complete({ task: "forecast", messages, answer: forecastAnswer });
    // Without the forecast grammar this prompt got probability -5 (malformed_output); now the answer is a probability.
    expect(outcome.ok, JSON.stringify(outcome).slice(0, 400)).toBe(true);
    if (outcome.ok) expect(forecastAnswerSchema.safeParse(outcome.answer).success).toBe(true);
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0]).toMatchObject({ status: "ok", provider: "local", costNusd: 0 });
    expect(log.calls[0]?.gpuMs).toBeGreaterThan(0);
  });

  it("embeds text for the semantic cache", async () => {
    const [a, b] = await provider.embed(["the cat sat", "the cat sat"]);
    expect(a?.length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  });
});
