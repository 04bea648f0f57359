/**
 * `tapedeck bench router`: what the router itself costs.
 *  1. Overhead per call: the same call through the router (breaker, budget
 *     reservation and settlement, p-queue, validation, ledger, call log)
 *     minus the call straight to the provider, against a zero-latency
 *     loopback OpenAI-compatible server; and against an in-process provider
 *     with no HTTP at all (the router's pure bookkeeping).
 *  2. Wall time for N calls at concurrency C against a server with a fixed
 *     latency L, compared with the ideal N·L/C.
 * The server runs in a worker thread (fixedLatencyServer.ts) and speaks the
 * real wire protocol to the real `openai` client.
 */
import { startFixedLatencyServer } from "./fixedLatencyServer.ts";
import { OpenAiCompatibleProvider } from "../../providers/openaiCompatible.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import type { Provider, ProviderResult } from "../../providers/provider.ts";
import { Budget } from "../router/budget.ts";
import { MemoryCallLog } from "../router/callLog.ts";
import { CircuitBreaker } from "../router/circuitBreaker.ts";
import { Endpoint } from "../router/endpoint.ts";
import { PriceTable } from "../router/pricing.ts";
import { Router } from "../router/router.ts";

export interface RouterBenchOptions {
  overheadCalls?: number;
  calls?: number;
  concurrency?: number;
  latencyMs?: number;
}

export interface RouterBenchResult {
  directMsPerCall: number;
  routedMsPerCall: number;
  overheadMsPerCall: number;
  inProcessOverheadUsPerCall: number;
  calls: number;
  concurrency: number;
  latencyMs: number;
  wallMs: number;
  idealMs: number;
  efficiency: number;
  failed: number;
}

const ANSWER = JSON.stringify({ probability: 0.5, confidence: 0.5, rationale: "bench" });
const messages = [{ role: "user" as const, content: "Will it rain tomorrow?" }];
/** A distinct prompt per concurrent call: identical requests in flight together are sent once (single flight). */
const ask = (i: number) => [{ role: "user" as const, content: `Will it rain tomorrow? (#${i})` }];

function routerOver(provider: Provider, concurrency: number): Router {
  const clock = { now: () => Date.now() };
  return new Router({
    clock,
    endpoints: new Map([[provider.name, new Endpoint(provider.name, [provider], new CircuitBreaker(clock), { concurrency })]]),
    routes: { forecast: { chain: [{ endpoint: provider.name, model: "bench-model", tier: "cheap" }], maxTokens: 64 } },
    prices: new PriceTable({ models: { "bench-model": { input: "0.27", output: "1.10" } } }),
    budget: new Budget(clock, { dailyNusd: 1e15 }),
    callLog: new MemoryCallLog(),
  });
}

async function timeSequential(n: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(50, n); i++) await call(); // warm-up (JIT, keep-alive sockets)
  const started = performance.now();
  for (let i = 0; i < n; i++) await call();
  return (performance.now() - started) / n;
}

export async function benchRouter(options: RouterBenchOptions = {}): Promise<RouterBenchResult> {
  const overheadCalls = options.overheadCalls ?? 1000;
  const calls = options.calls ?? 1000;
  const concurrency = options.concurrency ?? 32;
  const latencyMs = options.latencyMs ?? 50;

  const instant = await startFixedLatencyServer(0, ANSWER);
  let directMsPerCall: number;
  let routedMsPerCall: number;
  try {
    const provider = new OpenAiCompatibleProvider({ name: "loopback", baseURL: instant.baseURL, apiKey: "bench" });
    const router = routerOver(provider, 1);
    const schema = { name: forecastAnswer.name, jsonSchema: forecastAnswer.jsonSchema };
    // Interleave the two measurements so drift on a busy machine hits both alike.
    const direct: number[] = [];
    const routed: number[] = [];
    for (let block = 0; block < 4; block++) {
      direct.push(await timeSequential(overheadCalls / 4, () => provider.complete({ model: "bench-model", messages, maxTokens: 64, schema })));
      routed.push(await timeSequential(overheadCalls / 4, () => router.complete({ task: "forecast", messages, answer: forecastAnswer })));
    }
    directMsPerCall = direct.reduce((a, b) => a + b, 0) / direct.length;
    routedMsPerCall = routed.reduce((a, b) => a + b, 0) / routed.length;
  } finally {
    await instant.close();
  }

  const fixed: ProviderResult = { text: ANSWER, parsed: JSON.parse(ANSWER), usage: { inputTokens: 20, outputTokens: 10, cachedInputTokens: 0 }, latencyMs: 0, ttftMs: 0, finishReason: "stop" };
  const inProcess: Provider = { name: "memory", complete: async () => fixed };
  const direct = await timeSequential(20_000, () => inProcess.complete({ model: "bench-model", messages }));
  const inProcessRouter = routerOver(inProcess, 1);
  const routedMem = await timeSequential(20_000, () => inProcessRouter.complete({ task: "forecast", messages, answer: forecastAnswer }));

  const slow = await startFixedLatencyServer(latencyMs, ANSWER);
  let wallMs: number;
  let failed = 0;
  try {
    const provider = new OpenAiCompatibleProvider({ name: "loopback", baseURL: slow.baseURL, apiKey: "bench" });
    const router = routerOver(provider, concurrency);
    await Promise.all(Array.from({ length: concurrency }, (_, i) => router.complete({ task: "forecast", messages: ask(-1 - i), answer: forecastAnswer }))); // open the sockets
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: calls }, (_, i) => router.complete({ task: "forecast", messages: ask(i), answer: forecastAnswer })));
    wallMs = performance.now() - started;
    failed = outcomes.filter((o) => !o.ok).length;
  } finally {
    await slow.close();
  }
  const idealMs = (calls * latencyMs) / concurrency;
  return {
    directMsPerCall,
    routedMsPerCall,
    overheadMsPerCall: routedMsPerCall - directMsPerCall,
    inProcessOverheadUsPerCall: (routedMem - direct) * 1000,
    calls,
    concurrency,
    latencyMs,
    wallMs,
    idealMs,
    efficiency: idealMs / wallMs,
    failed,
  };
}
