/** AI spend by model and task over simulated time (hourly). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function spendChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "AI spend by model and task, per simulated hour",
    config: CHART_CONFIG,
    width: 640,
    height: 260,
    transform: [{ calculate: "datum.model + ' · ' + datum.task", as: "model_task" }],
    mark: { type: "bar" },
    encoding: {
      x: { field: "hour", type: "temporal", timeUnit: "yearmonthdatehours", title: "simulated hour (UTC)" },
      y: { field: "spend_usd", type: "quantitative", aggregate: "sum", title: "AI spend ($)" },
      color: { field: "model_task", type: "nominal", title: "model · task" },
      tooltip: [{ field: "model" }, { field: "task" }, { field: "hour", type: "temporal" }, { field: "spend_usd", format: ".6f" }, { field: "calls" }],
    },
  } as unknown as TopLevelSpec;
  return { id: "spend", title: "AI spend", caption: "How to read: bar height is the money paid to providers in each simulated hour, summed over the selected runs and split by model and task; cache hits cost nothing and do not appear.", spec, data: rows };
}
