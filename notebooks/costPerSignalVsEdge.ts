/**
 * Notebook: is a signal worth what the model charged for it?
 * Run: npx tsx notebooks/costPerSignalVsEdge.ts [--db reports/tapedeck.duckdb] [--runs id,id] [-o dir] (--help explains; completed runs only by default)
 *
 * Per run: AI spend per signal (a decision to trade) against the mean edge
 * the signals claimed and the realised P&L per signal. A run above the
 * diagonal earns more per signal than it pays for it.
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, type ChartDef } from "../reports/charts/chart.ts";
import { isMain, notebookMain, readRows, writeNotebook, type NotebookOptions, type NotebookOutput } from "./notebookIo.ts";

export async function costPerSignalVsEdge(o: NotebookOptions): Promise<NotebookOutput> {
  const rows = await readRows(
    o,
    `WITH s AS (SELECT run_id, count(*) AS signals, avg(edge) AS mean_edge FROM decisions WHERE action <> 'hold' GROUP BY run_id),
     a AS (SELECT run_id, sum(cost_nusd) AS ai_nusd FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id),
     -- P&L as the run's own pnl_usd counts it: settled positions plus those still open at the end, marked to bid.
     p AS (SELECT run_id, sum(pnl_units) AS pnl_units FROM (SELECT run_id, pnl_units FROM settlements UNION ALL SELECT run_id, pnl_units FROM open_positions) GROUP BY run_id)
     SELECT r.run_id, coalesce(r.label, r.run_id) AS label, s.signals::BIGINT AS signals, s.mean_edge,
       coalesce(a.ai_nusd, 0) / 1e9 / s.signals AS cost_per_signal_usd,
       coalesce(p.pnl_units, 0) / 1e4 / s.signals AS pnl_per_signal_usd
     FROM runs r JOIN s USING (run_id) LEFT JOIN a USING (run_id) LEFT JOIN p USING (run_id)
     ORDER BY r.started_at, r.run_id`,
  );
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "AI cost per signal vs P&L per signal, per run",
    config: CHART_CONFIG,
    width: 520,
    height: 300,
    mark: { type: "point", filled: true },
    encoding: {
      x: { field: "cost_per_signal_usd", type: "quantitative", title: "AI spend per signal ($)" },
      y: { field: "pnl_per_signal_usd", type: "quantitative", title: "P&L after fees per signal ($)" },
      size: { field: "mean_edge", type: "quantitative", title: "mean claimed edge" },
      color: { field: "label", type: "nominal", title: "run", legend: { symbolLimit: 20 } },
      tooltip: [{ field: "run_id" }, { field: "signals" }, { field: "mean_edge", format: ".3f" }, { field: "cost_per_signal_usd", format: ".6f" }, { field: "pnl_per_signal_usd", format: ".4f" }],
    },
  } as unknown as TopLevelSpec;
  const chart: ChartDef = { id: "cost-per-signal-vs-edge", title: "Cost per signal vs edge", caption: "", spec, data: rows };
  const table = [
    "| Run | Signals | Mean edge | AI $ / signal | P&L $ / signal |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${String(r["label"])} | ${String(r["signals"])} | ${Number(r["mean_edge"]).toFixed(3)} | ${Number(r["cost_per_signal_usd"]).toFixed(6)} | ${Number(r["pnl_per_signal_usd"]).toFixed(4)} |`),
  ].join("\n");
  return writeNotebook(o.outDir, "Cost per signal versus edge", `Every run in ${o.dbPath} that signalled at least once.\n\n${table}`, [chart], rows);
}

if (isMain(import.meta.url)) await notebookMain("cost-per-signal-vs-edge", "costPerSignalVsEdge.ts", "What does each run pay in AI spend per trading signal, against the edge of those signals?", costPerSignalVsEdge);
