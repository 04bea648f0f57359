/**
 * OpenAI-compatible chat completions (OpenRouter, OpenAI, DeepSeek, xAI, a
 * local llama.cpp or vLLM server…) on the official `openai` package, one
 * client per endpoint and key. The SDK's own retries are off: retries are the
 * router's job, where they can be counted and budgeted.
 */
import OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsBase } from "openai/resources/chat/completions";
import type { FinishReason, Provider, ProviderRequest, ProviderResult, Usage } from "./provider.ts";
import { ProviderError, classifyStatus, isAbortError, parseRetryAfter } from "./providerError.ts";
import { tryParseJsonAnswer, withSchemaInstruction } from "./structuredOutput.ts";
import { redactAndTruncate, redactSecrets } from "./redact.ts";
import { preflightGet } from "./preflight.ts";

export interface OpenAiCompatibleOptions {
  /** Provider name for logs, breakers and prices (e.g. "openrouter"). */
  name: string;
  baseURL: string;
  /** The key itself, already read from the environment by the caller; never logged. */
  apiKey: string;
  /** `json_schema` uses response_format (OpenAI, OpenRouter, xAI); `instructions` puts the schema in the prompt and validates (DeepSeek's json_object mode, older servers). */
  structuredOutput?: "json_schema" | "json_object" | "instructions";
  /** Stream responses to measure time to first token (usage comes from the final chunk). */
  stream?: boolean;
  /** Ask OpenRouter for its cost accounting (`usage: {include: true}`). */
  openRouterUsage?: boolean;
  defaultTimeoutMs?: number;
  fetch?: typeof fetch;
}

export class OpenAiCompatibleProvider implements Provider {
  readonly name: string;
  readonly #client: OpenAI;
  readonly #options: OpenAiCompatibleOptions;

  constructor(options: OpenAiCompatibleOptions) {
    this.name = options.name;
    this.#options = options;
    this.#client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: options.defaultTimeoutMs ?? 60_000,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /** GET <baseURL>/models with the key: unreachable or a refused key fails (providers/preflight.ts). */
  preflight(): Promise<void> {
    const base = this.#options.baseURL.replace(/\/+$/, "");
    return preflightGet(this.name, `${base}/models`, {
      headers: { Authorization: `Bearer ${this.#options.apiKey}` },
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
  }

  async complete(request: ProviderRequest): Promise<ProviderResult> {
    const mode = this.#options.structuredOutput ?? "json_schema";
    const messages = request.schema && mode !== "json_schema" ? withSchemaInstruction(request.messages, request.schema.name, request.schema.jsonSchema) : [...request.messages];
    const body: ChatCompletionCreateParamsBase & Record<string, unknown> = {
      model: request.model,
      messages,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
    };
    if (request.schema && mode === "json_schema") {
      body.response_format = { type: "json_schema", json_schema: { name: request.schema.name, schema: { ...request.schema.jsonSchema }, strict: true } };
    } else if (request.schema && mode === "json_object") {
      body.response_format = { type: "json_object" };
    }
    if (this.#options.openRouterUsage) body["usage"] = { include: true };

    const started = performance.now();
    const requestOptions = {
      ...(request.timeoutMs !== undefined ? { timeout: request.timeoutMs } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    };
    try {
      const outcome = this.#options.stream
        ? await this.#streamed(body, requestOptions, started)
        : await this.#unary(body, requestOptions, started);
      const latencyMs = performance.now() - started;
      const result: ProviderResult = { ...outcome, latencyMs, ttftMs: outcome.ttftMs ?? latencyMs };
      if (request.schema) {
        const parsed = tryParseJsonAnswer(result.text);
        if (parsed !== undefined) result.parsed = parsed;
      }
      return result;
    } catch (error) {
      throw this.#classify(error, request);
    }
  }

  async #unary(body: ChatCompletionCreateParamsBase, options: object, _started: number): Promise<Omit<ProviderResult, "latencyMs" | "ttftMs"> & { ttftMs?: number }> {
    const completion: ChatCompletion = await this.#client.chat.completions.create({ ...body, stream: false }, options);
    // The body is data from outside: a 200 whose shape is wrong (no choices, a content that is not text) is malformed output, never a TypeError.
    const choice = (completion as { choices?: unknown }).choices instanceof Array ? completion.choices[0] : undefined;
    if (!choice) throw new ProviderError("malformed_output", "response has no choices", { provider: this.name });
    const content: unknown = (choice as { message?: { content?: unknown } }).message?.content;
    if (content !== undefined && content !== null && typeof content !== "string") {
      throw new ProviderError("malformed_output", `message content is a ${typeof content}, not text`, { provider: this.name });
    }
    return {
      text: content ?? "",
      usage: toUsage(completion.usage),
      finishReason: toFinishReason(choice.finish_reason),
      ...reportedCost(completion.usage),
    };
  }

  async #streamed(body: ChatCompletionCreateParamsBase, options: object, started: number): Promise<Omit<ProviderResult, "latencyMs" | "ttftMs"> & { ttftMs?: number }> {
    const stream = await this.#client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, options);
    let text = "";
    let ttftMs: number | undefined;
    let finish: string | null | undefined;
    let usage: ChatCompletionChunk["usage"];
    for await (const chunk of stream) {
      const delta: unknown = (chunk.choices as unknown) instanceof Array ? chunk.choices[0]?.delta?.content : undefined;
      if (delta !== undefined && delta !== null && typeof delta !== "string") throw new ProviderError("malformed_output", `streamed content is a ${typeof delta}, not text`, { provider: this.name });
      if (delta) {
        ttftMs ??= performance.now() - started;
        text += delta;
      }
      finish = ((chunk.choices as unknown) instanceof Array ? chunk.choices[0]?.finish_reason : undefined) ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, usage: toUsage(usage), finishReason: toFinishReason(finish), ...reportedCost(usage), ...(ttftMs !== undefined ? { ttftMs } : {}) };
  }

  #classify(error: unknown, request: ProviderRequest): ProviderError {
    const classified = this.#classifyRaw(error, request);
    // Some servers echo the key in their error text ("Incorrect API key provided: sk-…"): a last sweep over the whole message.
    const clean = redactSecrets(classified.message, [this.#options.apiKey]);
    if (clean === classified.message) return classified;
    return new ProviderError(classified.errorClass, clean.replace(`${classified.details.provider}: ${classified.errorClass}: `, ""), classified.details);
  }

  #classifyRaw(error: unknown, request: ProviderRequest): ProviderError {
    if (error instanceof ProviderError) return error;
    const provider = this.name;
    if (error instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError("timeout", `no answer within ${request.timeoutMs ?? this.#options.defaultTimeoutMs ?? 60_000} ms`, { provider });
    if (error instanceof OpenAI.APIUserAbortError || isAbortError(error)) {
      return new ProviderError("timeout", "aborted", { provider });
    }
    if (error instanceof OpenAI.APIConnectionError) return new ProviderError("network", redactAndTruncate(error.message, 300, [this.#options.apiKey]), { provider });
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const retryAfterMs = parseRetryAfter(error.headers, Date.now());
      return new ProviderError(classifyStatus(error.status), `HTTP ${error.status}: ${redactAndTruncate(error.message, 300, [this.#options.apiKey])}`, {
        provider,
        status: error.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    // A 200 whose body is not valid JSON, or a stream cut mid-way: the server misbehaved, worth a retry.
    const message = error instanceof Error ? error.message : String(error);
    return new ProviderError("server", `unreadable response: ${redactAndTruncate(message, 300, [this.#options.apiKey])}`, { provider });
  }
}

type WireUsage = (ChatCompletion["usage"] & { cost?: unknown }) | null | undefined;

function toUsage(usage: WireUsage): Usage {
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

/** OpenRouter puts the charged amount (in dollars / credits) in usage.cost. */
function reportedCost(usage: WireUsage): { reportedCostUsd?: number } {
  const cost = usage?.cost;
  return typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {};
}

function toFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "content_filter":
      return "content_filter";
    case "error":
      return "error";
    default:
      return "other";
  }
}
