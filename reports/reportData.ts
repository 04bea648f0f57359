/**
 * Everything a report shows, read from the results DB with DuckDB SQL (the
 * right tool for group-bys and quantiles over the raw tables). Each data set
 * is a list of plain rows that is embedded verbatim in report.html, drawn by
 * its chart and checked back against SQL by the tests.
 *
 * Leaderboard figures come from the metrics table the engine writes; where a
 * metric is missing they are computed from the raw rows (forecasts+outcomes,
 * llm_calls, decisions, fills, settlements) and otherwise left null (a dash).
 */
import { loadAbstentions } from "./abstentions.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import { LEADERBOARD_COLUMNS } from "./metricNames.ts";
import { paretoFrontier } from "./pareto.ts";
import { num, queryRows, sqlList, str, tableExists, type Row } from "./query.ts";
import type { SelectedRun } from "./selectRuns.ts";

export interface LeaderboardRow {
  run_id: string;
  label: string;
  model: string;
  brier_lo: number | null;
  brier_hi: number | null;
  /** metric name → value (null when neither the metrics table nor the raw rows give it). */
  values: Record<string, number | null>;
}

export interface ReportData {
  runs: SelectedRun[];
  leaderboard: LeaderboardRow[];
  reliability: Row[];
  equity: Row[];
  costSkill: Row[];
  spend: Row[];
  ablation: Row[];
  waterfall: Row[];
  latency: Row[];
  throughput: Row[];
  marketCorrelation: Row[];
  /** Abstained forecasts per run and model, with their reasons (reports/abstentions.ts). */
  abstentions: Row[];
}

/** Raw-row fallbacks per (run, model), one SQL query; keys are metric names. */
function modelFallbackSql(ids: string, hasOutcomes: boolean): string {
  const scored = hasOutcomes
    ? `sc AS (SELECT f.run_id, f.model, avg((f.probability - o.y) ^ 2) AS brier,
          avg(-(o.y * ln(greatest(1e-6, least(1 - 1e-6, f.probability))) + (1 - o.y) * ln(1 - greatest(1e-6, least(1 - 1e-6, f.probability))))) AS log_loss,
          1 - avg((f.probability - o.y) ^ 2) / nullif(avg((f.market_price - o.y) ^ 2), 0) AS brier_skill,
          avg(CASE WHEN (f.probability >= 0.5) = (o.y = 1) THEN 1.0 ELSE 0.0 END) AS accuracy
        FROM forecasts f JOIN (SELECT run_id, ticker, CASE result WHEN 'yes' THEN 1 ELSE 0 END AS y FROM outcomes WHERE result IN ('yes', 'no')) o
          USING (run_id, ticker)
        WHERE f.run_id IN (${ids}) AND NOT f.abstained AND f.probability IS NOT NULL AND f.market_price IS NOT NULL GROUP BY ALL)`
    : `sc AS (SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS model, NULL::DOUBLE AS brier, NULL::DOUBLE AS log_loss, NULL::DOUBLE AS brier_skill, NULL::DOUBLE AS accuracy WHERE false)`;
  return `
    WITH pairs AS (
      SELECT DISTINCT run_id, model FROM forecasts WHERE run_id IN (${ids})
      UNION SELECT DISTINCT run_id, model FROM metrics WHERE run_id IN (${ids}) AND model <> '*'),
    fc AS (SELECT run_id, model, count(*) FILTER (WHERE NOT abstained) AS forecasts FROM forecasts WHERE run_id IN (${ids}) GROUP BY ALL),
    ${scored},
    calls AS (SELECT p.run_id, p.model, sum(l.cost_nusd) / 1e9 AS ai_spend_usd,
          avg(CASE WHEN l.cache <> 'miss' THEN 1.0 ELSE 0.0 END) AS cache_hit_rate,
          quantile_cont(l.latency_ms, 0.5) FILTER (WHERE l.cache = 'miss' AND l.status = 'ok') AS latency_p50_ms,
          quantile_cont(l.latency_ms, 0.95) FILTER (WHERE l.cache = 'miss' AND l.status = 'ok') AS latency_p95_ms,
          sum(l.output_tokens) FILTER (WHERE l.cache = 'miss' AND l.status = 'ok')
            / nullif(sum(l.latency_ms) FILTER (WHERE l.cache = 'miss' AND l.status = 'ok') / 1000.0, 0) AS tokens_per_s
        FROM pairs p JOIN llm_calls l ON l.run_id = p.run_id AND (l.model = p.model OR l.provider || '/' || l.model = p.model)
        GROUP BY ALL)
    SELECT p.run_id, p.model, fc.forecasts::DOUBLE AS forecasts, sc.brier, sc.log_loss, sc.brier_skill, sc.accuracy,
      calls.ai_spend_usd, calls.ai_spend_usd / nullif(fc.forecasts, 0) AS cost_per_forecast_usd, calls.cache_hit_rate,
      calls.latency_p50_ms, calls.latency_p95_ms, calls.tokens_per_s
    FROM pairs p LEFT JOIN fc USING (run_id, model) LEFT JOIN sc USING (run_id, model) LEFT JOIN calls USING (run_id, model)`;
}

/** Raw-row fallbacks for the run as a whole. */
function runFallbackSql(ids: string): string {
  return `
    WITH r AS (SELECT run_id FROM runs WHERE run_id IN (${ids})),
    d AS (SELECT run_id, count(*) FILTER (WHERE action <> 'hold') AS signals FROM decisions WHERE run_id IN (${ids}) GROUP BY run_id),
    t AS (SELECT run_id, count(*) AS trades FROM fills WHERE run_id IN (${ids}) GROUP BY run_id),
    s AS (SELECT run_id, sum(pnl_units) AS pnl FROM settlements WHERE run_id IN (${ids}) GROUP BY run_id),
    a AS (SELECT run_id, sum(cost_nusd) AS ai FROM llm_calls WHERE run_id IN (${ids}) GROUP BY run_id)
    SELECT r.run_id, d.signals::DOUBLE AS signals, t.trades::DOUBLE AS trades, s.pnl / 1e4 AS pnl_usd, a.ai / 1e9 AS ai_spend_usd,
      CASE WHEN s.pnl IS NOT NULL THEN s.pnl / 1e4 - coalesce(a.ai, 0) / 1e9 END AS net_pnl_usd,
      a.ai / 1e9 / nullif(d.signals, 0) AS cost_per_signal_usd
    FROM r LEFT JOIN d USING (run_id) LEFT JOIN t USING (run_id) LEFT JOIN s USING (run_id) LEFT JOIN a USING (run_id)`;
}

async function leaderboard(c: DuckDBConnection, runs: readonly SelectedRun[], ids: string, hasOutcomes: boolean): Promise<LeaderboardRow[]> {
  const metricRows = await queryRows(c, `SELECT run_id, model, metric, value, lo, hi FROM metrics WHERE run_id IN (${ids}) ORDER BY run_id, model, metric`);
  const stored = new Map<string, Row>();
  for (const r of metricRows) stored.set(`${str(r, "run_id")}\u0000${str(r, "model")}\u0000${str(r, "metric")}`, r);
  const byModel = new Map<string, Row>();
  for (const r of await queryRows(c, modelFallbackSql(ids, hasOutcomes))) byModel.set(`${str(r, "run_id")}\u0000${str(r, "model")}`, r);
  const byRun = new Map<string, Row>();
  for (const r of await queryRows(c, runFallbackSql(ids))) byRun.set(str(r, "run_id"), r);

  const rows: LeaderboardRow[] = [];
  for (const run of runs) {
    const models = [...byModel.keys()].filter((k) => k.startsWith(`${run.runId}\u0000`)).map((k) => k.slice(run.runId.length + 1)).sort();
    const single = models.length === 1;
    for (const model of models.length > 0 ? models : ["*"]) {
      const values: Record<string, number | null> = {};
      for (const col of LEADERBOARD_COLUMNS) {
        const own = stored.get(`${run.runId}\u0000${model}\u0000${col.metric}`);
        const whole = stored.get(`${run.runId}\u0000*\u0000${col.metric}`);
        let v: number | null;
        if (col.scope === "model") {
          // A run with one model: its run-level figure is that model's figure.
          v = num(own, "value") ?? (single ? num(whole, "value") : null) ?? num(byModel.get(`${run.runId}\u0000${model}`), col.metric);
        } else {
          v = num(whole, "value") ?? num(byRun.get(run.runId), col.metric);
        }
        values[col.metric] = v;
      }
      const brierRow = stored.get(`${run.runId}\u0000${model}\u0000brier`) ?? (single ? stored.get(`${run.runId}\u0000*\u0000brier`) : undefined);
      // A run that did not complete is labelled so, its figures being partial.
      const label = run.status === "completed" ? run.label : `${run.label} (${run.status})`;
      rows.push({ run_id: run.runId, label, model, brier_lo: num(brierRow, "lo"), brier_hi: num(brierRow, "hi"), values });
    }
  }
  return rows;
}

function ablationLayer(run: SelectedRun): string | null {
  if (run.label.startsWith("ablation:")) return run.label.slice("ablation:".length);
  try {
    const config = JSON.parse(run.configJson) as unknown;
    if (config && typeof config === "object" && "ablation" in config && typeof config.ablation === "string") return config.ablation;
  } catch {
    // A config that is not JSON has no ablation label.
  }
  return null;
}

function ablationTables(runs: readonly SelectedRun[], board: readonly LeaderboardRow[]): { ablation: Row[]; waterfall: Row[] } {
  const runValue = (runId: string, metric: string): number | null => board.find((r) => r.run_id === runId)?.values[metric] ?? null;
  const ablated = runs.map((r) => ({ run: r, layer: ablationLayer(r) })).filter((x) => x.layer !== null);
  if (ablated.length === 0) return { ablation: [], waterfall: [] };
  // Baseline: a run labelled ablation:none/baseline, else the parent the ablations were derived from.
  const baseline =
    ablated.find((x) => x.layer === "none" || x.layer === "baseline")?.run ??
    runs.find((r) => r.runId === ablated.find((x) => x.run.parentRunId !== null)?.run.parentRunId);
  const ablation: Row[] = ablated
    .filter((x) => x.run !== baseline)
    .map(({ run, layer }) => ({
      run_id: run.runId,
      layer: layer ?? "",
      baseline_run_id: baseline?.runId ?? null,
      net_pnl_usd: runValue(run.runId, "net_pnl_usd"),
      pnl_usd: runValue(run.runId, "pnl_usd"),
      brier: runValue(run.runId, "brier"),
      ai_spend_usd: runValue(run.runId, "ai_spend_usd"),
      trades: runValue(run.runId, "trades"),
      // What the layer is worth: baseline minus the run without it.
      contribution_usd:
        baseline && runValue(baseline.runId, "net_pnl_usd") !== null && runValue(run.runId, "net_pnl_usd") !== null
          ? (runValue(baseline.runId, "net_pnl_usd") ?? 0) - (runValue(run.runId, "net_pnl_usd") ?? 0)
          : null,
    }));
  const waterfall: Row[] = [];
  const base = baseline ? runValue(baseline.runId, "net_pnl_usd") : null;
  if (baseline && base !== null) {
    const layers = ablation.filter((a) => typeof a["contribution_usd"] === "number");
    const total = layers.reduce((s, a) => s + (a["contribution_usd"] as number), 0);
    // Start from the P&L with every listed layer removed, add each layer's worth, end at the baseline.
    let level = base - total;
    waterfall.push({ step: "without listed layers", start: 0, end: level, kind: "total", order: 0 });
    layers.forEach((a, i) => {
      const delta = a["contribution_usd"] as number;
      waterfall.push({ step: `+ ${String(a["layer"])}`, start: level, end: level + delta, kind: delta >= 0 ? "gain" : "loss", order: i + 1 });
      level += delta;
    });
    waterfall.push({ step: `baseline (${baseline.runId})`, start: 0, end: level, kind: "total", order: layers.length + 1 });
  }
  return { ablation, waterfall };
}

export async function loadReportData(c: DuckDBConnection, runs: SelectedRun[]): Promise<ReportData> {
  const ids = sqlList(runs.map((r) => r.runId));
  const hasOutcomes = await tableExists(c, "outcomes");
  const board = await leaderboard(c, runs, ids, hasOutcomes);

  const reliability = await queryRows(
    c,
    `SELECT model, bin, sum(n)::BIGINT AS n, sum(n * mean_forecast) / sum(n) AS mean_forecast, sum(n * observed_rate) / sum(n) AS observed_rate
     FROM calibration_bins WHERE run_id IN (${ids}) AND model <> '*' AND n > 0 GROUP BY model, bin ORDER BY model, bin`,
  );
  const equity = await queryRows(
    c,
    `SELECT e.run_id, coalesce(r.label, e.run_id) AS label, e.ts, e.equity_units / 1e4 AS equity_usd,
       e.equity_units / 1e4 - e.ai_spend_nusd / 1e9 AS net_equity_usd
     FROM equity e JOIN runs r USING (run_id) WHERE e.run_id IN (${ids}) ORDER BY e.run_id, e.ts`,
  );
  const points = board
    .map((r) => ({
      run_id: r.run_id,
      model: r.model,
      series: `${r.label} · ${r.model}`,
      cost: r.values["cost_per_forecast_usd"] ?? Number.NaN,
      skill: r.values["brier_skill"] ?? Number.NaN,
    }))
    .filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.skill));
  const frontier = new Set(paretoFrontier(points));
  const costSkill: Row[] = points.map((p) => ({ ...p, frontier: frontier.has(p) }));

  const spend = await queryRows(
    c,
    `SELECT (sim_ts // 3600000) * 3600000 AS hour, model, task, sum(cost_nusd) / 1e9 AS spend_usd, count(*)::BIGINT AS calls
     FROM llm_calls WHERE run_id IN (${ids}) AND sim_ts IS NOT NULL GROUP BY ALL HAVING sum(cost_nusd) > 0 ORDER BY hour, model, task`,
  );
  const { ablation, waterfall } = ablationTables(runs, board);
  const latency = await queryRows(
    c,
    `SELECT model, count(*)::BIGINT AS calls, min(latency_ms) AS min_ms, quantile_cont(latency_ms, 0.25) AS p25_ms,
       quantile_cont(latency_ms, 0.5) AS p50_ms, quantile_cont(latency_ms, 0.75) AS p75_ms, quantile_cont(latency_ms, 0.95) AS p95_ms,
       max(latency_ms) AS max_ms
     FROM llm_calls WHERE run_id IN (${ids}) AND cache = 'miss' AND status = 'ok' AND latency_ms IS NOT NULL GROUP BY model ORDER BY model`,
  );
  const throughput = await queryRows(
    c,
    `SELECT name, coalesce(device, '?') AS device, arg_max(value, ts) AS tokens_per_s
     FROM benchmarks WHERE metric = 'tokens_per_s' GROUP BY ALL ORDER BY name, device`,
  );
  const marketCorrelation = await queryRows(
    c,
    `SELECT model, corr(probability, market_price) AS correlation, count(*)::BIGINT AS forecasts
     FROM forecasts WHERE run_id IN (${ids}) AND NOT abstained AND probability IS NOT NULL AND market_price IS NOT NULL
     GROUP BY model HAVING count(*) >= 3 ORDER BY model`,
  );
  const abstentions = await loadAbstentions(c, ids);
  return { runs, leaderboard: board, reliability, equity, costSkill, spend, ablation, waterfall, latency, throughput, marketCorrelation, abstentions };
}
