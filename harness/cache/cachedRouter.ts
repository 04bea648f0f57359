/**
 * The response cache in front of the router, with the router's own
 * complete() signature so a strategy takes either. Lookup order: exact key,
 * then semantic (when on for the task), then the router, unless in cassette
 * mode, where a miss is an error outcome and no provider is ever called.
 *
 * Time is the run's clock: an entry is servable only when it was made at or
 * before now and is within the task's TTL (visibility.ts), so a rerun at an
 * earlier simulated time never sees answers made later.
 *
 * A hit leaves one llm_calls row (cache "exact"/"semantic", cost 0, tokens 0,
 * latency = lookup time) and returns the original answer, provider, model
 * and tier with costNusd 0. A miss goes to the router, which logs its own
 * rows, and the answer is stored with createdAt = the clock's now.
 *
 * Identical requests in flight at once wait for the first, so they share one
 * answer (and one provider call) in the first run as in every rerun.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock/clock.ts";
import type { AnswerSpec } from "../../providers/forecastAnswer.ts";
import type { CallLog } from "../router/callLog.ts";
import type { AttemptTrace, Router, RouterOutcome, RouterRequest } from "../router/router.ts";
import type { CacheBackend, CacheEntry } from "./cache.ts";
import { semanticApplies, ttlFor, type CacheConfig } from "./cacheConfig.ts";
import { emptyStats, type CacheStats } from "./cacheStats.ts";
import { canonicalJson, exactKey } from "./exactKey.ts";
import { bestMatch, promptText, toFloat32, type Embedder } from "./semantic.ts";
import { isServable, servableWindow } from "./visibility.ts";

/** What a strategy needs from a router: Router and CachedRouter both are one. */
export type CompletingRouter = Pick<Router, "complete">;

export interface CachedRouterOptions {
  inner: CompletingRouter;
  backend: CacheBackend;
  config: CacheConfig;
  clock: Pick<Clock, "now">;
  /** Where hit rows (and cassette misses) are written: the same log the router writes. */
  callLog: CallLog;
  /** Needed when semantic matching is on. */
  embedder?: Embedder;
  /** The models a task's route would use (routeScope.ts); an answer from another model set is never served. */
  scopeFor?: (task: string) => string;
}

type AnyRequest = RouterRequest & { answer?: AnswerSpec<unknown> };
type Success = Extract<RouterOutcome<unknown>, { ok: true }>;

export class CachedRouter implements CompletingRouter {
  readonly backend: CacheBackend;
  readonly #o: CachedRouterOptions;
  readonly #stats = emptyStats();
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(options: CachedRouterOptions) {
    const applies = options.config.semantic.enabled;
    if (options.config.enabled && applies && !options.embedder) {
      throw new Error("cache: semantic matching is enabled but no embedder was given (configure a local or Ollama endpoint for embeddings, or set semantic.enabled false)");
    }
    this.#o = options;
    this.backend = options.backend;
  }

  complete<T>(request: RouterRequest & { answer: AnswerSpec<T> }): Promise<RouterOutcome<T>>;
  complete(request: RouterRequest): Promise<RouterOutcome<string>>;
  async complete(request: AnyRequest): Promise<RouterOutcome<unknown>> {
    const { config } = this.#o;
    if (!config.enabled) return this.#o.inner.complete(request as RouterRequest);
    const scope = this.#scope(request);
    const key = exactKey({
      task: request.task,
      scope,
      messages: request.messages,
      temperature: request.temperature,
      maxTokens: request.maxTokens,
      seed: request.seed,
      answer: request.answer,
    });
    // Single flight per key: wait for an identical request already out, then look up (its answer is stored by then).
    for (let pending = this.#inflight.get(key); pending; pending = this.#inflight.get(key)) await pending;
    let done!: () => void;
    this.#inflight.set(key, new Promise<void>((resolve) => (done = resolve)));
    try {
      return await this.#lookupOrCall(request, key, scope);
    } finally {
      this.#inflight.delete(key);
      done();
    }
  }

  /** Counters since this router was made, and the backend's entry count. */
  async stats(): Promise<CacheStats> {
    return { ...this.#stats, entries: await this.backend.count() };
  }

  /** Closes the backend (the inner router is its owner's to close). */
  close(): Promise<void> {
    return this.backend.close();
  }

  async #lookupOrCall(request: AnyRequest, key: string, scope: string): Promise<RouterOutcome<unknown>> {
    const { config, clock, backend } = this.#o;
    const started = performance.now();
    const now = clock.now();
    const ttl = ttlFor(config, request.task);
    const window = servableWindow(now, ttl);

    if (config.exact) {
      const entry = await backend.getExact(key, window);
      if (entry && isServable(entry.createdAt, now, ttl)) {
        const hit = this.#serve(request, entry, "exact", started);
        if (hit) return hit;
      }
    }

    let embedding: number[] | null = null;
    const text = promptText(request.messages);
    const semantic = semanticApplies(config, request.task) && text.length >= config.semantic.minChars && this.#o.embedder !== undefined;
    if (semantic && this.#o.embedder) {
      const [vector] = await this.#o.embedder.embed([text]);
      if (!vector) throw new Error("cache: the embedder returned no vector");
      embedding = toFloat32(vector);
      const candidates = (await backend.candidates(request.task, scope, window)).filter((e) => isServable(e.createdAt, now, ttl));
      const match = bestMatch(embedding, candidates, config.semantic.threshold);
      if (match) {
        const hit = this.#serve(request, match.entry, "semantic", started);
        if (hit) return hit;
      }
    }

    this.#stats.misses += 1;
    if (config.cassette) {
      this.#recordRow(request, key, { provider: "cache", model: "cassette", status: "error", errorClass: "cache_miss", latencyMs: performance.now() - started, cache: "miss" });
      return { ok: false, errorClass: "cache_miss", message: `cassette mode: no cached answer for task "${request.task}" servable at ${new Date(now).toISOString()}`, trace: [] };
    }

    const outcome = await this.#o.inner.complete(request as RouterRequest);
    if (outcome.ok) {
      const entry: CacheEntry = {
        key,
        task: request.task,
        scope,
        createdAt: clock.now(),
        embedding,
        outcome: { answer: outcome.answer, result: outcome.result, provider: outcome.provider, model: outcome.model, tier: outcome.tier, costNusd: outcome.costNusd },
      };
      await backend.put(entry);
      this.#stats.stores += 1;
    }
    return outcome;
  }

  /** The stored answer as a fresh outcome, or undefined when it no longer passes the request's schema. */
  #serve(request: AnyRequest, entry: CacheEntry, kind: "exact" | "semantic", started: number): Success | undefined {
    let answer: unknown;
    if (request.answer) {
      const checked = request.answer.validate.safeParse(entry.outcome.answer);
      if (!checked.success) {
        this.#stats.invalid += 1;
        return undefined;
      }
      answer = checked.data;
    } else {
      if (typeof entry.outcome.answer !== "string") {
        this.#stats.invalid += 1;
        return undefined;
      }
      answer = entry.outcome.answer;
    }
    const o = entry.outcome;
    if (kind === "exact") this.#stats.exactHits += 1;
    else this.#stats.semanticHits += 1;
    this.#stats.savedNusd += o.costNusd;
    const callId = this.#recordRow(request, entry.key, {
      provider: o.provider,
      model: o.model,
      tier: o.tier,
      status: "ok",
      latencyMs: performance.now() - started,
      cache: kind,
      finishReason: o.result.finishReason,
    });
    const trace: AttemptTrace = { provider: o.provider, model: o.model, tier: o.tier, status: "ok", attempts: 0 };
    return { ok: true, answer, result: o.result, provider: o.provider, model: o.model, tier: o.tier, callId, costNusd: 0, trace: [trace] };
  }

  #recordRow(
    request: AnyRequest,
    key: string,
    row: { provider: string; model: string; tier?: string; status: "ok" | "error"; errorClass?: string; latencyMs: number; cache: "miss" | "exact" | "semantic"; finishReason?: string },
  ): string {
    const callId = randomUUID();
    this.#o.callLog.record({
      callId,
      simTs: this.#o.clock.now(),
      wallTs: Date.now(),
      task: request.task,
      ...(request.agent !== undefined ? { agent: request.agent } : {}),
      ...(row.tier !== undefined ? { tier: row.tier } : {}),
      provider: row.provider,
      model: row.model,
      promptHash: key,
      status: row.status,
      ...(row.errorClass !== undefined ? { errorClass: row.errorClass } : {}),
      attempts: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedTokens: 0,
      costNusd: 0,
      latencyMs: row.latencyMs,
      cache: row.cache,
      ...(row.finishReason !== undefined ? { finishReason: row.finishReason } : {}),
    });
    return callId;
  }

  /** The semantic partition: same route models, same answer schema, same sampling parameters. */
  #scope(request: AnyRequest): string {
    return canonicalJson({
      route: this.#o.scopeFor?.(request.task) ?? "",
      answer: request.answer?.name ?? "text",
      temperature: request.temperature ?? null,
      maxTokens: request.maxTokens ?? null,
      seed: request.seed ?? null,
    });
  }
}
