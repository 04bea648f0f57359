/**
 * Ollama on the official `ollama` package, with the host passed explicitly
 * (never the OLLAMA_HOST default). Structured output through `format` with a
 * JSON schema; token counts and durations come from Ollama's own accounting
 * (prompt_eval_count, eval_count, *_duration in nanoseconds).
 */
import { Ollama } from "ollama";
import type { FinishReason, EmbeddingProvider, Provider, ProviderRequest, ProviderResult } from "./provider.ts";
import { preflightGet } from "./preflight.ts";
import { ProviderError, classifyStatus, isAbortError, parseRetryAfter } from "./providerError.ts";
import { tryParseJsonAnswer } from "./structuredOutput.ts";

export interface OllamaOptions {
  name?: string;
  /** e.g. http://127.0.0.1:11434 */
  host: string;
  defaultTimeoutMs?: number;
  /** Model used by embed(), e.g. "nomic-embed-text". */
  embeddingModel?: string;
}

const NS_PER_MS = 1_000_000;

export class OllamaProvider implements Provider, EmbeddingProvider {
  readonly name: string;
  readonly #options: OllamaOptions;

  constructor(options: OllamaOptions) {
    this.name = options.name ?? "ollama";
    this.#options = options;
  }

  /** GET <host>/api/tags: an Ollama server that is not there fails the run before it starts (providers/preflight.ts). */
  preflight(): Promise<void> {
    return preflightGet(this.name, `${this.#options.host.replace(/\/+$/, "")}/api/tags`);
  }

  async complete(request: ProviderRequest): Promise<ProviderResult> {
    const started = performance.now();
    const { client, lastResponse, signal, dispose } = this.#client(request.timeoutMs, request.signal);
    try {
      const response = await client.chat({
        model: request.model,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        stream: false,
        ...(request.schema ? { format: { ...request.schema.jsonSchema } } : {}),
        options: {
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
          ...(request.maxTokens !== undefined ? { num_predict: request.maxTokens } : {}),
        },
      });
      const latencyMs = performance.now() - started;
      const promptMs = (response.prompt_eval_duration ?? 0) / NS_PER_MS;
      const evalMs = (response.eval_duration ?? 0) / NS_PER_MS;
      // The body is data from outside: a content that is not text is malformed output, never a TypeError further on.
      const content: unknown = (response as { message?: { content?: unknown } }).message?.content;
      if (content !== undefined && content !== null && typeof content !== "string") {
        throw new ProviderError("malformed_output", `message content is a ${typeof content}, not text`, { provider: this.name });
      }
      const text = content ?? "";
      const result: ProviderResult = {
        text,
        usage: { inputTokens: response.prompt_eval_count ?? 0, outputTokens: response.eval_count ?? 0, cachedInputTokens: 0 },
        latencyMs,
        // Ollama does not stream here; the first token came after loading and prompt evaluation.
        ttftMs: Math.min(latencyMs, (response.load_duration ?? 0) / NS_PER_MS + promptMs),
        finishReason: toFinishReason(response.done_reason),
        gpuMs: promptMs + evalMs,
      };
      if (request.schema) {
        const parsed = tryParseJsonAnswer(text);
        if (parsed !== undefined) result.parsed = parsed;
      }
      return result;
    } catch (error) {
      throw this.#classify(error, signal, lastResponse(), request.timeoutMs);
    } finally {
      dispose();
    }
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const model = this.#options.embeddingModel;
    if (!model) throw new ProviderError("bad_request", "no embeddingModel configured", { provider: this.name });
    const { client, lastResponse, signal, dispose } = this.#client(undefined, undefined);
    try {
      const response = await client.embed({ model, input: [...texts] });
      return response.embeddings;
    } catch (error) {
      throw this.#classify(error, signal, lastResponse(), undefined);
    } finally {
      dispose();
    }
  }

  /** One client per call: the ollama client has no per-request signal, so we thread ours through its fetch. */
  #client(timeoutMs: number | undefined, outer: AbortSignal | undefined) {
    const controller = new AbortController();
    const limit = timeoutMs ?? this.#options.defaultTimeoutMs ?? 60_000;
    const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), limit);
    const onOuter = () => controller.abort(outer?.reason);
    outer?.addEventListener("abort", onOuter, { once: true });
    let last: Response | undefined;
    const client = new Ollama({
      host: this.#options.host,
      fetch: async (input, init) => {
        last = await fetch(input, { ...init, signal: controller.signal });
        return last;
      },
    });
    return {
      client,
      signal: controller.signal,
      lastResponse: () => last,
      dispose: () => {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onOuter);
      },
    };
  }

  #classify(error: unknown, signal: AbortSignal, response: Response | undefined, timeoutMs: number | undefined): ProviderError {
    if (error instanceof ProviderError) return error;
    const provider = this.name;
    if (signal.aborted || isAbortError(error)) return new ProviderError("timeout", `no answer within ${timeoutMs ?? this.#options.defaultTimeoutMs ?? 60_000} ms`, { provider });
    const status = (error as { status_code?: unknown }).status_code;
    if (error instanceof Error && error.name === "ResponseError" && typeof status === "number") {
      const retryAfterMs = parseRetryAfter(response?.headers, Date.now());
      return new ProviderError(classifyStatus(status), `HTTP ${status}: ${error.message.slice(0, 300)}`, {
        provider,
        status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TypeError && /fetch failed|ECONNRESET|ECONNREFUSED|socket/i.test(`${message} ${String((error as { cause?: unknown }).cause)}`)) {
      return new ProviderError("network", message, { provider });
    }
    return new ProviderError("server", `unreadable response: ${message.slice(0, 300)}`, { provider });
  }
}

function toFinishReason(reason: string | undefined): FinishReason {
  if (reason === "stop") return "stop";
  if (reason === "length") return "length";
  return "other";
}
