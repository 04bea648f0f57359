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
import { ablationTables } from "./ablation.ts";
import { isFiltered, scopeSql, type MarketFilter } from "./marketFilter.ts";
import { legendLabels, varyingParams } from "./runDifferences.ts";
import { num, queryRows, sqlList, str, tableExists, type Row } from "./query.ts";
import type { SelectedRun } from "./selectRuns.ts";

export interface LeaderboardRow {
  run_id: string;
  label: string;
  /** What sets this run apart from the others in the report (legends use it). */
  legend: string;
  dataset: string;
  model: string;
  /** Fill model and marking the run's money figures come from (selectRuns.ts). */
  execution: string | null;
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
  /** A metric over two varied config params (sweeps); empty when fewer than two vary. */
  heatmap: Row[];
  latency: Row[];
  throughput: Row[];
  marketCorrelation: Row[];
  /** Abstained forecasts per run and model, with their reasons (reports/abstentions.ts). */
  abstentions: Row[];
}

/** Raw-row fallbacks per (run, model), one SQL query; keys are metric names. */
function modelFallbackSql(ids: string, hasOutcomes: boolean, filtered: boolean): string {
  const scored = hasOutcomes
    ? `sc AS (SELECT f.run_id, f.model, avg((f.probability - o.y) ^ 2) AS brier,
          avg(-(o.y * ln(greatest(1e-6, least(1 - 1e-6, f.probability))) + (1 - o.y) * ln(1 - greatest(1e-6, least(1 - 1e-6, f.probability))))) AS log_loss,
          1 - avg((f.probability - o.y) ^ 2) / nullif(avg((f.market_price - o.y) ^ 2), 0) AS brier_skill,
          -- As harness/metrics/scoring.ts accuracy(): exactly 0.5 takes no side and counts half right.
          avg(CASE WHEN f.probability = 0.5 THEN 0.5 WHEN (f.probability > 0.5) = (o.y = 1) THEN 1.0 ELSE 0.0 END) AS accuracy,
          avg((f.market_price - o.y) ^ 2) AS market_brier
        FROM forecasts f JOIN (SELECT run_id, ticker, CASE result WHEN 'yes' THEN 1 ELSE 0 END AS y FROM outcomes WHERE result IN ('yes', 'no')) o
          USING (run_id, ticker)
        WHERE f.run_id IN (${ids}) AND NOT f.abstained AND f.probability IS NOT NULL AND f.market_price IS NOT NULL GROUP BY ALL)`
    : `sc AS (SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS model, NULL::DOUBLE AS brier, NULL::DOUBLE AS log_loss, NULL::DOUBLE AS brier_skill, NULL::DOUBLE AS accuracy, NULL::DOUBLE AS market_brier WHERE false)`;
  return `
    WITH pairs AS (
      SELECT DISTINCT run_id, model FROM forecasts WHERE run_id IN (${ids})
      ${filtered ? "" : `UNION SELECT DISTINCT run_id, model FROM metrics WHERE run_id IN (${ids}) AND model <> '*'`}),
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
    SELECT p.run_id, p.model, fc.forecasts::DOUBLE AS forecasts, sc.brier, sc.log_loss, sc.brier_skill, sc.accuracy, sc.market_brier,
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
    -- P&L as runMetrics counts it: settled positions plus those still open at the end, marked to bid.
    s AS (SELECT run_id, sum(pnl_units) AS pnl FROM (SELECT run_id, pnl_units FROM settlements UNION ALL SELECT run_id, pnl_units FROM open_positions)
           WHERE run_id IN (${ids}) GROUP BY run_id),
    a AS (SELECT run_id, sum(cost_nusd) AS ai FROM llm_calls WHERE run_id IN (${ids}) GROUP BY run_id)
    SELECT r.run_id, d.signals::DOUBLE AS signals, t.trades::DOUBLE AS trades, s.pnl / 1e4 AS pnl_usd, a.ai / 1e9 AS ai_spend_usd,
      CASE WHEN s.pnl IS NOT NULL THEN s.pnl / 1e4 - coalesce(a.ai, 0) / 1e9 END AS net_pnl_usd,
      a.ai / 1e9 / nullif(d.signals, 0) AS cost_per_signal_usd
    FROM r LEFT JOIN d USING (run_id) LEFT JOIN t USING (run_id) LEFT JOIN s USING (run_id) LEFT JOIN a USING (run_id)`;
}

async function leaderboard(c: DuckDBConnection, runs: readonly SelectedRun[], ids: string, hasOutcomes: boolean, filter: MarketFilter | undefined): Promise<LeaderboardRow[]> {
  // Stored metrics cover whole runs: under a market filter every figure comes from the filtered raw rows.
  const metricRows = isFiltered(filter) ? [] : await queryRows(c, `SELECT run_id, model, metric, value, lo, hi FROM metrics WHERE run_id IN (${ids}) ORDER BY run_id, model, metric`);
  const stored = new Map<string, Row>();
  for (const r of metricRows) stored.set(`${str(r, "run_id")}\u0000${str(r, "model")}\u0000${str(r, "metric")}`, r);
  const byModel = new Map<string, Row>();
  for (const r of await queryRows(c, scopeSql(modelFallbackSql(ids, hasOutcomes, isFiltered(filter)), filter))) byModel.set(`${str(r, "run_id")}\u0000${str(r, "model")}`, r);
  const byRun = new Map<string, Row>();
  for (const r of await queryRows(c, scopeSql(runFallbackSql(ids), filter))) byRun.set(str(r, "run_id"), r);
  const legends = legendLabels(runs);

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
      // The market's Brier at these decision times, from the stored skill when the raw rows cannot give it: skill = 1 − brier / market.
      const brier = values["brier"] ?? null;
      const skill = values["brier_skill"] ?? null;
      if ((values["market_brier"] ?? null) === null && brier !== null && skill !== null && skill !== 1) values["market_brier"] = brier / (1 - skill);
      const brierRow = stored.get(`${run.runId}\u0000${model}\u0000brier`) ?? (single ? stored.get(`${run.runId}\u0000*\u0000brier`) : undefined);
      // A run that did not complete is labelled so, its figures being partial.
      const label = run.status === "completed" ? run.label : `${run.label} (${run.status})`;
      const legend = legends.get(run.runId) ?? label;
      rows.push({ run_id: run.runId, label, legend, dataset: run.datasetName, model, execution: run.execution, brier_lo: num(brierRow, "lo"), brier_hi: num(brierRow, "hi"), values });
    }
  }
  return rows;
}

/**
 * SQL for harness/metrics/calibration.ts binIndex(p, bins): the k with k/B ≤ p < (k+1)/B against the double
 * edges k/B, so 0.8999999999999999 is in bin 8 although floor(p × 10) is 9; p ≥ 1 in the last bin.
 */
export function binSql(p: string, bins: number): string {
  const k = `floor(${p} * ${bins})`;
  return `(CASE WHEN ${k} >= ${bins} THEN ${bins - 1} WHEN ${k} < 0 THEN 0
      WHEN ${p} < ${k} / ${bins} THEN ${k} - 1
      WHEN ${k} + 1 < ${bins} AND ${p} >= (${k} + 1) / ${bins} THEN ${k} + 1 ELSE ${k} END)::INTEGER`;
}

export interface ReportScope {
  /** Only these markets (category / series); figures recomputed from raw rows. */
  markets?: MarketFilter | undefined;
}

/** The forecast "model" of the market-baseline strategy: a reference (skill 0 by definition), not a contender. */
export const MARKET_BASELINE = "market";

/** Net P&L and skill of each run over two varied config params: the sweep heatmap's cells. */
function sweepHeatmap(all: readonly SelectedRun[], board: readonly LeaderboardRow[]): Row[] {
  // A sweep varies one setup: only runs of the strategy kind most runs share (over half of them) are its cells.
  const kindOf = (r: SelectedRun) => {
    try {
      return String((JSON.parse(r.configJson) as { strategy?: { kind?: unknown } }).strategy?.kind ?? "");
    } catch {
      return "";
    }
  };
  const counts = new Map<string, number>();
  for (const r of all) counts.set(kindOf(r), (counts.get(kindOf(r)) ?? 0) + 1);
  const dominant = [...counts].find(([, n]) => n * 2 > all.length)?.[0];
  if (dominant === undefined) return [];
  const runs = all.filter((r) => kindOf(r) === dominant);
  if (runs.length < 4) return [];
  const params = varyingParams(runs)
    .map((p) => ({ p, distinct: new Set([...p.values.values()].filter((v) => v !== "absent")) }))
    // A param only one run sets is not a sweep axis, nor is the strategy kind; axes are numeric (a sweep's grid).
    .filter((x) => [...x.p.values.values()].filter((v) => v !== "absent").length >= 4)
    .filter((x) => !x.p.path.endsWith(".kind") && [...x.distinct].every((v) => Number.isFinite(Number(v))))
    .filter((x) => x.distinct.size >= 2 && x.distinct.size <= 12 && [...x.distinct].every((v) => !v.startsWith("{") && !v.startsWith("[")))
    .sort((a, b) => b.distinct.size - a.distinct.size || a.p.path.localeCompare(b.p.path));
  const [px, py] = params;
  if (!px || !py) return [];
  const show = (v: string | undefined) => (v === undefined ? "absent" : v.startsWith('"') ? (JSON.parse(v) as string) : v);
  // Cells need both params: a run that sets neither (a baseline beside the sweep) is left out.
  const inSweep = runs.filter((r) => px.p.values.get(r.runId) !== "absent" && py.p.values.get(r.runId) !== "absent");
  return inSweep.map((run) => {
    const rows = board.filter((r) => r.run_id === run.runId);
    const decider = rows.find((r) => r.model === "consensus") ?? rows[0];
    const x = px.p.values.get(run.runId);
    const y = py.p.values.get(run.runId);
    return {
      run_id: run.runId,
      legend: decider?.legend ?? run.label,
      x_param: px.p.short,
      y_param: py.p.short,
      x: show(x),
      y: show(y),
      // Numeric params sort as numbers: the axis order is the sweep's order.
      x_order: x !== undefined && Number.isFinite(Number(x)) ? Number(x) : null,
      y_order: y !== undefined && Number.isFinite(Number(y)) ? Number(y) : null,
      net_pnl_usd: decider?.values["net_pnl_usd"] ?? null,
      brier_skill: decider?.values["brier_skill"] ?? null,
    };
  });
}

export async function loadReportData(c: DuckDBConnection, runs: SelectedRun[], scope: ReportScope = {}): Promise<ReportData> {
  const filter = scope.markets;
  const q = (sql: string) => queryRows(c, scopeSql(sql, filter));
  const ids = sqlList(runs.map((r) => r.runId));
  const hasOutcomes = await tableExists(c, "outcomes");
  const board = await leaderboard(c, runs, ids, hasOutcomes, filter);
  const legendOf = new Map(board.map((r) => [r.run_id, r.legend]));

  // Stored calibration bins cover whole runs; under a market filter they are rebuilt from the filtered forecasts.
  const reliability = isFiltered(filter)
    ? await q(
        `SELECT f.model, ${binSql("f.probability", 10)} AS bin, count(*)::BIGINT AS n, avg(f.probability) AS mean_forecast,
           avg(CASE o.result WHEN 'yes' THEN 1.0 ELSE 0.0 END) AS observed_rate
         FROM forecasts f JOIN outcomes o USING (run_id, ticker)
         WHERE f.run_id IN (${ids}) AND NOT f.abstained AND f.probability IS NOT NULL AND o.result IN ('yes', 'no') GROUP BY ALL ORDER BY f.model, bin`,
      )
    : await queryRows(
        c,
        `SELECT model, bin, sum(n)::BIGINT AS n, sum(n * mean_forecast) / sum(n) AS mean_forecast, sum(n * observed_rate) / sum(n) AS observed_rate
         FROM calibration_bins WHERE run_id IN (${ids}) AND model <> '*' AND n > 0 GROUP BY model, bin ORDER BY model, bin`,
      );
  // Equity is the whole book's: not shown for a subset of markets.
  const equity = isFiltered(filter)
    ? []
    : (
        await queryRows(
          c,
          `SELECT e.run_id, coalesce(r.label, e.run_id) AS label, e.ts, e.equity_units / 1e4 AS equity_usd,
             e.equity_units / 1e4 - e.ai_spend_nusd / 1e9 AS net_equity_usd
           FROM equity e JOIN runs r USING (run_id) WHERE e.run_id IN (${ids}) ORDER BY e.run_id, e.ts`,
        )
      ).map((r) => ({ ...r, label: legendOf.get(str(r, "run_id")) ?? str(r, "label") }));
  const modelsPerRun = new Map<string, number>();
  for (const r of board) modelsPerRun.set(r.run_id, (modelsPerRun.get(r.run_id) ?? 0) + 1);
  const points = board
    .filter((r) => r.model !== MARKET_BASELINE)
    .map((r) => {
      const cost = r.values["cost_per_forecast_usd"] ?? Number.NaN;
      const hits = r.values["cache_hit_rate"] ?? 0;
      // Paid cost is what the provider billed; a cached answer cost nothing now but was paid for once. Estimated
      // uncached cost: the paid cost per provider call spread over every call (hits included).
      const uncached = hits > 0 && hits < 1 && Number.isFinite(cost) ? cost / (1 - hits) : null;
      const basis = cost > 0 ? (hits > 0 ? "paid, part cached" : "paid") : hits > 0 ? "cached (paid earlier)" : "free (local model or rule)";
      return {
        run_id: r.run_id,
        model: r.model,
        series: (modelsPerRun.get(r.run_id) ?? 1) > 1 ? `${r.legend} · ${r.model}` : r.legend,
        cost,
        skill: r.values["brier_skill"] ?? Number.NaN,
        cache_hit_rate: hits,
        uncached_cost: uncached,
        basis,
      };
    })
    .filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.skill));
  const frontier = new Set(paretoFrontier(points));
  const costSkill: Row[] = points.map((p) => ({ ...p, frontier: frontier.has(p) }));

  const spend = await q(
    `SELECT (sim_ts // 3600000) * 3600000 AS hour, model, task, sum(cost_nusd) / 1e9 AS spend_usd, count(*)::BIGINT AS calls
     FROM llm_calls WHERE run_id IN (${ids}) AND sim_ts IS NOT NULL GROUP BY ALL HAVING sum(cost_nusd) > 0 ORDER BY hour, model, task`,
  );
  const { ablation, waterfall } = ablationTables(runs, (runId, metric) => board.find((r) => r.run_id === runId)?.values[metric] ?? null);
  const latency = await q(
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
  // The market baseline correlates 1 with itself by construction: it is drawn as the reference, not as a bar.
  const marketCorrelation = await q(
    `SELECT model, corr(probability, market_price) AS correlation, count(*)::BIGINT AS forecasts
     FROM forecasts WHERE run_id IN (${ids}) AND NOT abstained AND probability IS NOT NULL AND market_price IS NOT NULL AND model <> '${MARKET_BASELINE}'
     GROUP BY model HAVING count(*) >= 3 ORDER BY model`,
  );
  const heatmap = sweepHeatmap(runs, board);
  const abstentions = await loadAbstentions(c, ids);
  return { runs, leaderboard: board, reliability, equity, costSkill, spend, ablation, waterfall, heatmap, latency, throughput, marketCorrelation, abstentions };
}
