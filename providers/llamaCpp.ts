/**
 * A local GGUF model on node-llama-cpp: loaded once, serving many requests
 * through a pool of context sequences (one per parallel request), output
 * constrained by a JSON-schema grammar, GPU offload when the machine has one.
 *
 * node-llama-cpp is imported lazily so code paths that never touch a local
 * model do not pay its load time. `build: "never"`: the prebuilt binary is
 * used or loading fails; nothing compiles at run time.
 *
 * Threads: on a 2-core machine the library's default (4) oversubscribes the
 * cores. Measured with stories260K (67 tokens under a grammar): maxThreads 1
 * 53 ms, 2 → 711 ms, default → 44 s. Hence half the cores, at least one.
 *
 * The prompt is the messages flattened into plain text: the bundled tiny model
 * has no chat template. Local models cost $0; their device time is reported as gpuMs.
 */
import { availableParallelism } from "node:os";
import { LOCAL_ANSWER_GRAMMARS } from "./forecastGrammar.ts";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import type { ChatMessage, EmbeddingProvider, JsonSchema, Provider, ProviderRequest, ProviderResult } from "./provider.ts";
import { ProviderError, isAbortError } from "./providerError.ts";
import { tryParseJsonAnswer } from "./structuredOutput.ts";

export interface LocalModelOptions {
  name?: string;
  modelPath: string;
  /** Parallel sequences in the pool (= requests served at once). */
  sequences?: number;
  /** Tokens per sequence. */
  contextSize?: number;
  /** CPU threads; default: half the cores, at least 1. */
  threads?: number;
  /** "auto" uses CUDA/Vulkan/Metal when present; false forces the CPU. */
  gpu?: "auto" | false;
  defaultTimeoutMs?: number;
}

export interface LocalDeviceInfo {
  /** "cpu" or the backend ("cuda", "vulkan", "metal"). */
  backend: string;
  deviceNames: string[];
  gpuLayers: number;
  totalLayers: number | undefined;
  vramTotalBytes: number;
  vramUsedBytes: number;
  threads: number;
  loadMs: number;
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  free: LlamaContextSequence[];
  waiters: Array<(sequence: LlamaContextSequence) => void>;
  grammars: Map<string, Promise<LlamaGrammar>>;
  embedding?: Promise<LlamaEmbeddingContext>;
  device: LocalDeviceInfo;
}

export function defaultThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

export class LocalModelProvider implements Provider, EmbeddingProvider {
  readonly name: string;
  readonly #options: LocalModelOptions;
  #loaded: Promise<Loaded> | undefined;

  constructor(options: LocalModelOptions) {
    this.name = options.name ?? "local";
    this.#options = options;
  }

  /** Load the model (once); later calls return the same load. */
  load(): Promise<Loaded> {
    this.#loaded ??= this.#load();
    return this.#loaded;
  }

  async device(): Promise<LocalDeviceInfo> {
    return (await this.load()).device;
  }

  async #load(): Promise<Loaded> {
    const started = performance.now();
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const threads = this.#options.threads ?? defaultThreads();
    let llama: Llama;
    try {
      llama = await getLlama({ build: "never", gpu: this.#options.gpu ?? "auto", maxThreads: threads, logLevel: LlamaLogLevel.error });
    } catch (error) {
      throw new ProviderError("server", `node-llama-cpp could not load a prebuilt binary: ${(error as Error).message}`, { provider: this.name });
    }
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: this.#options.modelPath });
    } catch (error) {
      await llama.dispose();
      throw new ProviderError("bad_request", `cannot load model ${this.#options.modelPath}: ${(error as Error).message}`, { provider: this.name });
    }
    const sequences = Math.max(1, this.#options.sequences ?? 1);
    const context = await model.createContext({ sequences, contextSize: this.#options.contextSize ?? 512, threads });
    const free: LlamaContextSequence[] = [];
    for (let i = 0; i < sequences; i++) free.push(context.getSequence());
    const vram = await llama.getVramState();
    const device: LocalDeviceInfo = {
      backend: llama.gpu === false ? "cpu" : llama.gpu,
      deviceNames: llama.gpu === false ? [] : await llama.getGpuDeviceNames(),
      gpuLayers: model.gpuLayers,
      totalLayers: model.fileInsights.totalLayers,
      vramTotalBytes: vram.total,
      vramUsedBytes: vram.used,
      threads,
      loadMs: performance.now() - started,
    };
    return { llama, model, context, free, waiters: [], grammars: new Map(), device };
  }

  async complete(request: ProviderRequest): Promise<ProviderResult> {
    const loaded = await this.load();
    const { LlamaCompletion } = await import("node-llama-cpp");
    const sequence = await acquire(loaded);
    const timeout = AbortSignal.timeout(request.timeoutMs ?? this.#options.defaultTimeoutMs ?? 60_000);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    const started = performance.now();
    try {
      await sequence.clearHistory();
      const completion = new LlamaCompletion({ contextSequence: sequence });
      const grammar = request.schema ? await grammarFor(loaded, request.schema.name, request.schema.jsonSchema) : undefined;
      const prompt = flatten(request.messages);
      let ttftMs: number | undefined;
      const response = await completion.generateCompletionWithMeta(prompt, {
        signal,
        maxTokens: request.maxTokens ?? 256,
        temperature: request.temperature ?? 0,
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(grammar ? { grammar } : {}),
        onTextChunk: () => {
          ttftMs ??= performance.now() - started;
        },
      });
      const latencyMs = performance.now() - started;
      const text = response.response;
      const result: ProviderResult = {
        text,
        usage: {
          inputTokens: loaded.model.tokenize(prompt).length,
          outputTokens: loaded.model.tokenize(text).length,
          cachedInputTokens: 0,
        },
        latencyMs,
        ttftMs: ttftMs ?? latencyMs,
        finishReason: response.metadata.stopReason === "maxTokens" ? "length" : "stop",
        gpuMs: latencyMs,
      };
      if (request.schema) {
        const parsed = tryParseJsonAnswer(text);
        if (parsed !== undefined) result.parsed = parsed;
      }
      return result;
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      if (signal.aborted || isAbortError(error)) throw new ProviderError("timeout", "local generation aborted or timed out", { provider: this.name });
      throw new ProviderError("server", `local generation failed: ${(error as Error).message}`, { provider: this.name });
    } finally {
      release(loaded, sequence);
    }
  }

  /** Embeddings for the semantic cache; the embedding context is created once and kept. */
  async embed(texts: readonly string[]): Promise<number[][]> {
    const loaded = await this.load();
    const contextSize = this.#options.contextSize ?? 512;
    loaded.embedding ??= loaded.model.createEmbeddingContext({ contextSize });
    const context = await loaded.embedding;
    const out: number[][] = [];
    for (const text of texts) {
      // A text longer than the context is embedded by its beginning (where a prompt names the market),
      // rather than failing the lookup; the margin leaves room for the tokens the model adds itself.
      const tokens = loaded.model.tokenize(text).slice(0, Math.max(1, contextSize - 8));
      out.push([...(await context.getEmbeddingFor(tokens)).vector]);
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (!this.#loaded) return;
    const pending = this.#loaded;
    this.#loaded = undefined;
    // A load that failed has released what it held already; there is nothing left to dispose.
    const loaded = await pending.catch(() => undefined);
    await loaded?.llama.dispose();
  }
}

function acquire(loaded: Loaded): Promise<LlamaContextSequence> {
  const sequence = loaded.free.pop();
  if (sequence) return Promise.resolve(sequence);
  return new Promise((resolve) => loaded.waiters.push(resolve));
}

function release(loaded: Loaded, sequence: LlamaContextSequence): void {
  const waiter = loaded.waiters.shift();
  if (waiter) waiter(sequence);
  else loaded.free.push(sequence);
}

/**
 * The grammar for an answer: a hand-written one where the answer has ranges
 * a JSON-schema grammar cannot express (the forecast: probabilities in [0, 1]),
 * else the JSON-schema grammar.
 */
function grammarFor(loaded: Loaded, name: string, schema: JsonSchema): Promise<LlamaGrammar> {
  const custom = LOCAL_ANSWER_GRAMMARS[name];
  const key = custom !== undefined ? `gbnf:${name}` : JSON.stringify(schema);
  let grammar = loaded.grammars.get(key);
  if (!grammar) {
    grammar =
      custom !== undefined
        ? loaded.llama.createGrammar({ grammar: custom })
        : // The grammar builder takes a narrower schema type than JSON Schema in general; ours are plain objects.
          loaded.llama.createGrammarForJsonSchema(schema as Parameters<Llama["createGrammarForJsonSchema"]>[0]);
    loaded.grammars.set(key, grammar);
  }
  return grammar;
}

function flatten(messages: readonly ChatMessage[]): string {
  const lines = messages.map((m) => `${m.role === "system" ? "System" : m.role === "user" ? "User" : "Assistant"}: ${m.content}`);
  return `${lines.join("\n")}\nAssistant: `;
}
