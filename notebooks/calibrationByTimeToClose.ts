/**
 * Notebook: how does forecast quality change with time to close?
 * Run: npx tsx notebooks/calibrationByTimeToClose.ts [--db reports/tapedeck.duckdb] [--runs id,id] [-o dir] (--help explains; completed runs only by default)
 *
 * Buckets every scored forecast by hours left until its market closed and
 * computes, per model and bucket, the Brier score and the calibration gap
 * (mean forecast − observed YES rate). DuckDB does the bucketing and the
 * aggregation in one query.
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, type ChartDef } from "../reports/charts/chart.ts";
import { isMain, notebookMain, readRows, writeNotebook, type NotebookOptions, type NotebookOutput } from "./notebookIo.ts";

/** Bucket edges in hours before close; the last bucket is open-ended. */
export const BUCKETS = [
  { label: "< 1 h", lo: 0, hi: 1 },
  { label: "1–6 h", lo: 1, hi: 6 },
  { label: "6–24 h", lo: 6, hi: 24 },
  { label: "≥ 24 h", lo: 24, hi: 1e9 },
] as const;

export async function calibrationByTimeToClose(o: NotebookOptions): Promise<NotebookOutput> {
  const cases = BUCKETS.map((b, i) => `WHEN h >= ${b.lo} AND h < ${b.hi} THEN ${i}`).join(" ");
  const labels = BUCKETS.map((b, i) => `WHEN ${i} THEN '${b.label}'`).join(" ");
  const rows = await readRows(
    o,
    `WITH f AS (
       SELECT f.model, f.probability AS p, CASE o.result WHEN 'yes' THEN 1 ELSE 0 END AS y, (o.close_time - f.ts) / 3600000.0 AS h
       FROM forecasts f JOIN outcomes o USING (run_id, ticker)
       WHERE NOT f.abstained AND f.probability IS NOT NULL AND o.result IN ('yes', 'no') AND o.close_time IS NOT NULL AND f.ts <= o.close_time),
     b AS (SELECT *, CASE ${cases} END AS bucket FROM f)
     SELECT model, bucket, CASE bucket ${labels} END AS bucket_label, count(*)::BIGINT AS n,
       avg((p - y) ^ 2) AS brier, avg(p) - avg(y) AS calibration_gap
     FROM b GROUP BY model, bucket ORDER BY model, bucket`,
  );
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Brier score by time left before close",
    config: CHART_CONFIG,
    width: 520,
    height: 280,
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "bucket_label", type: "ordinal", sort: BUCKETS.map((b) => b.label), title: "time left before the market closed" },
      y: { field: "brier", type: "quantitative", title: "Brier score", scale: { zero: false } },
      color: { field: "model", type: "nominal", title: "model" },
      tooltip: [{ field: "model" }, { field: "bucket_label" }, { field: "n" }, { field: "brier", format: ".4f" }, { field: "calibration_gap", format: "+.3f" }],
    },
  } as unknown as TopLevelSpec;
  const chart: ChartDef = { id: "calibration-by-time-to-close", title: "Brier by time to close", caption: "", spec, data: rows };
  const table = [
    "| Model | Time to close | Forecasts | Brier | Mean forecast − observed |",
    "|---|---|---:|---:|---:|",
    ...rows.map((r) => `| ${String(r["model"])} | ${String(r["bucket_label"])} | ${String(r["n"])} | ${Number(r["brier"]).toFixed(4)} | ${Number(r["calibration_gap"]).toFixed(3)} |`),
  ].join("\n");
  return writeNotebook(o.outDir, "How calibration changes with time to close", `Pooled over every run in ${o.dbPath}. A positive gap means the model said YES more often than YES happened.\n\n${table}`, [chart], rows);
}

if (isMain(import.meta.url)) await notebookMain("calibration-by-time-to-close", "calibrationByTimeToClose.ts", "How calibrated are forecasts by time left to the market close? Buckets of time to close per model.", calibrationByTimeToClose);
