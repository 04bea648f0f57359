/** Equity curves per run, after trading fees and after AI spend (equity − cumulative AI cost). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, seriesColor, seriesDash, type ChartDef } from "./chart.ts";

export function equityChart(rows: readonly Row[]): ChartDef {
  // Series in first-seen order: colours follow run order, dashed once the palette repeats.
  const series = [...new Set(rows.map((r) => String(r["label"])))];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Equity after fees and AI spend",
    config: CHART_CONFIG,
    width: 640,
    height: 300,
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "ts", type: "temporal", title: "simulated time (UTC)" },
      y: { field: "net_equity_usd", type: "quantitative", title: "equity − AI spend ($)", scale: { zero: false } },
      color: seriesColor("label", series, "run"),
      strokeDash: { field: "label", type: "nominal", scale: { domain: series, range: series.map((_, i) => [...seriesDash(i)]) } },
      detail: { field: "run_id" },
      tooltip: [{ field: "run_id" }, { field: "label" }, { field: "ts", type: "temporal" }, { field: "equity_usd", format: ".2f" }, { field: "net_equity_usd", format: ".2f" }],
    },
  } as unknown as TopLevelSpec;
  return { id: "equity", title: "Equity curves", caption: "How to read: each line is a run's equity (open positions at cost, fees included) minus its AI spend so far; a line ending above where it started made money after paying for its models.", spec, data: rows };
}
