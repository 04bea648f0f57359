/**
 * The provider contract: one request shape in, one result shape out, in the
 * spirit of the Vercel AI SDK's language-model spec. Adapters in this folder
 * are thin; retries, routing, budgets and caching live above this contract
 * (harness/router), never inside an adapter.
 */
import type { ProviderError } from "./providerError.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A JSON Schema object (draft 2020-12 subset that OpenAI, Ollama and llama.cpp grammars all accept). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface ProviderRequest {
  model: string;
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  /** When present the answer must be a JSON object matching it; `parsed` is then set. */
  schema?: { name: string; jsonSchema: JsonSchema };
  /** Per-attempt limit; the adapter classifies an overrun as `timeout`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (billed at the cached-input price). */
  cachedInputTokens: number;
}

/** Why a model stopped, as every adapter reports it (and as stored answers are checked against). */
export const FINISH_REASONS = ["stop", "length", "content_filter", "error", "other"] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

export interface ProviderResult {
  text: string;
  /** The JSON value parsed from `text` when a schema was requested and the text parsed (shape not yet checked: the router validates and classifies malformed output, so its usage is still accounted). */
  parsed?: unknown;
  usage: Usage;
  /** Cost the provider itself reported (OpenRouter does), in dollars; absent when it says nothing. */
  reportedCostUsd?: number;
  latencyMs: number;
  /** Time to first token; equals latencyMs when the response was not streamed. */
  ttftMs: number;
  finishReason: FinishReason;
  /** Compute time on the local device (local and Ollama models), for GPU-seconds accounting. */
  gpuMs?: number;
}

export interface Provider {
  /** Stable name used in logs, breakers and the price table (e.g. "openrouter", "ollama", "local"). */
  readonly name: string;
  /** Resolves with a result or rejects with a ProviderError, never with anything else. */
  complete(request: ProviderRequest): Promise<ProviderResult>;
  /** Release what the provider holds (a loaded model, sockets); optional. */
  dispose?(): Promise<void>;
  /** One cheap request (a models list) that rejects with a ProviderError when the endpoint is unreachable or refuses the key; optional. */
  preflight?(): Promise<void>;
}

/** A provider that can also embed text (local GGUF, Ollama), for the semantic cache. */
export interface EmbeddingProvider {
  embed(texts: readonly string[]): Promise<number[][]>;
}

export type { ProviderError };
