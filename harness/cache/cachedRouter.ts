/**
 * The response cache in front of the router, with the router's own
 * complete() signature so a strategy takes either. Lookup order: exact key,
 * then semantic (when on for the task), then the router, unless in cassette
 * mode, where a miss is an error outcome and no provider is ever called.
 *
 * Time is the run's clock: an entry is servable only when it was made at or
 * before now and is within the task's TTL (visibility.ts), so a rerun at an
 * earlier simulated time never sees answers made later. The semantic cache
 * is stricter: it serves only entries made strictly before now (an answer
 * made at the same simulated instant was not yet available to a similar
 * prompt; see #semanticLookup).
 *
 * A hit leaves one llm_calls row (cache "exact"/"semantic", cost 0, tokens 0,
 * latency = lookup time) and returns the original answer, provider, model
 * and tier with costNusd 0. A miss goes to the router, which logs its own
 * rows, and the answer is stored with createdAt = the clock's now.
 *
 * Concurrency keeps serial semantics. Requests are numbered in the order
 * complete() is called (issue order: the order a serial run makes them; the
 * pipeline issues each inside atDecisionTime so the clock reads its decision
 * time), and each one sees exactly the cache a serial run would have shown it:
 * - exact: a request waits for every earlier-issued request with the same key
 *   still in flight (a chain per key), then looks up. It is a hit when the
 *   earlier one stored an answer servable now, a miss (and a provider call)
 *   when it failed; identical requests are never sent twice at once, and no
 *   later-issued one can store under that key before it has looked up;
 * - semantic: a request waits for every earlier-issued request of the same
 *   task and scope still in flight whose prompt embedding matches its own
 *   (similarity >= threshold) and whose time is before its own (only those
 *   can store an entry it may be served), then looks up; entries stored by
 *   requests issued after it are ignored (they could only be visible if
 *   issue times went backwards, e.g. runs of a sweep sharing this router).
 * Requests at the same simulated time with different prompts never wait for
 * each other, so W requests of one decision instant run in parallel.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock/clock.ts";
import type { AnswerSpec } from "../../providers/forecastAnswer.ts";
import type { CallLog } from "../router/callLog.ts";
import type { AttemptTrace, Router, RouterOutcome, RouterRequest } from "../router/router.ts";
import type { CacheBackend, CacheEntry, KeyClaim } from "./cache.ts";
import { semanticApplies, ttlFor, type CacheConfig } from "./cacheConfig.ts";
import { emptyStats, type CacheStats } from "./cacheStats.ts";
import { canonicalJson, exactKey } from "./exactKey.ts";
import { bestMatch, cosine, promptText, toFloat32, type Embedder } from "./semantic.ts";
import { isServable, servableWindow } from "./visibility.ts";
import type { CacheMode } from "./cacheMode.ts";

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
  /** on (default), refresh (never serve, store over old answers) or read-only (serve, never store): cacheMode.ts. */
  mode?: Exclude<CacheMode, "off">;
}

type AnyRequest = RouterRequest & { answer?: AnswerSpec<unknown> };
type Success = Extract<RouterOutcome<unknown>, { ok: true }>;

/** A request between its complete() call and its end (answer stored, or none). */
interface Flight {
  /** Issue order. */
  readonly seq: number;
  readonly key: string;
  readonly task: string;
  readonly scope: string;
  /** The run clock when it was issued (its decision time inside atDecisionTime). */
  readonly at: number;
  /** The embedding an entry it stores would carry: settles when known, null when it will store none with an embedding. */
  readonly embedding: Promise<number[] | null>;
  setEmbedding(vector: number[] | null): void;
  /** Settles when the request has ended (anything it stores is stored). */
  readonly done: Promise<void>;
  finish(): void;
}

export class CachedRouter implements CompletingRouter {
  readonly backend: CacheBackend;
  readonly #o: CachedRouterOptions;
  readonly #stats = emptyStats();
  /** Requests in flight by issue number (insertion order is issue order, so the first is the oldest). */
  readonly #flights = new Map<number, Flight>();
  /** The last-issued in-flight request per exact key: the tail of that key's chain. */
  readonly #tailByKey = new Map<string, Flight>();
  /** Entries this router stored (key and createdAt) while an earlier-issued request was still in flight, with the storing request's number. */
  readonly #storedBy = new Map<string, number>();
  #nextSeq = 0;

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
    // Everything up to here is synchronous, so issue numbers follow the order of complete() calls.
    const flight = this.#issue(key, request.task, scope);
    const previous = this.#tailByKey.get(key);
    this.#tailByKey.set(key, flight);
    try {
      // Single flight per key, in issue order: the previous request with this key (which waited for its own predecessor) has stored its answer, if any.
      if (previous) await previous.done;
      return await this.#lookupOrCall(request, flight);
    } finally {
      this.#end(flight);
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

  async #lookupOrCall(request: AnyRequest, flight: Flight): Promise<RouterOutcome<unknown>> {
    const { config, clock, backend } = this.#o;
    const { key } = flight;
    const started = performance.now();
    const now = clock.now();
    const ttl = ttlFor(config, request.task);
    const mode = this.#o.mode ?? "on";
    const serve = mode !== "refresh";

    // Exact keeps visibility.ts's rule (made at or before now), same instant included: in a serial run
    // an identical request at the same simulated time finds the first one's answer (single flight shares
    // it), and the per-key chain makes every concurrent run do the same, so no stricter rule is needed.
    if (config.exact && serve) {
      const entry = await backend.getExact(key, servableWindow(now, ttl));
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
      flight.setEmbedding(embedding);
      const hit = serve ? await this.#semanticLookup(request, flight, embedding, ttl, started) : undefined;
      if (hit) return hit;
    } else {
      flight.setEmbedding(null); // what it stores carries no embedding: no semantic lookup waits for it
    }

    // Across processes (a shared backend): one of those missing on this key at once asks the provider, the others wait for its entry.
    let claim: KeyClaim | null = null;
    // (refresh asks anyway: it must not be served another process's answer.)
    if (config.exact && serve && backend.claim && !config.cassette) {
      const claimed = await this.#claimOrServe(request, key, now, ttl, started);
      if ("hit" in claimed) return claimed.hit;
      claim = claimed.claim;
    }
    try {
      return await this.#miss(request, flight, embedding, now, started);
    } finally {
      await claim?.release();
    }
  }

  /**
   * Takes the key's claim, or waits (polling, up to 50 ms apart) until the process holding it stored an
   * answer servable now (a hit) or let it go without one (a failed call, a dead holder: its claim expires),
   * then takes it. Holding it, looks up once more: the holder may have stored and released in between.
   */
  async #claimOrServe(request: AnyRequest, key: string, now: number, ttl: number, started: number): Promise<{ hit: Success } | { claim: KeyClaim }> {
    const { backend } = this.#o;
    const servedNow = async (): Promise<Success | undefined> => {
      const entry = await backend.getExact(key, servableWindow(now, ttl));
      return entry && isServable(entry.createdAt, now, ttl) ? this.#serve(request, entry, "exact", started) : undefined;
    };
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      const claim = await backend.claim!(key);
      if (claim) {
        const hit = await servedNow().catch(async (error: unknown) => {
          await claim.release();
          throw error;
        });
        if (!hit) return { claim };
        await claim.release();
        return { hit };
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      const hit = await servedNow();
      if (hit) return { hit };
    }
  }

  async #miss(request: AnyRequest, flight: Flight, embedding: number[] | null, now: number, started: number): Promise<RouterOutcome<unknown>> {
    const { config, clock, backend } = this.#o;
    const { key, scope } = flight;
    const mode = this.#o.mode ?? "on";
    this.#stats.misses += 1;
    if (config.cassette) {
      this.#recordRow(request, key, { provider: "cache", model: "cassette", status: "error", errorClass: "cache_miss", latencyMs: performance.now() - started, cache: "miss" });
      return { ok: false, errorClass: "cache_miss", message: `cassette mode: no cached answer for task "${request.task}" servable at ${new Date(now).toISOString()}`, trace: [] };
    }

    const outcome = await this.#o.inner.complete(request as RouterRequest);
    if (outcome.ok && mode !== "read-only") {
      const entry: CacheEntry = {
        key,
        task: request.task,
        scope,
        createdAt: clock.now(),
        embedding,
        outcome: { answer: outcome.answer, result: outcome.result, provider: outcome.provider, model: outcome.model, tier: outcome.tier, costNusd: outcome.costNusd },
      };
      await backend.put(entry, { replace: mode === "refresh" });
      this.#stats.stores += 1;
      // Only requests issued before this one and still in flight could be shown this entry out of order.
      const oldest = this.#flights.keys().next().value;
      if (oldest !== undefined && oldest < flight.seq) this.#storedBy.set(entryId(entry.key, entry.createdAt), flight.seq);
    }
    return outcome;
  }

  /**
   * Semantic lookup as a serial run makes it. First wait for the earlier-issued requests still in flight
   * that could store an entry this one would be served: same task and scope, a matching embedding, and a
   * time before this one's (the clock never goes backwards, so an entry they store is made at or after
   * their time, and a time at or after this one's is never served here). Then serve only entries made
   * strictly before now: an answer made at the same simulated instant did not exist yet when this prompt
   * was asked (live, both calls would be out together), and requests of one instant need not wait for
   * one another. Entries stored by later-issued requests are skipped: a serial run had not made them.
   */
  async #semanticLookup(request: AnyRequest, flight: Flight, embedding: number[], ttl: number, started: number): Promise<Success | undefined> {
    const { config, clock, backend } = this.#o;
    const threshold = config.semantic.threshold;
    const earlier = [...this.#flights.values()].filter((f) => f.seq < flight.seq && f.task === flight.task && f.scope === flight.scope && f.at < flight.at);
    for (const other of earlier) {
      const theirs = await other.embedding;
      if (theirs && theirs.length === embedding.length && cosine(embedding, theirs) >= threshold) await other.done;
    }
    const now = clock.now();
    const candidates = (await backend.candidates(flight.task, flight.scope, servableWindow(now, ttl))).filter(
      (e) => e.createdAt < now && isServable(e.createdAt, now, ttl) && (this.#storedBy.get(entryId(e.key, e.createdAt)) ?? -1) < flight.seq,
    );
    const match = bestMatch(embedding, candidates, threshold);
    return match ? this.#serve(request, match.entry, "semantic", started) : undefined;
  }

  #issue(key: string, task: string, scope: string): Flight {
    let setEmbedding!: (vector: number[] | null) => void;
    let finish!: () => void;
    const embedding = new Promise<number[] | null>((resolve) => (setEmbedding = resolve));
    const done = new Promise<void>((resolve) => (finish = resolve));
    const flight: Flight = { seq: this.#nextSeq++, key, task, scope, at: this.#o.clock.now(), embedding, setEmbedding, done, finish };
    this.#flights.set(flight.seq, flight);
    return flight;
  }

  #end(flight: Flight): void {
    flight.setEmbedding(null); // no-op when already set; unblocks waiters when it ended early (hit, error)
    this.#flights.delete(flight.seq);
    if (this.#tailByKey.get(flight.key) === flight) this.#tailByKey.delete(flight.key);
    // An entry matters to the requests issued before the one that stored it; forget it once none is in flight.
    const oldest = this.#flights.keys().next().value ?? Number.POSITIVE_INFINITY;
    for (const [id, seq] of this.#storedBy) if (seq <= oldest) this.#storedBy.delete(id);
    flight.finish();
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
      servedText: o.result.text,
    });
    const trace: AttemptTrace = { provider: o.provider, model: o.model, tier: o.tier, status: "ok", attempts: 0, callId };
    return { ok: true, answer, result: o.result, provider: o.provider, model: o.model, tier: o.tier, callId, costNusd: 0, trace: [trace] };
  }

  #recordRow(
    request: AnyRequest,
    key: string,
    row: { provider: string; model: string; tier?: string; status: "ok" | "error"; errorClass?: string; latencyMs: number; cache: "miss" | "exact" | "semantic"; finishReason?: string; servedText?: string },
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
      ...(row.servedText !== undefined ? { servedText: row.servedText } : {}),
      messages: request.messages,
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

function entryId(key: string, createdAt: number): string {
  return `${key}@${createdAt}`;
}
