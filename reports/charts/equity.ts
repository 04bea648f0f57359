/** Equity curves per run, after trading fees and after AI spend (equity − cumulative AI cost). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function equityChart(rows: readonly Row[]): ChartDef {
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
      color: { field: "label", type: "nominal", title: "run", legend: { columns: 1, symbolLimit: 30 } },
      detail: { field: "run_id" },
      tooltip: [{ field: "run_id" }, { field: "label" }, { field: "ts", type: "temporal" }, { field: "equity_usd", format: ".2f" }, { field: "net_equity_usd", format: ".2f" }],
    },
  } as unknown as TopLevelSpec;
  return { id: "equity", title: "Equity curves", caption: "Mark-at-cost equity minus cumulative AI spend; fees are already in equity.", spec, data: rows };
}
