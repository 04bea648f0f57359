import { afterEach, describe, expect, it } from "vitest";
import { OllamaProvider } from "../../providers/ollama.ts";
import { forecastAnswerJsonSchema } from "../../providers/forecastAnswer.ts";
import { startOllamaServer, type OllamaLoopback } from "../loopback/ollamaServer.ts";
import { sequence } from "../loopback/script.ts";
import { failure } from "./expectProviderError.ts";

let server: OllamaLoopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const messages = [{ role: "user" as const, content: "Will it rain?" }];

describe("Ollama provider against a loopback server", () => {
  it("sends format as the JSON schema and reads Ollama's token counts and nanosecond durations", async () => {
    server = await startOllamaServer(sequence({ kind: "reply", content: '{"probability":0.7,"confidence":0.5,"rationale":"x"}', promptTokens: 42, completionTokens: 17 }));
    const provider = new OllamaProvider({ host: server.origin });
    const result = await provider.complete({ model: "llama3.2", messages, temperature: 0, seed: 1, maxTokens: 99, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema } });
    expect(result.parsed).toEqual({ probability: 0.7, confidence: 0.5, rationale: "x" });
    expect(result.usage).toEqual({ inputTokens: 42, outputTokens: 17, cachedInputTokens: 0 });
    expect(result.gpuMs).toBe(24); // 4 ms prompt eval + 20 ms eval, from nanoseconds
    const body = server.requests[0]?.body ?? {};
    expect(body["format"]).toEqual(forecastAnswerJsonSchema);
    expect(body["options"]).toEqual({ temperature: 0, seed: 1, num_predict: 99 });
    expect(body["stream"]).toBe(false);
    expect(server.requests[0]?.path).toBe("/api/chat");
  });

  it("classifies 429 (with Retry-After), 500, 404, hangs and resets", async () => {
    server = await startOllamaServer(
      sequence({ kind: "status", status: 429, retryAfter: "2" }, { kind: "status", status: 500 }, { kind: "status", status: 404, message: "model not found" }, { kind: "hang" }, { kind: "reset" }),
    );
    const provider = new OllamaProvider({ host: server.origin });
    const limited = await failure(provider.complete({ model: "m", messages }));
    expect(limited.errorClass).toBe("rate_limited");
    expect(limited.details.retryAfterMs).toBe(2000);
    expect((await failure(provider.complete({ model: "m", messages }))).errorClass).toBe("server");
    const missing = await failure(provider.complete({ model: "m", messages }));
    expect(missing.errorClass).toBe("bad_request");
    expect(missing.message).toContain("model not found");
    expect((await failure(provider.complete({ model: "m", messages, timeoutMs: 150 }))).errorClass).toBe("timeout");
    expect((await failure(provider.complete({ model: "m", messages }))).errorClass).toBe("network");
  });

  it("a content that is not text (a hostile or broken server) is malformed output, not a TypeError", async () => {
    server = await startOllamaServer(sequence({ kind: "reply", content: { probability: 0.5 } as unknown as string }, { kind: "reply", content: 42 as unknown as string }));
    const provider = new OllamaProvider({ host: server.origin });
    const object = await failure(provider.complete({ model: "m", messages, schema: { name: "forecast", jsonSchema: forecastAnswerJsonSchema } }));
    expect(object.errorClass).toBe("malformed_output");
    expect(object.message).toContain("content is a object");
    expect((await failure(provider.complete({ model: "m", messages }))).errorClass).toBe("malformed_output");
  });

  it("embeds through /api/embed", async () => {
    server = await startOllamaServer(sequence({ kind: "reply", content: "" }));
    const provider = new OllamaProvider({ host: server.origin, embeddingModel: "nomic-embed-text" });
    expect(await provider.embed(["abc", "hello"])).toEqual([
      [3, 1, 0],
      [5, 1, 0],
    ]);
  });
});
