/**
 * The event filter's config, validated at the edge. Two kinds:
 * - "interval" (the default when `kind` is left out, so older configs that
 *   only set `minIntervalMs` keep their meaning): the plain IntervalFilter.
 * - "market": the full filter (triggers, priorities, pre-score, sampling,
 *   batching). Each layer has its own `enabled` switch so an ablation can
 *   turn them on one at a time; see `ablationFilterConfig`.
 *
 * Defaults follow what trading bots commonly run today: a 2% price change,
 * a 3x volume spike, 60 s between calls per market, a 0.20 pre-score, low
 * priority batched by 10 or 300 s.
 */
import { z } from "zod";

export const PRIORITIES = ["critical", "high", "medium", "low"] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

/** What made an event a candidate for a model call. "event" is the no-trigger mode: every market event. */
export const TRIGGERS = ["news", "large_move", "price_change", "volume_spike", "volatility", "first_look", "event"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const IntervalFilterConfig = z
  .object({
    kind: z.literal("interval").default("interval"),
    /** Least time between two forecasts of one market, ms of the run's clock. */
    minIntervalMs: z.number().int().min(0).default(3_600_000),
  })
  .strict();
export type IntervalFilterConfig = z.infer<typeof IntervalFilterConfig>;

export const TriggersConfig = z
  .object({
    /** Off: every market event (quote, trade, book) on an open market is a candidate ("event"). */
    enabled: z.boolean().default(true),
    /** Relative price change since the last model call on the market, in percent. */
    priceChangePct: z.number().positive().default(2),
    /** A move this large (percent) is a "large_move" rather than a "price_change". */
    largeMovePct: z.number().positive().default(10),
    /** Volume in the current window at least this many times the rolling mean of earlier windows. */
    volumeSpike: z.number().positive().default(3),
    volumeWindowMs: z.number().int().positive().default(300_000),
    /** Earlier windows in the rolling mean. */
    volumeLookback: z.number().int().min(1).max(1000).default(12),
    /** Standard deviation of the market price over the window, in dollars (probability points). */
    volatility: z.number().positive().default(0.02),
    volatilityWindowMs: z.number().int().positive().default(900_000),
    /** News matched to a market (tickers field, else headline keywords) is a trigger. */
    news: z.boolean().default(true),
    /** Distinct keywords a headline must share with a market's title/subtitle. */
    newsMinOverlap: z.number().int().min(1).default(1),
    /** A market never called yet gets one look. */
    firstLook: z.boolean().default(true),
  })
  .strict();
export type TriggersConfig = z.infer<typeof TriggersConfig>;

export const PreScoreConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Below this score no model is called. */
    threshold: z.number().min(0).max(1).default(0.2),
    /** A market closing within this long scores higher (ms). */
    closingSoonMs: z.number().int().positive().default(3_600_000),
    /** A matched headline counts toward the score for this long after it (ms). */
    newsRecentMs: z.number().int().positive().default(3_600_000),
  })
  .strict();
export type PreScoreConfig = z.infer<typeof PreScoreConfig>;

export const PrioritiesConfig = z
  .object({
    news: Priority.default("critical"),
    large_move: Priority.default("high"),
    price_change: Priority.default("medium"),
    volume_spike: Priority.default("medium"),
    volatility: Priority.default("low"),
    first_look: Priority.default("low"),
    event: Priority.default("medium"),
    /** Critical events are not held back by the minimum interval. */
    criticalBypassesInterval: z.boolean().default(true),
  })
  .strict();
export type PrioritiesConfig = z.infer<typeof PrioritiesConfig>;

export const SamplingStrategy = z.enum(["periodic", "change", "threshold", "adaptive"]);
export type SamplingStrategy = z.infer<typeof SamplingStrategy>;

export const SamplingConfig = z
  .object({
    enabled: z.boolean().default(false),
    strategy: SamplingStrategy.default("adaptive"),
    /** periodic: at most one sample per market per period. */
    periodMs: z.number().int().positive().default(300_000),
    /** change: price moved at least this much (dollars) since the last sample. */
    minChange: z.number().positive().max(1).default(0.02),
    /** threshold: price crossed one of these levels since the last sample. */
    levels: z.array(z.number().gt(0).lt(1)).min(1).default([0.1, 0.25, 0.5, 0.75, 0.9]),
    /** adaptive: interval = baseMs x targetVolatility / volatility, clamped to [minMs, maxMs]. */
    baseMs: z.number().int().positive().default(600_000),
    minMs: z.number().int().min(0).default(60_000),
    maxMs: z.number().int().positive().default(3_600_000),
    targetVolatility: z.number().positive().default(0.02),
  })
  .strict()
  .refine((s) => s.minMs <= s.maxMs, { message: "minMs must not exceed maxMs", path: ["minMs"] });
export type SamplingConfig = z.infer<typeof SamplingConfig>;

export const BatchingConfig = z
  .object({
    /** Low-priority candidates wait in a batch; off: they pass at once like the others. */
    enabled: z.boolean().default(true),
    size: z.number().int().min(1).default(10),
    /** Released this long (simulated ms) after the first one was batched, by the next event. */
    timeoutMs: z.number().int().min(0).default(300_000),
  })
  .strict();
export type BatchingConfig = z.infer<typeof BatchingConfig>;

export const MarketFilterConfig = z
  .object({
    kind: z.literal("market"),
    minIntervalMs: z.number().int().min(0).default(60_000),
    triggers: TriggersConfig.default(TriggersConfig.parse({})),
    preScore: PreScoreConfig.default(PreScoreConfig.parse({})),
    priorities: PrioritiesConfig.default(PrioritiesConfig.parse({})),
    sampling: SamplingConfig.default(SamplingConfig.parse({})),
    batching: BatchingConfig.default(BatchingConfig.parse({})),
  })
  .strict();
export type MarketFilterConfig = z.infer<typeof MarketFilterConfig>;

export const FilterConfig = z.discriminatedUnion("kind", [IntervalFilterConfig, MarketFilterConfig]);
export type FilterConfig = z.infer<typeof FilterConfig>;
/** What a config file may say (defaults not yet filled). */
export type FilterConfigInput = z.input<typeof FilterConfig>;

/** The ablation's filter layers, each adding one to the one before. */
export const ABLATION_FILTER_LAYERS = ["none", "filter", "sampling", "batching"] as const;
export type AblationFilterLayer = (typeof ABLATION_FILTER_LAYERS)[number];

/**
 * The filter config for one ablation step. "none": every market event passes,
 * held back only by the minimum interval; "filter": triggers, priorities and
 * pre-score; "sampling": plus the sampling gate; "batching": plus batching.
 */
export function ablationFilterConfig(layer: AblationFilterLayer, base: Partial<MarketFilterConfig> = {}): MarketFilterConfig {
  const on = ABLATION_FILTER_LAYERS.indexOf(layer);
  const c = MarketFilterConfig.parse({ ...base, kind: "market" });
  return {
    ...c,
    triggers: { ...c.triggers, enabled: on >= 1 },
    preScore: { ...c.preScore, enabled: on >= 1 },
    sampling: { ...c.sampling, enabled: on >= 2 },
    batching: { ...c.batching, enabled: on >= 3 },
  };
}
