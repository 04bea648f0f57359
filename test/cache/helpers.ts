/** Test doubles for the cache: a provider that counts its calls, a scripted one that answers after a delay, a real Router over it, a fake embedder, a real redis-server. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { Provider, ProviderRequest, ProviderResult } from "../../providers/provider.ts";
import { ProviderError } from "../../providers/providerError.ts";
import type { Clock } from "../../harness/clock/clock.ts";
import { Budget } from "../../harness/router/budget.ts";
import { MemoryCallLog, type CallLog } from "../../harness/router/callLog.ts";
import { CircuitBreaker } from "../../harness/router/circuitBreaker.ts";
import { Endpoint } from "../../harness/router/endpoint.ts";
import { PriceTable } from "../../harness/router/pricing.ts";
import { Router } from "../../harness/router/router.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { CachedRouter } from "../../harness/cache/cachedRouter.ts";
import { parseCacheConfig, type CacheConfigInput } from "../../harness/cache/cacheConfig.ts";
import type { CacheBackend } from "../../harness/cache/cache.ts";
import { MemoryCache } from "../../harness/cache/backends/memoryCache.ts";
import type { Embedder } from "../../harness/cache/semantic.ts";

export const T0 = Date.UTC(2025, 10, 8, 12, 0, 0);
export const HOUR = 3_600_000;

/** Answers every request with a probability derived from a call counter, so each provider call gives a new answer. */
export class CountingProvider implements Provider {
  readonly name = "paid";
  calls = 0;
  async complete(request: ProviderRequest): Promise<ProviderResult> {
    this.calls += 1;
    const probability = Math.round((0.1 + 0.01 * this.calls) * 100) / 100;
    const text = JSON.stringify({ probability, confidence: 0.5, rationale: `call ${this.calls}: ${request.messages.at(-1)?.content.slice(0, 20) ?? ""}` });
    return { text, parsed: JSON.parse(text), usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 0 }, latencyMs: 5, ttftMs: 5, finishReason: "stop" };
  }
}

/** $1 per million input tokens, $2 per million output: a call above costs $0.0012 = 1,200,000 nano-dollars. */
export const CALL_COST_NUSD = 1_200_000;

/**
 * Answers after a delay, with an answer that depends only on the prompt and
 * on how many times that prompt was asked before (so a prompt sent twice gets
 * two different answers, and nothing depends on the order in which different
 * prompts reach it). A prompt containing FAIL_ONCE fails (bad_request, neither
 * retried nor counted by the breaker) the first time it is asked.
 */
export const FAIL_ONCE = "FAIL_ONCE";
export class ScriptedProvider implements Provider {
  readonly name = "paid";
  calls = 0;
  /** The user text of every request received, in arrival order. */
  readonly received: string[] = [];
  readonly #asked = new Map<string, number>();
  constructor(private readonly delayMs: (text: string) => number = () => 0) {}
  async complete(request: ProviderRequest): Promise<ProviderResult> {
    this.calls += 1;
    const text = request.messages.filter((m) => m.role === "user").map((m) => m.content).join("\n");
    this.received.push(text);
    const n = (this.#asked.get(text) ?? 0) + 1;
    this.#asked.set(text, n);
    await sleep(this.delayMs(text));
    if (text.includes(FAIL_ONCE) && n === 1) throw new ProviderError("bad_request", "scripted failure", { provider: this.name, status: 400 });
    const probability = Math.round((0.05 + ((fnv(text) % 80) + n) / 100) * 100) / 100;
    const answer = JSON.stringify({ probability, confidence: 0.5, rationale: `ask ${n}: ${text.slice(0, 30)}` });
    return { text: answer, parsed: JSON.parse(answer), usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 0 }, latencyMs: 5, ttftMs: 5, finishReason: "stop" };
  }
}

/** A 32-bit FNV-1a hash: deterministic delays and answers in tests. */
export function fnv(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makeRouterStack<L extends CallLog = MemoryCallLog, P extends Provider = CountingProvider>(
  clock: Clock,
  provider: P = new CountingProvider() as Provider as P,
  log: L = new MemoryCallLog() as CallLog as L,
) {
  const router = new Router({
    clock,
    endpoints: new Map([["paid", new Endpoint("paid", [provider], new CircuitBreaker(clock))]]),
    routes: {
      forecast: { chain: [{ endpoint: "paid", model: "m1", tier: "cheap" }] },
      screen: { chain: [{ endpoint: "paid", model: "m1", tier: "cheap" }] },
    },
    prices: new PriceTable({ models: { "paid/m1": { input: 1, output: 2 } } }),
    budget: new Budget(clock, { dailyNusd: 1_000_000_000 }),
    callLog: log,
  });
  return { router, provider, log };
}

/** A CachedRouter over a Router over `provider`; pass a DecisionClock to run requests inside atDecisionTime. */
export function makeCached<P extends Provider = CountingProvider>(config: CacheConfigInput, options: { backend?: CacheBackend; embedder?: Embedder; clock?: Clock; provider?: P } = {}) {
  const clock: Clock = options.clock ?? new SimulatedClock(T0);
  const stack = makeRouterStack<MemoryCallLog, P>(clock, options.provider ?? (new CountingProvider() as Provider as P));
  const cached = new CachedRouter({
    inner: stack.router,
    backend: options.backend ?? new MemoryCache(),
    config: parseCacheConfig(config),
    clock,
    callLog: stack.log,
    ...(options.embedder ? { embedder: options.embedder } : {}),
    scopeFor: () => "paid/m1",
  });
  return { ...stack, clock, cached };
}

export const ask = (content: string) => [{ role: "system" as const, content: "You forecast." }, { role: "user" as const, content }];

/**
 * A deterministic embedder: a bag of words hashed into 64 dimensions. Prompts
 * that differ by one word out of many are close (cosine > 0.95); unrelated prompts are not.
 */
export class BagOfWordsEmbedder implements Embedder {
  calls = 0;
  async embed(texts: readonly string[]): Promise<number[][]> {
    this.calls += 1;
    return texts.map((text) => {
      const v = new Array<number>(64).fill(0);
      for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
        let h = 2166136261;
        for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
        v[h % 64] = (v[h % 64] ?? 0) + 1;
      }
      return v;
    });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * The Redis server to test against: the one CI started (TAPEDECK_REDIS_URL),
 * else a redis-server child on a free loopback port, stopped afterwards.
 * Never a skip: if neither works the suite fails and says why.
 */
export async function redisForTests(): Promise<RedisHandle> {
  const fromEnv = process.env["TAPEDECK_REDIS_URL"];
  if (fromEnv) return { url: fromEnv, stop: async () => {} };
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (install it: apt-get install -y redis-server): ${error.message}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
