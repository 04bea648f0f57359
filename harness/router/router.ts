/**
 * The model router: per task, an ordered chain of models across tiers
 * (local, cheap, balanced, premium), tried in turn. For each model: the call
 * waits in the endpoint's queue; when it leaves it, the breaker is asked (a
 * ticket) and the worst-case cost reserved, then it goes on the wire, with
 * retries (full-jitter backoff, Retry-After honoured) on rate-limit, server,
 * timeout and network errors only; then usage checks (usageCheck.ts: odd
 * figures are charged the reservation, never more), answer limits and
 * schema/range validation, cost settlement, a row in the call log. A bad
 * request, auth failure or malformed answer moves straight to the next model.
 *
 * Every provider tried leaves one llm_calls row, so a call is always either
 * answered or recorded as failed, never lost.
 *
 * Two clocks: the injected `clock` is the run's (simulated in replay; inside
 * `atDecisionTime` it answers the request's decision time) and drives the
 * budgets' days, the ledger and sim_ts; `healthClock` is monotonic wall time
 * and drives provider health (breakers, Retry-After cool-downs), which is
 * physical even in replay.
 *
 * Identical requests in flight at once (same endpoint, same provider request)
 * go out once: the others share the outcome, its one llm_calls row and its
 * callId. A resumed run can hand in the answer journal of its interrupted
 * part: a call found there is answered from it without reaching the provider.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock/clock.ts";
import type { ChatMessage, Provider, ProviderRequest, ProviderResult } from "../../providers/provider.ts";
import { ProviderError, RETRYABLE, type ErrorClass } from "../../providers/providerError.ts";
import type { AnswerSpec } from "../../providers/forecastAnswer.ts";
import { tryParseJsonAnswer } from "../../providers/structuredOutput.ts";
import { requestKey } from "../../providers/cassette.ts";
import { DEFAULT_RETRY, realSleep, retryDelay, type RetryPolicy, type Sleep } from "./backoff.ts";
import type { Budget, Reservation, ReserveOutcome } from "./budget.ts";
import { answerProblem, toWellFormed } from "../../providers/answerLimits.ts";
import { checkUsage, type UsageAnomaly } from "./usageCheck.ts";
import type { AnswerJournal, JournalEntry } from "./callJournal.ts";
import type { CallLog, CallRecord } from "./callLog.ts";
import { monotonicClock, type HealthClock } from "./circuitBreaker.ts";
import { CostLedger } from "./costLedger.ts";
import type { Endpoint } from "./endpoint.ts";
import { FREE, costNusd, worstCaseNusd, type ModelPrice, type PriceTable } from "./pricing.ts";

export type Tier = "local" | "cheap" | "balanced" | "premium";

export interface ModelRef {
  endpoint: string;
  model: string;
  tier: Tier;
}

export interface RouteSpec {
  chain: readonly ModelRef[];
  /** Tried first when the prefer-premium rule holds. */
  premium?: readonly ModelRef[] | undefined;
  preferPremiumWhen?: { minEdge?: number | undefined; minStakeUsd?: number | undefined } | undefined;
  maxTokens?: number | undefined;
  timeoutMs?: number | undefined;
  temperature?: number | undefined;
}

export interface ExhaustedPolicy {
  /** next: try the next model in the chain; free_only: skip paid models and try `fallback`; abstain: stop. */
  action: "next" | "free_only" | "abstain";
  fallback?: readonly ModelRef[];
}

export type RouterLogger = (level: "info" | "warn", message: string, fields?: Readonly<Record<string, unknown>>) => void;

export interface RouterDeps {
  /** The run's clock (simulated in replay): budget days and months, ledger, sim_ts. */
  clock: Pick<Clock, "now">;
  /** Wall time for provider health (breakers, cool-downs); monotonic (performance.now) by default. */
  healthClock?: HealthClock;
  /** Answers already received by an interrupted run, looked up by prompt hash before a call goes out. */
  journal?: AnswerJournal;
  endpoints: ReadonlyMap<string, Endpoint>;
  routes: Readonly<Record<string, RouteSpec>>;
  prices: PriceTable;
  budget: Budget;
  callLog: CallLog;
  ledger?: CostLedger;
  retry?: RetryPolicy;
  whenExhausted?: ExhaustedPolicy;
  defaults?: { maxTokens?: number; timeoutMs?: number };
  rng?: () => number;
  sleep?: Sleep;
  logger?: RouterLogger;
}

export interface RouterRequest {
  task: string;
  agent?: string;
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Expected edge of the decision this call serves (0..1) and the stake in dollars: inputs to the prefer-premium rule. */
  edge?: number;
  stakeUsd?: number;
}

export interface AttemptTrace {
  provider: string;
  model: string;
  tier: Tier;
  status: CallRecord["status"] | "skipped";
  errorClass?: string;
  attempts: number;
  /** The llm_calls row this attempt wrote (absent when it wrote none, e.g. skipped by an open breaker). */
  callId?: string;
}

export type RouterOutcome<T> =
  | {
      ok: true;
      answer: T;
      result: ProviderResult;
      provider: string;
      model: string;
      tier: Tier;
      callId: string;
      costNusd: number;
      trace: AttemptTrace[];
    }
  | { ok: false; errorClass: string; message: string; trace: AttemptTrace[] };

/** Failures that say something about the provider's health (a bad request or a silly answer does not). */
const BREAKER_COUNTS: ReadonlySet<ErrorClass> = new Set(["rate_limited", "server", "timeout", "network", "auth"]);

/** What one trip through the endpoint's queue came back with. */
type SendOutcome =
  | { kind: "open" }
  | { kind: "wait"; pending: Promise<ReserveOutcome> }
  | { kind: "refused"; outcome: Extract<ReserveOutcome, { ok: false }> }
  | { kind: "sent"; result: ProviderResult }
  | { kind: "failed"; failure: ProviderError };


type CandidateOutcome<T> =
  | { kind: "ok"; outcome: Extract<RouterOutcome<T>, { ok: true }> }
  | { kind: "failed"; errorClass: string; message: string; trace: AttemptTrace; refusedByBudget: boolean; stopChain?: boolean };

/** A copy for one sharer of an in-flight call: the outcome's trace is its own (complete() prepends to it). */
function copyCandidate<T>(c: CandidateOutcome<T>): CandidateOutcome<T> {
  if (c.kind === "ok") return { kind: "ok", outcome: { ...c.outcome, trace: c.outcome.trace.map((t) => ({ ...t })) } };
  return { ...c, trace: { ...c.trace } };
}

export class Router {
  readonly ledger: CostLedger;
  /** The budget calls reserve from; seed it (budget.seedSpent) when resuming a run. */
  readonly budget: Budget;
  readonly #deps: RouterDeps;
  readonly #retry: RetryPolicy;
  readonly #rng: () => number;
  readonly #sleep: Sleep;
  readonly #log: RouterLogger;
  readonly #health: HealthClock;
  readonly #inflight = new Map<string, Promise<CandidateOutcome<unknown>>>();
  /** Odd usage seen so far, by kind (usageCheck.ts): each one was charged at most its reservation and logged. */
  readonly usageAnomalies = new Map<UsageAnomaly, number>();

  constructor(deps: RouterDeps) {
    this.#deps = deps;
    this.budget = deps.budget;
    this.#health = deps.healthClock ?? monotonicClock;
    this.ledger = deps.ledger ?? new CostLedger();
    this.#retry = deps.retry ?? DEFAULT_RETRY;
    this.#rng = deps.rng ?? Math.random;
    this.#sleep = deps.sleep ?? realSleep;
    this.#log = deps.logger ?? (() => {});
    for (const [task, route] of Object.entries(deps.routes)) {
      for (const ref of [...route.chain, ...(route.premium ?? []), ...(deps.whenExhausted?.fallback ?? [])]) this.#price(ref, task);
    }
  }

  complete<T>(request: RouterRequest & { answer: AnswerSpec<T> }): Promise<RouterOutcome<T>>;
  complete(request: RouterRequest): Promise<RouterOutcome<string>>;
  async complete<T>(request: RouterRequest & { answer?: AnswerSpec<T> }): Promise<RouterOutcome<T | string>> {
    const route = this.#deps.routes[request.task];
    if (!route) return { ok: false, errorClass: "bad_request", message: `no route for task "${request.task}"`, trace: [] };
    const trace: AttemptTrace[] = [];
    let last: { errorClass: string; message: string } = { errorClass: "bad_request", message: "empty chain" };
    let paidAllowed = true;
    const exhausted = this.#deps.whenExhausted ?? { action: "next" };
    const chain = [...this.#chain(route, request), ...(exhausted.action === "free_only" ? (exhausted.fallback ?? []) : [])];
    const seen = new Set<string>();
    for (const ref of chain) {
      const key = `${ref.endpoint}/${ref.model}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const price = this.#price(ref, request.task);
      const free = price.inputPusd === 0 && price.outputPusd === 0 && price.cachedInputPusd === 0;
      if (!paidAllowed && !free) continue;
      const candidate = await this.#tryModel(ref, price, route, request);
      if (candidate.kind === "ok") {
        candidate.outcome.trace.unshift(...trace);
        return candidate.outcome;
      }
      trace.push(candidate.trace);
      last = { errorClass: candidate.errorClass, message: candidate.message };
      if (candidate.stopChain) break;
      if (candidate.refusedByBudget) {
        if (exhausted.action === "abstain") break;
        if (exhausted.action === "free_only") paidAllowed = false;
      }
    }
    if (trace.length > 0 && trace.every((t) => t.status === "skipped")) {
      // Nothing went out (every breaker open): record the call as failed so it is not lost.
      const first = trace[0];
      if (first) this.#record(request, first, { status: "error", errorClass: "circuit_open", attempts: 0 });
    }
    return { ok: false, ...last, trace };
  }

  /**
   * Null while the run's real-money cap (budget.runUsd) holds; once it has
   * refused a call, the one-line message naming it. The run should stop
   * there: every later paid call is refused with errorClass run_budget.
   */
  runBudgetExhausted(): string | null {
    return this.#deps.budget.runExhausted;
  }

  /** The first provider that can embed text (the local model, an Ollama endpoint), for the semantic cache. */
  embedder(): { embed(texts: readonly string[]): Promise<number[][]> } | undefined {
    for (const endpoint of this.#deps.endpoints.values()) {
      for (const client of endpoint.clients) {
        const candidate = client as Provider & { embed?: (texts: readonly string[]) => Promise<number[][]> };
        if (typeof candidate.embed === "function") return { embed: (texts) => candidate.embed!(texts) };
      }
    }
    return undefined;
  }

  /**
   * One cheap request per endpoint a route uses (its first client), in parallel, before a run:
   * rejects with one line naming each endpoint that is unreachable or refuses its key.
   */
  async preflight(): Promise<void> {
    const used = new Set<string>();
    for (const route of Object.values(this.#deps.routes)) for (const ref of [...route.chain, ...(route.premium ?? [])]) used.add(ref.endpoint);
    for (const ref of this.#deps.whenExhausted?.fallback ?? []) used.add(ref.endpoint);
    const failures: string[] = [];
    await Promise.all(
      [...used].map(async (name) => {
        const client = this.#deps.endpoints.get(name)?.clients[0];
        try {
          await client?.preflight?.();
        } catch (error) {
          failures.push(`endpoint "${name}": ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
    if (failures.length > 0) throw new Error(`pre-flight check failed, nothing was run: ${failures.sort().join("; ")}`);
  }

  /** Release every provider's resources (loaded local models); the router is unusable afterwards. */
  async close(): Promise<void> {
    for (const endpoint of this.#deps.endpoints.values()) {
      await endpoint.queue.onIdle();
      for (const client of endpoint.clients) await client.dispose?.();
    }
  }

  #chain(route: RouteSpec, request: RouterRequest): ModelRef[] {
    const rule = route.preferPremiumWhen;
    const premium =
      route.premium !== undefined &&
      rule !== undefined &&
      ((rule.minEdge !== undefined && request.edge !== undefined && Math.abs(request.edge) >= rule.minEdge) ||
        (rule.minStakeUsd !== undefined && request.stakeUsd !== undefined && request.stakeUsd >= rule.minStakeUsd));
    return premium ? [...(route.premium ?? []), ...route.chain] : [...route.chain];
  }

  #price(ref: ModelRef, task: string): ModelPrice {
    const endpoint = this.#deps.endpoints.get(ref.endpoint);
    if (!endpoint) throw new Error(`route ${task}: unknown endpoint "${ref.endpoint}"`);
    const price = this.#deps.prices.lookup(ref.endpoint, ref.model);
    if (price) return price;
    if (endpoint.freeByDefault) return FREE;
    throw new Error(`route ${task}: no price for ${ref.endpoint}/${ref.model} (add it to the price table, at 0 if it is free)`);
  }

  /** One model of the chain, shared with identical requests already in flight. */
  async #tryModel<T>(ref: ModelRef, price: ModelPrice, route: RouteSpec, request: RouterRequest & { answer?: AnswerSpec<T> }): Promise<CandidateOutcome<T | string>> {
    const maxTokens = request.maxTokens ?? route.maxTokens ?? this.#deps.defaults?.maxTokens ?? 1024;
    const timeoutMs = request.timeoutMs ?? route.timeoutMs ?? this.#deps.defaults?.timeoutMs;
    const temperature = request.temperature ?? route.temperature;
    const providerRequest: ProviderRequest = {
      model: ref.model,
      messages: request.messages,
      maxTokens,
      ...(temperature !== undefined ? { temperature } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.answer ? { schema: { name: request.answer.name, jsonSchema: request.answer.jsonSchema } } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    };
    const promptHash = requestKey(ref.endpoint, providerRequest);
    const shared = this.#inflight.get(promptHash) as Promise<CandidateOutcome<T | string>> | undefined;
    if (shared) return copyCandidate(await shared);
    const flight = this.#attempt(ref, price, request, providerRequest, promptHash);
    this.#inflight.set(promptHash, flight);
    try {
      return copyCandidate(await flight);
    } finally {
      if (this.#inflight.get(promptHash) === flight) this.#inflight.delete(promptHash);
    }
  }

  async #attempt<T>(
    ref: ModelRef,
    price: ModelPrice,
    request: RouterRequest & { answer?: AnswerSpec<T> },
    providerRequest: ProviderRequest,
    promptHash: string,
  ): Promise<CandidateOutcome<T | string>> {
    const endpoint = this.#deps.endpoints.get(ref.endpoint);
    if (!endpoint) throw new Error(`unknown endpoint ${ref.endpoint}`);
    const base: AttemptTrace = { provider: ref.endpoint, model: ref.model, tier: ref.tier, status: "skipped", attempts: 0 };
    const journaled = this.#deps.journal?.take(promptHash);
    const maxTokens = providerRequest.maxTokens ?? 1024;
    const promptBytes = request.messages.reduce((n, m) => n + Buffer.byteLength(m.content, "utf8") + 8, 0) + (request.answer ? Buffer.byteLength(JSON.stringify(request.answer.jsonSchema)) + 64 : 0);
    const worst = worstCaseNusd(price, promptBytes, maxTokens);
    const breaker = endpoint.breaker;
    const refused = (outcome: Extract<ReserveOutcome, { ok: false }>): CandidateOutcome<T | string> => {
      const errorClass = outcome.kind;
      this.#log("warn", errorClass === "run_budget" ? "the run's real-money cap refused a call" : "budget refused a call", { task: request.task, provider: ref.endpoint, model: ref.model, reason: outcome.reason });
      const trace: AttemptTrace = { ...base, status: "refused", errorClass };
      this.#record(request, trace, { status: "refused", errorClass, attempts: 0, promptHash });
      return { kind: "failed", errorClass, message: outcome.reason, trace, refusedByBudget: errorClass === "budget", stopChain: errorClass === "run_budget" };
    };
    const circuitOpen = (): CandidateOutcome<T | string> => ({
      kind: "failed",
      errorClass: "circuit_open",
      message: `${ref.endpoint}: circuit open`,
      trace: { ...base, errorClass: "circuit_open" },
      refusedByBudget: false,
    });

    let reservation: Reservation | undefined;
    if (journaled) {
      // Answered from the interrupted run's journal: no queue, no breaker, its recorded cost counted again.
      const asked = await this.#deps.budget.reserve(ref.tier, worst);
      if (!asked.ok) return refused(asked);
      reservation = asked.reservation;
    }
    try {
      let result: ProviderResult | undefined;
      let failure: ProviderError | undefined;
      let attempts = 0;
      let latencyMs = 0;
      if (journaled) {
        result = journalResult(journaled);
        latencyMs = journaled.latencyMs ?? 0;
      } else {
        const started = performance.now();
        const at = this.#deps.clock.now(); // read here: the queue callback runs outside this request's atDecisionTime context
        let priority = 0;
        for (;;) {
          // The breaker and the budget are asked when the call leaves the queue, just before it goes on the wire.
          const client = endpoint.nextClient();
          const sent = await endpoint.queue.add(async (): Promise<SendOutcome> => {
            const ticket = breaker.admit(this.#health.now());
            if (!ticket) return { kind: "open" };
            if (!reservation) {
              const asked = this.#deps.budget.request(ref.tier, worst, at);
              if ("pending" in asked) {
                breaker.released(ticket);
                return { kind: "wait", pending: asked.pending }; // give the slot back while earlier calls settle
              }
              if (!asked.outcome.ok) {
                breaker.released(ticket);
                return { kind: "refused", outcome: asked.outcome };
              }
              reservation = asked.outcome.reservation;
            }
            try {
              const answered = await client.complete(providerRequest);
              breaker.succeeded(ticket);
              return { kind: "sent", result: answered };
            } catch (error) {
              const classified = error instanceof ProviderError ? error : new ProviderError("server", error instanceof Error ? error.message : String(error), { provider: ref.endpoint });
              if (BREAKER_COUNTS.has(classified.errorClass)) breaker.failed(ticket, this.#health.now());
              else breaker.released(ticket);
              return { kind: "failed", failure: classified };
            }
          }, { priority });
          if (sent.kind === "wait") {
            const decided = await sent.pending;
            if (!decided.ok) return refused(decided);
            reservation = decided.reservation;
            priority = 1; // reserved: goes out ahead of calls that have not
            continue;
          }
          if (sent.kind === "refused") return refused(sent.outcome);
          if (sent.kind === "open") {
            if (attempts === 0) return circuitOpen();
            break; // a retry found the breaker open: the last failure stands
          }
          attempts += 1;
          if (sent.kind === "sent") {
            result = sent.result;
            break;
          }
          failure = sent.failure;
          if (!RETRYABLE.has(failure.errorClass) || attempts > this.#retry.maxRetries || request.signal?.aborted) break;
          const retryAfter = failure.details.retryAfterMs;
          if (retryAfter !== undefined && retryAfter > this.#retry.maxRetryAfterMs) {
            breaker.coolDownUntil(this.#health.now() + retryAfter);
            break;
          }
          await this.#sleep(retryDelay(attempts - 1, this.#retry, this.#rng, retryAfter));
        }
        latencyMs = performance.now() - started;
      }

      if (!result) {
        const errorClass = failure?.errorClass ?? "server";
        const trace: AttemptTrace = { ...base, status: "error", errorClass, attempts };
        this.#record(request, trace, { status: "error", errorClass, attempts, promptHash, latencyMs });
        this.#log("warn", "model call failed", { task: request.task, provider: ref.endpoint, model: ref.model, errorClass, attempts, message: failure?.message });
        return { kind: "failed", errorClass, message: failure?.message ?? errorClass, trace, refusedByBudget: false };
      }
      const held = reservation as Reservation;

      // Paid for whether or not the answer is usable: settle and account before validating.
      let cost: number;
      let reportedNusd: number | undefined;
      let usage = result.usage;
      if (journaled) {
        cost = Math.min(journaled.costNusd, held.amountNusd);
        reportedNusd = journaled.reportedCostNusd;
      } else {
        const checked = checkUsage(result, price, promptBytes, maxTokens, held.amountNusd);
        cost = checked.chargeNusd;
        reportedNusd = checked.reportedNusd;
        usage = checked.usage;
        for (const anomaly of checked.anomalies) this.usageAnomalies.set(anomaly, (this.usageAnomalies.get(anomaly) ?? 0) + 1);
        if (checked.anomalies.length > 0) {
          this.#log("warn", "usage anomaly: charged at most the reserved worst case", {
            task: request.task,
            provider: ref.endpoint,
            model: ref.model,
            anomalies: checked.anomalies,
            claimedNusd: checked.claimedNusd,
            chargedNusd: cost,
            reservedNusd: held.amountNusd,
          });
        } else if (reportedNusd !== undefined) {
          const computed = costNusd(price, usage);
          if (reportedNusd !== computed) this.#log("info", "provider-reported cost differs from the price table", { provider: ref.endpoint, model: ref.model, reportedNusd, computedNusd: computed });
        }
      }
      this.#deps.budget.settle(held, cost);
      reservation = undefined;
      const clockTs = this.#deps.clock.now();
      this.ledger.add({ provider: ref.endpoint, model: ref.model, task: request.task, tier: ref.tier, ts: clockTs, costNusd: cost, ...(request.agent !== undefined ? { agent: request.agent } : {}) });

      // Limits first (size, nesting, encoding): nothing past them reaches a cache, a store or a clone.
      let answer: T | string = result.text;
      const value = request.answer ? (result.parsed !== undefined ? result.parsed : tryParseJsonAnswer(result.text)) : undefined;
      let malformed = answerProblem(result.text, value);
      if (malformed === undefined && request.answer) {
        const checked = value === undefined ? undefined : request.answer.validate.safeParse(value);
        if (!checked) malformed = `answer is not JSON: ${JSON.stringify(result.text.slice(0, 120))}`;
        else if (!checked.success) malformed = `answer out of schema or range: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
        else answer = checked.data;
      }
      if (malformed === undefined && journaled?.status === "malformed_output") {
        // The interrupted run found this answer malformed; its stored text may be the well-formed copy (a lone
        // surrogate made U+FFFD) and pass now: the verdict stands, or the resumed run would answer differently.
        malformed = "answer found malformed by the interrupted run (journal)";
      }
      // What travels on holds only checked data: the raw text as an opaque string, no parsed tree.
      const { parsed: _unchecked, ...kept } = result;
      const clean: ProviderResult = { ...kept, usage };
      const usageFields = {
        attempts,
        promptHash,
        latencyMs,
        ttftMs: result.ttftMs,
        usage: clean,
        costNusd: cost,
        answerText: toWellFormed(result.text),
        ...(reportedNusd !== undefined ? { reportedCostNusd: reportedNusd } : {}),
      };
      if (malformed !== undefined) {
        const trace: AttemptTrace = { ...base, status: "error", errorClass: "malformed_output", attempts };
        // A journaled answer already has its row.
        if (!journaled) this.#record(request, trace, { status: "error", errorClass: "malformed_output", ...usageFields });
        else trace.callId = journaled.callId;
        this.#log("warn", "malformed model answer", { task: request.task, provider: ref.endpoint, model: ref.model, detail: malformed, ...(journaled ? { journal: journaled.callId } : {}) });
        return { kind: "failed", errorClass: "malformed_output", message: malformed, trace, refusedByBudget: false };
      }
      const trace: AttemptTrace = { ...base, status: "ok", attempts };
      const callId = journaled ? journaled.callId : this.#record(request, trace, { status: "ok", ...usageFields });
      return {
        kind: "ok",
        outcome: { ok: true, answer, result: clean, provider: ref.endpoint, model: ref.model, tier: ref.tier, callId, costNusd: cost, trace: [trace] },
      };
    } finally {
      // Never leave a reservation open: later reservations may be waiting for it.
      if (reservation) this.#deps.budget.settle(reservation, 0);
    }
  }

  #record(
    request: RouterRequest,
    trace: AttemptTrace,
    fields: {
      status: CallRecord["status"];
      errorClass?: string;
      attempts: number;
      promptHash?: string;
      latencyMs?: number;
      ttftMs?: number;
      usage?: ProviderResult;
      costNusd?: number;
      reportedCostNusd?: number;
      answerText?: string;
    },
  ): string {
    const callId = randomUUID();
    const r = fields.usage;
    this.#deps.callLog.record({
      callId,
      simTs: this.#deps.clock.now(),
      wallTs: Date.now(),
      task: request.task,
      ...(request.agent !== undefined ? { agent: request.agent } : {}),
      tier: trace.tier,
      provider: trace.provider,
      model: trace.model,
      ...(fields.promptHash !== undefined ? { promptHash: fields.promptHash } : {}),
      status: fields.status,
      ...(fields.errorClass !== undefined ? { errorClass: fields.errorClass } : {}),
      attempts: fields.attempts,
      inputTokens: r?.usage.inputTokens ?? 0,
      outputTokens: r?.usage.outputTokens ?? 0,
      cachedTokens: r?.usage.cachedInputTokens ?? 0,
      costNusd: fields.costNusd ?? 0,
      ...(fields.reportedCostNusd !== undefined ? { reportedCostNusd: fields.reportedCostNusd } : {}),
      ...(fields.latencyMs !== undefined ? { latencyMs: fields.latencyMs } : {}),
      ...(fields.ttftMs !== undefined ? { ttftMs: fields.ttftMs } : {}),
      ...(r?.gpuMs !== undefined ? { gpuMs: r.gpuMs } : {}),
      cache: "miss",
      ...(r ? { finishReason: r.finishReason } : {}),
      ...(fields.answerText !== undefined ? { answerText: fields.answerText } : {}),
      messages: request.messages,
    });
    trace.callId = callId;
    return callId;
  }
}

/** The provider result a journal entry stands for (the text is parsed and validated again, like a fresh answer). */
function journalResult(entry: JournalEntry): ProviderResult {
  return {
    text: entry.text,
    usage: { inputTokens: entry.inputTokens, outputTokens: entry.outputTokens, cachedInputTokens: entry.cachedTokens },
    latencyMs: entry.latencyMs ?? 0,
    ttftMs: entry.ttftMs ?? entry.latencyMs ?? 0,
    finishReason: entry.finishReason ?? "stop",
    ...(entry.reportedCostNusd !== undefined ? { reportedCostUsd: entry.reportedCostNusd / 1e9 } : {}),
    ...(entry.gpuMs !== undefined ? { gpuMs: entry.gpuMs } : {}),
  };
}
