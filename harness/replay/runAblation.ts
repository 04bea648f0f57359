/**
 * `tapedeck ablate`: the measured version of the "caching and filtering cut
 * AI cost by 88%" table, with the accuracy and money columns it is usually
 * shown without. The same config is replayed with the cost layers switched
 * on one at a time, each step keeping the ones before it:
 *
 *   none → + exact cache → + semantic cache → + event filter → + sampling → + batching
 *
 * Every step starts from an empty in-memory cache, so a step measures what
 * its layers save within one replay (not answers left by an earlier run).
 * "none" lets every market event through, held back only by the minimum
 * interval of the config's filter. The table is read back from the DB.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { cacheConfigSchema } from "../cache/cacheConfig.ts";
import type { Db } from "../db/duckdb.ts";
import type { ReplaySourceOptions } from "../events/replaySource.ts";
import { ablationFilterConfig, MarketFilterConfig, type AblationFilterLayer } from "../filter/filterConfig.ts";
import type { RunConfig } from "../../strategies/runConfig.ts";
import { runReplay, type ReplayOutcome } from "./runReplay.ts";

export const ABLATION_STEPS = ["none", "exact-cache", "semantic-cache", "event-filter", "sampling", "batching"] as const;
export type AblationStep = (typeof ABLATION_STEPS)[number];

const FILTER_LAYER: Record<AblationStep, AblationFilterLayer> = {
  none: "none",
  "exact-cache": "none",
  "semantic-cache": "none",
  "event-filter": "filter",
  sampling: "sampling",
  batching: "batching",
};

/** The config of one step: the base config with exactly the layers up to `step` on. */
export function ablationConfig(base: RunConfig, step: AblationStep): RunConfig {
  const on = ABLATION_STEPS.indexOf(step);
  const baseCache = cacheConfigSchema.parse(base.cache ?? {});
  const filterBase = base.filter.kind === "market" ? base.filter : MarketFilterConfig.parse({ kind: "market", minIntervalMs: base.filter.minIntervalMs });
  return {
    ...base,
    name: `${base.name}-ablation-${step}`,
    cache: {
      ...baseCache,
      enabled: on >= 1,
      backend: "memory",
      exact: true,
      cassette: false,
      semantic: { ...baseCache.semantic, enabled: on >= 2 },
    },
    filter: ablationFilterConfig(FILTER_LAYER[step], filterBase),
  };
}

export interface AblationRow {
  step: AblationStep;
  runId: string;
  /** Calls that reached a provider (cache misses). */
  modelCalls: number;
  cacheHits: number;
  tokens: number;
  aiSpendUsd: number;
  /** Provider calls fewer than the "none" step. */
  callsAvoided: number;
  /** Forecasts scored, of the model that decides (consensus when present). */
  scored: number;
  brier: number | null;
  brierSkill: number | null;
  pnlUsd: number | null;
  netPnlUsd: number | null;
}

export interface AblationOptions {
  config: RunConfig;
  datasetDir: string;
  db: Db;
  steps?: readonly AblationStep[];
  source?: ReplaySourceOptions;
  onStep?: (step: AblationStep, outcome: ReplayOutcome) => void;
  onProgress?: (step: AblationStep, events: number, total: number | null) => void;
}

export async function runAblation(options: AblationOptions): Promise<AblationRow[]> {
  const steps = options.steps ?? ABLATION_STEPS;
  if (steps[0] !== "none") throw new Error(`ablation: the first step must be "none" (the baseline), got "${steps[0]}"`);
  let baseline: string | null = null;
  const runIds: Array<[AblationStep, string]> = [];
  for (const step of steps) {
    const outcome = await runReplay({
      config: ablationConfig(options.config, step),
      datasetDir: options.datasetDir,
      db: options.db,
      label: `ablation:${step}`,
      ...(baseline ? { parentRunId: baseline } : {}),
      ...(options.source ? { source: options.source } : {}),
      onProgress: (p) => options.onProgress?.(step, p.events, p.totalEvents),
    });
    baseline ??= outcome.runId;
    runIds.push([step, outcome.runId]);
    options.onStep?.(step, outcome);
  }
  return ablationTable(options.db.connection, runIds);
}

/** The ablation table for finished runs, from the results DB alone. */
export async function ablationTable(c: DuckDBConnection, runs: ReadonlyArray<readonly [AblationStep, string]>): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const [step, runId] of runs) {
    const reader = await c.runAndReadAll(
      `WITH m AS (SELECT model, metric, value FROM metrics WHERE run_id = $1),
            decider AS (
              SELECT model FROM m WHERE metric = 'scored' AND model <> '*'
              ORDER BY (model = 'consensus') DESC, value DESC, model LIMIT 1
            )
       SELECT
         (SELECT count(*) FROM llm_calls WHERE run_id = $1 AND cache = 'miss' AND status IN ('ok', 'error'))::DOUBLE AS calls,
         (SELECT count(*) FROM llm_calls WHERE run_id = $1 AND cache <> 'miss')::DOUBLE AS hits,
         (SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM llm_calls WHERE run_id = $1)::DOUBLE AS tokens,
         (SELECT coalesce(sum(cost_nusd), 0) FROM llm_calls WHERE run_id = $1)::DOUBLE / 1e9 AS spend,
         (SELECT value FROM m WHERE metric = 'scored' AND model = (SELECT model FROM decider)) AS scored,
         (SELECT value FROM m WHERE metric = 'brier' AND model = (SELECT model FROM decider)) AS brier,
         (SELECT value FROM m WHERE metric = 'brier_skill' AND model = (SELECT model FROM decider)) AS skill,
         (SELECT value FROM m WHERE metric = 'pnl_usd' AND model = '*') AS pnl,
         (SELECT value FROM m WHERE metric = 'net_pnl_usd' AND model = '*') AS net`,
      [runId],
    );
    const r = reader.getRowObjectsJS()[0] as Record<string, number | null>;
    rows.push({
      step,
      runId,
      modelCalls: r["calls"] ?? 0,
      cacheHits: r["hits"] ?? 0,
      tokens: r["tokens"] ?? 0,
      aiSpendUsd: r["spend"] ?? 0,
      callsAvoided: 0,
      scored: r["scored"] ?? 0,
      brier: r["brier"] ?? null,
      brierSkill: r["skill"] ?? null,
      pnlUsd: r["pnl"] ?? null,
      netPnlUsd: r["net"] ?? null,
    });
  }
  const none = rows[0]?.modelCalls ?? 0;
  for (const row of rows) row.callsAvoided = none - row.modelCalls;
  return rows;
}
