/**
 * Recorded responses (a cassette). In replay mode it answers from recorded
 * calls keyed by a hash of the request and never calls out; a request that
 * was never recorded fails as bad_request (no retry, no fallback to a paid
 * model by accident of a retry policy). In record mode it wraps a real
 * provider and stores every successful answer. Stored as JSONL, one call a
 * line, so cassettes diff and append cleanly.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { FINISH_REASONS } from "./provider.ts";
import type { Provider, ProviderRequest, ProviderResult } from "./provider.ts";
import { ProviderError } from "./providerError.ts";

const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedInputTokens: z.number() });
const recordSchema = z.object({
  key: z.string(),
  provider: z.string(),
  model: z.string(),
  result: z.object({
    text: z.string(),
    parsed: z.unknown().optional(),
    usage: usageSchema,
    reportedCostUsd: z.number().optional(),
    latencyMs: z.number(),
    ttftMs: z.number(),
    finishReason: z.enum(FINISH_REASONS),
    gpuMs: z.number().optional(),
  }),
});
export type CassetteRecord = z.infer<typeof recordSchema>;

/** The part of a request that decides its answer (timeouts and signals do not). */
export function requestKey(providerName: string, request: ProviderRequest): string {
  const material = JSON.stringify([
    providerName,
    request.model,
    request.messages,
    request.temperature ?? null,
    request.maxTokens ?? null,
    request.seed ?? null,
    request.schema ?? null,
  ]);
  return createHash("sha256").update(material).digest("hex");
}

export interface CassetteOptions {
  /** JSONL file; read at construction, appended to in record mode. Omit for memory only. */
  path?: string;
  mode: "replay" | "record";
  /** The provider to record from (record mode), and whose name replay answers under. */
  inner?: Provider;
  name?: string;
}

export class CassetteProvider implements Provider {
  readonly name: string;
  readonly #records = new Map<string, CassetteRecord>();
  readonly #options: CassetteOptions;

  constructor(options: CassetteOptions) {
    if (options.mode === "record" && !options.inner) throw new Error("cassette in record mode needs an inner provider");
    this.#options = options;
    this.name = options.name ?? options.inner?.name ?? "cassette";
    if (options.path && existsSync(options.path)) this.#read(options.path);
  }

  get size(): number {
    return this.#records.size;
  }

  async complete(request: ProviderRequest): Promise<ProviderResult> {
    const key = requestKey(this.name, request);
    const recorded = this.#records.get(key);
    if (recorded) return toResult(recorded.result);
    if (this.#options.mode === "replay" || !this.#options.inner) {
      throw new ProviderError("bad_request", `no recorded answer for model ${request.model} (key ${key.slice(0, 12)})`, { provider: this.name });
    }
    const result = await this.#options.inner.complete(request);
    const record: CassetteRecord = { key, provider: this.name, model: request.model, result: { ...result } };
    this.#records.set(key, record);
    if (this.#options.path) appendFileSync(this.#options.path, `${JSON.stringify(record)}\n`);
    return result;
  }

  #read(path: string): void {
    const lines = readFileSync(path, "utf8").split("\n");
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new Error(`${path}:${index + 1}: not JSON`);
      }
      const parsed = recordSchema.safeParse(json);
      if (!parsed.success) throw new Error(`${path}:${index + 1}: bad cassette record: ${z.prettifyError(parsed.error)}`);
      this.#records.set(parsed.data.key, parsed.data);
    });
  }
}

function toResult(stored: CassetteRecord["result"]): ProviderResult {
  const { parsed, reportedCostUsd, gpuMs, ...rest } = stored;
  return {
    ...rest,
    ...(parsed !== undefined ? { parsed } : {}),
    ...(reportedCostUsd !== undefined ? { reportedCostUsd } : {}),
    ...(gpuMs !== undefined ? { gpuMs } : {}),
  };
}
