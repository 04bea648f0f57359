/**
 * The router from a JSON config (zod-validated, errors name the field).
 * API keys are never in the config: it names environment variables, read
 * once here and handed to the clients; no key ever reaches a log or a row.
 *
 * {
 *   "endpoints": {
 *     "openrouter": { "kind": "openai", "baseURL": "https://openrouter.ai/api/v1",
 *                     "apiKeyEnv": ["OPENROUTER_KEY_A", "OPENROUTER_KEY_B"], "openRouterUsage": true,
 *                     "concurrency": 8, "requestsPerMinute": 120 },
 *     "ollama": { "kind": "ollama", "host": "http://127.0.0.1:11434" },
 *     "local": { "kind": "local", "modelPath": "models/stories260K.gguf", "sequences": 2 }
 *   },
 *   "routes": { "forecast": { "chain": [{ "endpoint": "openrouter", "model": "deepseek/deepseek-chat", "tier": "cheap" }] } },
 *   "prices": { "file": "prices.json", "models": { "openrouter/deepseek/deepseek-chat": { "input": 0.27, "output": 1.1 } } },
 *   "budget": { "dailyUsd": "5", "monthlyUsd": "100", "runUsd": "20", "tiers": { "premium": { "dailyUsd": "2" } }, "alertAt": [0.8],
 *               "whenExhausted": { "action": "free_only", "fallback": [{ "endpoint": "local", "model": "stories260K", "tier": "local" }] } }
 * }
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Clock } from "../clock/clock.ts";
import type { Provider } from "../../providers/provider.ts";
import { OpenAiCompatibleProvider } from "../../providers/openaiCompatible.ts";
import { OllamaProvider } from "../../providers/ollama.ts";
import { LocalModelProvider } from "../../providers/llamaCpp.ts";
import { CassetteProvider } from "../../providers/cassette.ts";
import type { Sleep } from "./backoff.ts";
import { DEFAULT_RETRY } from "./backoff.ts";
import { Budget, type BudgetAlert, type Limits } from "./budget.ts";
import type { CallLog } from "./callLog.ts";
import type { AnswerJournal } from "./callJournal.ts";
import { CircuitBreaker, DEFAULT_BREAKER, monotonicClock, type HealthClock } from "./circuitBreaker.ts";
import { Endpoint } from "./endpoint.ts";
import { PriceTable, dollarsToNusd, modelPriceSchema } from "./pricing.ts";
import { Router, type RouterLogger } from "./router.ts";
import { unknownKeyErrors } from "../../strategies/configKeys.ts";

const usd = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/)]).transform((v) => dollarsToNusd(String(v)));
const limits = z.object({ dailyUsd: usd.optional(), monthlyUsd: usd.optional() }).strict();
const tier = z.enum(["local", "cheap", "balanced", "premium"]);
const modelRef = z.object({ endpoint: z.string(), model: z.string(), tier }).strict();
/**
 * Keys only from the environment, never echoed: a field meant to name an
 * environment variable must look like one, and a URL must carry no
 * credentials (user:password@ or a key-like query parameter). The messages
 * say what is wrong and never repeat the value, which may be a pasted key.
 */
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** A part between underscores that is long and holds digits reads like a key, not a name (OPENROUTER_KEY_A does not). */
const KEY_LIKE_PART = /(^|_)(?=[A-Z0-9]*[0-9])[A-Z0-9]{20,}(_|$)/;
const ENV_NAME_PROBLEM = "must be the NAME of an environment variable (upper-case letters, digits and _, like OPENROUTER_API_KEY), not a key; the value is not shown";
const envNames = z.union([z.string(), z.array(z.string()).min(1)]).superRefine((v, ctx) => {
  (typeof v === "string" ? [v] : v).forEach((name, i) => {
    if (!ENV_NAME.test(name) || KEY_LIKE_PART.test(name)) ctx.addIssue({ code: "custom", message: ENV_NAME_PROBLEM, input: undefined, ...(typeof v === "string" ? {} : { path: [i] }) });
  });
});
const KEY_LIKE_PARAM = /^(api[-_]?key|key|token|access[-_]?token|auth|authorization|secret|client[-_]?secret|password|pass|pwd|sig|signature|x-api-key)$/i;

/** Why this URL cannot be accepted, without repeating any of it; undefined when it is fine. */
export function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL (http:// or https://); the value is not shown";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http:// or https:// URL; the value is not shown";
  if (url.username !== "" || url.password !== "") return "must not carry credentials (user:password@): put the key in an environment variable named by apiKeyEnv; the value is not shown";
  for (const name of url.searchParams.keys()) {
    if (KEY_LIKE_PARAM.test(name)) return `must not carry a key-like query parameter ("${name}"): put the key in an environment variable named by apiKeyEnv; the value is not shown`;
  }
  return undefined;
}
const safeUrl = z.string().superRefine((v, ctx) => {
  const problem = urlProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: undefined });
});

const common = { concurrency: z.number().int().positive().optional(), requestsPerMinute: z.number().int().positive().optional(), timeoutMs: z.number().int().positive().optional() };

const endpointSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("openai"),
      baseURL: safeUrl,
      /** Env var name(s) holding the key(s); several spread load over keys. */
      apiKeyEnv: envNames,
      structuredOutput: z.enum(["json_schema", "json_object", "instructions"]).optional(),
      stream: z.boolean().optional(),
      openRouterUsage: z.boolean().optional(),
      ...common,
    })
    .strict(),
  z.object({ kind: z.literal("ollama"), host: safeUrl, embeddingModel: z.string().optional(), ...common }).strict(),
  z
    .object({
      kind: z.literal("local"),
      modelPath: z.string(),
      sequences: z.number().int().positive().optional(),
      contextSize: z.number().int().positive().optional(),
      threads: z.number().int().positive().optional(),
      gpu: z.union([z.literal("auto"), z.literal(false)]).optional(),
      ...common,
    })
    .strict(),
  z.object({ kind: z.literal("cassette"), path: z.string(), ...common }).strict(),
]);

export const routerConfigSchema = z
  .object({
    endpoints: z.record(z.string(), endpointSchema),
    routes: z.record(
      z.string(),
      z
        .object({
          chain: z.array(modelRef).min(1),
          premium: z.array(modelRef).optional(),
          preferPremiumWhen: z.object({ minEdge: z.number().optional(), minStakeUsd: z.number().optional() }).strict().optional(),
          maxTokens: z.number().int().positive().optional(),
          timeoutMs: z.number().int().positive().optional(),
          temperature: z.number().optional(),
        })
        .strict(),
    ),
    prices: z.object({ file: z.string().optional(), models: z.record(z.string(), modelPriceSchema).optional() }).strict().optional(),
    budget: limits
      .extend({
        /** Cap on the real money one run spends (wall clock: all tiers and simulated days together); the run stops when it is reached. */
        runUsd: usd.optional(),
        tiers: z.partialRecord(tier, limits).optional(),
        alertAt: z.array(z.number().gt(0).lte(1)).optional(),
        whenExhausted: z.object({ action: z.enum(["next", "free_only", "abstain"]), fallback: z.array(modelRef).optional() }).strict().optional(),
      })
      .optional(),
    breaker: z.object({ failures: z.number().int().positive().optional(), openMs: z.number().int().positive().optional() }).strict().optional(),
    retry: z
      .object({
        maxRetries: z.number().int().nonnegative().optional(),
        baseMs: z.number().nonnegative().optional(),
        capMs: z.number().nonnegative().optional(),
        maxRetryAfterMs: z.number().nonnegative().optional(),
      })
      .strict()
      .optional(),
    defaults: z.object({ maxTokens: z.number().int().positive().optional(), timeoutMs: z.number().int().positive().optional() }).strict().optional(),
  })
  .strict();

export type RouterConfig = z.input<typeof routerConfigSchema>;

export interface RouterRuntime {
  /** The run's clock (simulated in replay). */
  clock: Pick<Clock, "now">;
  /** Wall time for provider health (breakers, cool-downs); monotonic by default. Tests inject a fake one. */
  healthClock?: HealthClock;
  /** A resumed run's answer journal (CallJournal.load). */
  journal?: AnswerJournal;
  callLog: CallLog;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: RouterLogger;
  rng?: () => number;
  sleep?: Sleep;
  onBudgetAlert?: (alert: BudgetAlert) => void;
  /** Base folder for relative paths in the config (model, cassette, prices file). */
  baseDir?: string;
}

export function parseRouterConfig(json: unknown, source = "router config"): z.output<typeof routerConfigSchema> {
  const parsed = routerConfigSchema.safeParse(json, { error: unknownKeyErrors });
  if (!parsed.success) throw new Error(`${source}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Read and validate a config file; returns it as written (buildRouter parses it again, cheaply). */
export function loadRouterConfig(path: string): RouterConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: cannot read router config: ${(error as Error).message}`);
  }
  parseRouterConfig(json, path);
  return json as RouterConfig;
}

/** Build the router from a config as written (JSON), never from an already-parsed one: parsing converts dollars to nano-dollars. */
export function buildRouter(config: RouterConfig, runtime: RouterRuntime): Router {
  const c = parseRouterConfig(config);
  const env = runtime.env ?? process.env;
  const resolve = (p: string) => (runtime.baseDir && !p.startsWith("/") ? `${runtime.baseDir}/${p}` : p);
  const breakerOptions = { failureThreshold: c.breaker?.failures ?? DEFAULT_BREAKER.failureThreshold, openMs: c.breaker?.openMs ?? DEFAULT_BREAKER.openMs };
  const logger = runtime.logger ?? (() => {});
  const healthClock = runtime.healthClock ?? monotonicClock;
  const endpoints = new Map<string, Endpoint>();
  for (const [name, e] of Object.entries(c.endpoints)) {
    let clients: Provider[];
    let free = false;
    switch (e.kind) {
      case "openai": {
        const names = typeof e.apiKeyEnv === "string" ? [e.apiKeyEnv] : e.apiKeyEnv;
        clients = names.map((envName) => {
          const apiKey = env[envName];
          if (!apiKey) throw new Error(`endpoint ${name}: environment variable ${envName} is not set`);
          return new OpenAiCompatibleProvider({
            name,
            baseURL: e.baseURL,
            apiKey,
            ...(e.structuredOutput ? { structuredOutput: e.structuredOutput } : {}),
            ...(e.stream !== undefined ? { stream: e.stream } : {}),
            ...(e.openRouterUsage !== undefined ? { openRouterUsage: e.openRouterUsage } : {}),
            ...(e.timeoutMs !== undefined ? { defaultTimeoutMs: e.timeoutMs } : {}),
          });
        });
        break;
      }
      case "ollama":
        free = true;
        clients = [new OllamaProvider({ name, host: e.host, ...(e.embeddingModel ? { embeddingModel: e.embeddingModel } : {}), ...(e.timeoutMs !== undefined ? { defaultTimeoutMs: e.timeoutMs } : {}) })];
        break;
      case "local":
        free = true;
        clients = [
          new LocalModelProvider({
            name,
            modelPath: resolve(e.modelPath),
            ...(e.sequences !== undefined ? { sequences: e.sequences } : {}),
            ...(e.contextSize !== undefined ? { contextSize: e.contextSize } : {}),
            ...(e.threads !== undefined ? { threads: e.threads } : {}),
            ...(e.gpu !== undefined ? { gpu: e.gpu } : {}),
            ...(e.timeoutMs !== undefined ? { defaultTimeoutMs: e.timeoutMs } : {}),
          }),
        ];
        break;
      case "cassette":
        clients = [new CassetteProvider({ name, mode: "replay", path: resolve(e.path) })];
        break;
    }
    const breaker = new CircuitBreaker(healthClock, breakerOptions, (state) => logger(state === "closed" ? "info" : "warn", `circuit ${state}`, { provider: name }));
    endpoints.set(
      name,
      new Endpoint(name, clients, breaker, { ...(e.concurrency !== undefined ? { concurrency: e.concurrency } : {}), ...(e.requestsPerMinute !== undefined ? { requestsPerMinute: e.requestsPerMinute } : {}) }, free),
    );
  }
  const prices = c.prices?.file ? PriceTable.fromFile(resolve(c.prices.file)) : new PriceTable();
  if (c.prices?.models) prices.merge({ models: c.prices.models });
  const toLimits = (l: { dailyUsd?: number | undefined; monthlyUsd?: number | undefined } | undefined): Limits => ({
    ...(l?.dailyUsd !== undefined ? { dailyNusd: l.dailyUsd } : {}),
    ...(l?.monthlyUsd !== undefined ? { monthlyNusd: l.monthlyUsd } : {}),
  });
  const tiers: Record<string, Limits> = {};
  for (const [t, l] of Object.entries(c.budget?.tiers ?? {})) if (l) tiers[t] = toLimits(l);
  const budget = new Budget(
    runtime.clock,
    { ...toLimits(c.budget), tiers, ...(c.budget?.alertAt ? { alertAt: c.budget.alertAt } : {}), ...(c.budget?.runUsd !== undefined ? { runNusd: c.budget.runUsd } : {}) },
    (alert) => {
      logger("warn", "budget alert", { ...alert });
      runtime.onBudgetAlert?.(alert);
    },
  );
  return new Router({
    clock: runtime.clock,
    healthClock,
    ...(runtime.journal ? { journal: runtime.journal } : {}),
    endpoints,
    routes: c.routes,
    prices,
    budget,
    callLog: runtime.callLog,
    retry: { ...DEFAULT_RETRY, ...stripUndefined(c.retry ?? {}) },
    ...(c.budget?.whenExhausted ? { whenExhausted: stripUndefined(c.budget.whenExhausted) } : {}),
    ...(c.defaults ? { defaults: stripUndefined(c.defaults) } : {}),
    ...(runtime.rng ? { rng: runtime.rng } : {}),
    ...(runtime.sleep ? { sleep: runtime.sleep } : {}),
    logger,
  });
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
