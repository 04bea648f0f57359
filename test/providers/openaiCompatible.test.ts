import { afterEach, describe, expect, it } from "vitest";
import { OpenAiCompatibleProvider } from "../../providers/openaiCompatible.ts";
import { forecastAnswerJsonSchema } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { sequence } from "../loopback/script.ts";
import { failure } from "./expectProviderError.ts";

let server: OpenAiLoopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const messages = [{ role: "user" as const, content: "Will it rain?" }];
const answer = JSON.stringify({ probability: 0.3, confidence: 0.6, rationale: "clouds" });

describe("OpenAI-compatible provider against a loopback server", () => {
  it("sends response_format json_schema and reads text, parsed object, usage and OpenRouter cost", async () => {
    server = await startOpenAiServer(sequence({ kind: "reply", content: answer, promptTokens: 120, completionTokens: 30, cachedTokens: 100, cost: 0.000123 }));
    const provider = new OpenAiCompatibleProvider({ name: "openrouter", baseURL: server.baseURL, apiKey: "sk-test", openRouterUsage: true });
    const result = await provider.complete({ model: "deepseek/deepseek-chat", messages, temperature: 0, maxTokens: 64, seed: 7, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema } });
    expect(result.parsed).toEqual({ probability: 0.3, confidence: 0.6, rationale: "clouds" });
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 30, cachedInputTokens: 100 });
    expect(result.reportedCostUsd).toBe(0.000123);
    expect(result.finishReason).toBe("stop");
    const body = server.requests[0]?.body ?? {};
    expect(body["response_format"]).toMatchObject({ type: "json_schema", json_schema: { name: "forecast", strict: true } });
    expect(body).toMatchObject({ seed: 7, max_tokens: 64, temperature: 0, usage: { include: true } });
    expect(server.requests[0]?.headers["authorization"]).toBe("Bearer sk-test");
  });

  it("streams: time to first token no later than the whole call, usage from the final chunk", async () => {
    server = await startOpenAiServer(sequence({ kind: "reply", content: answer, promptTokens: 50, completionTokens: 20 }));
    const provider = new OpenAiCompatibleProvider({ name: "xai", baseURL: server.baseURL, apiKey: "k", stream: true });
    const result = await provider.complete({ model: "grok", messages });
    expect(result.text).toBe(answer);
    expect(result.usage.inputTokens).toBe(50);
    expect(result.usage.outputTokens).toBe(20);
    expect(result.ttftMs).toBeGreaterThan(0);
    expect(result.ttftMs).toBeLessThanOrEqual(result.latencyMs);
    expect(server.requests[0]?.body["stream_options"]).toEqual({ include_usage: true });
  });

  it("falls back to instructions for endpoints without response_format", async () => {
    server = await startOpenAiServer(sequence({ kind: "reply", content: "Sure! ```json\n" + answer + "\n```" }));
    const provider = new OpenAiCompatibleProvider({ name: "deepseek", baseURL: server.baseURL, apiKey: "k", structuredOutput: "instructions" });
    const result = await provider.complete({ model: "deepseek-chat", messages, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema } });
    expect(result.parsed).toEqual({ probability: 0.3, confidence: 0.6, rationale: "clouds" });
    const sent = server.requests[0]?.body;
    expect(sent?.["response_format"]).toBeUndefined();
    expect(JSON.stringify(sent?.["messages"])).toContain("JSON Schema");
  });

  it.each([
    [{ kind: "status", status: 429, retryAfter: "3" } as const, "rate_limited", 429],
    [{ kind: "status", status: 500 } as const, "server", 500],
    [{ kind: "status", status: 503 } as const, "server", 503],
    [{ kind: "status", status: 400 } as const, "bad_request", 400],
    [{ kind: "status", status: 401 } as const, "auth", 401],
  ])("classifies %j as %s", async (step, errorClass, status) => {
    server = await startOpenAiServer(sequence(step));
    const provider = new OpenAiCompatibleProvider({ name: "p", baseURL: server.baseURL, apiKey: "k" });
    const error = await failure(provider.complete({ model: "m", messages }));
    expect(error.errorClass).toBe(errorClass);
    expect(error.details.status).toBe(status);
    if (status === 429) expect(error.details.retryAfterMs).toBe(3000);
  });

  it("classifies a hang as timeout, a reset as network, a broken body as server", async () => {
    server = await startOpenAiServer(sequence({ kind: "hang" }, { kind: "reset" }, { kind: "malformed_body" }));
    const provider = new OpenAiCompatibleProvider({ name: "p", baseURL: server.baseURL, apiKey: "k" });
    expect((await failure(provider.complete({ model: "m", messages, timeoutMs: 150 }))).errorClass).toBe("timeout");
    expect((await failure(provider.complete({ model: "m", messages }))).errorClass).toBe("network");
    expect((await failure(provider.complete({ model: "m", messages }))).errorClass).toBe("server");
  });

  it("leaves parsed unset when the model's text is not JSON (the router classifies it)", async () => {
    server = await startOpenAiServer(sequence({ kind: "reply", content: "I think maybe 30%" }));
    const provider = new OpenAiCompatibleProvider({ name: "p", baseURL: server.baseURL, apiKey: "k" });
    const result = await provider.complete({ model: "m", messages, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema } });
    expect(result.parsed).toBeUndefined();
    expect(result.usage.outputTokens).toBe(5);
  });
});
