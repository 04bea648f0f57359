/**
 * The experiment config: everything that defines a run except the dataset.
 * Validated at the edge with zod; strategies/configs/run-config.schema.json
 * is generated from this file for editors (`tapedeck config schema`).
 * The config hash (canonical JSON of the parsed config, defaults filled)
 * identifies a run's setup: `trade --live` refuses a config whose exact hash
 * has no completed replay that passed the gates.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { PaperBrokerConfig } from "../harness/broker/paperBroker.ts";
import { ModelLatencyConfig } from "../harness/latency/modelLatency.ts";
import { RiskLimitsSchema } from "../harness/sizing/riskLimits.ts";
import { MomentumParams } from "./momentum.ts";
import { routerConfigSchema } from "../harness/router/routerConfig.ts";
import { FilterConfig } from "../harness/filter/filterConfig.ts";
import { cacheConfigSchema } from "../harness/cache/cacheConfig.ts";
import { checkKeyPath, unknownKeyErrors } from "./configKeys.ts";
import { transcriptConfigSchema } from "../harness/store/callTranscripts.ts";

const PromptFields = {
  /** Prompt template version (strategies/prompts). */
  prompt: z.string().default("forecast-v1"),
  /** Headlines matched to the market to include, newest first. */
  newsItems: z.number().int().min(0).max(50).default(5),
  recentTrades: z.number().int().min(0).max(100).default(10),
  temperature: z.number().min(0).max(2).optional(),
  seed: z.number().int().optional(),
};

export const StrategyConfig = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("market") }).strict(),
  z.object({ kind: z.literal("last-trade") }).strict(),
  z.object({ kind: z.literal("momentum") }).extend(MomentumParams.shape).strict(),
  z
    .object({
      kind: z.literal("llm"),
      /** Router task whose route (model chain) answers. */
      task: z.string().default("forecast"),
      ...PromptFields,
    })
    .strict(),
  z
    .object({
      kind: z.literal("consensus"),
      members: z.array(z.object({ task: z.string(), weight: z.number().min(0).default(1) }).strict()).min(1),
      pool: z.enum(["linear", "log-odds"]).default("log-odds"),
      /** >1 pushes the pooled forecast away from 0.5. */
      extremize: z.number().positive().default(1),
      minMembers: z.number().int().min(1).default(1),
      maxSpread: z.number().min(0).max(1).default(1),
      ...PromptFields,
    })
    .strict(),
]);
export type StrategyConfig = z.infer<typeof StrategyConfig>;

export const MetricsConfig = z
  .object({
    calibrationBins: z.number().int().min(2).max(100).default(10),
    bootstrapSamples: z.number().int().min(0).max(100_000).default(1000),
    seed: z.number().int().default(20251107),
  })
  .strict();

const RouterConfigField = z.union([z.string().min(1), z.record(z.string(), z.unknown())]).superRefine((value, ctx) => {
  if (typeof value === "string") return;
  const parsed = routerConfigSchema.safeParse(value, { error: unknownKeyErrors });
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
});

export const RunConfig = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).default("unnamed"),
    description: z.string().optional(),
    strategy: StrategyConfig,
    /** Which events deserve a forecast: "interval" (default) or the full "market" filter (harness/filter). */
    filter: FilterConfig.default({ kind: "interval", minIntervalMs: 3_600_000 }),
    /** The response cache in front of the router (harness/cache); off when absent. */
    cache: cacheConfigSchema.optional(),
    risk: RiskLimitsSchema.default(RiskLimitsSchema.parse({})),
    broker: PaperBrokerConfig.default(PaperBrokerConfig.parse({})),
    /** When a forecast takes effect after its decision's time: none, fixed ms, or the recorded latency (harness/latency). */
    modelLatency: ModelLatencyConfig.default({ kind: "none" }),
    metrics: MetricsConfig.default(MetricsConfig.parse({})),
    /**
     * The model router (strategies that call models): a router config object
     * or the path of one (relative to the working directory). Kept as written:
     * the router parses it itself, and the hash covers exactly what was written.
     */
    router: RouterConfigField.optional(),
    /**
     * Keep each model call's rendered prompt and raw answer (compressed, in
     * llm_transcripts): { enabled (default true), maxBytes per text (default 65536) }.
     * Optional, so configs without it keep their hash.
     */
    transcripts: transcriptConfigSchema.optional(),
    /**
     * What is known about the models, keyed by the name forecasts carry
     * ("<endpoint>/<model>"). A market that closed before a model's training
     * cutoff may be in its training data: its forecasts are counted as
     * possibly contaminated.
     */
    models: z
      .record(
        z.string(),
        z.object({ trainingCutoff: z.iso.date().or(z.iso.datetime()).describe("YYYY-MM-DD or ISO date-time, UTC") }).strict(),
      )
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.strategy.kind === "llm" || c.strategy.kind === "consensus") && c.router === undefined) {
      ctx.addIssue({ code: "custom", path: ["router"], message: `strategy "${c.strategy.kind}" calls models: the config needs a router` });
    }
  });
export type RunConfig = z.infer<typeof RunConfig>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Parse a config object; the error names the first bad field with its path. */
export function parseRunConfig(input: unknown, where = "config"): RunConfig {
  const parsed = RunConfig.safeParse(input, { error: unknownKeyErrors });
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `${where}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(lines.join("\n"));
  }
  return parsed.data;
}

/** Why a dotted key (`sweep --vary risk.kellyFraction=…`) names no field of the run config, or null when it does. */
export function checkRunConfigKey(path: readonly string[]): string | null {
  return checkKeyPath(RunConfig, path, new Map([["router", routerConfigSchema]]));
}

export function loadRunConfig(path: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseRunConfig(json, path);
}

/** Canonical JSON: keys sorted at every level, so equal configs hash equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function configHash(config: RunConfig): string {
  const { $schema: _schema, description: _description, ...identity } = config;
  return createHash("sha256").update(canonicalJson(identity)).digest("hex").slice(0, 16);
}

export function runConfigJsonSchema(): unknown {
  return z.toJSONSchema(RunConfig, { io: "input", unrepresentable: "any" });
}
