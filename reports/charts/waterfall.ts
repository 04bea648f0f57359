/** Ablation waterfall: net P&L without the listed layers, plus what each layer adds, up to the baseline run. */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function waterfallChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Ablation: what each layer adds to net P&L",
    config: CHART_CONFIG,
    width: 480,
    height: 260,
    mark: { type: "bar", size: 40 },
    encoding: {
      x: { field: "step", type: "nominal", sort: { field: "order" }, title: null, axis: { labelAngle: 0, labelLimit: 220 } },
      y: { field: "start", type: "quantitative", title: "net P&L after AI spend ($)" },
      y2: { field: "end" },
      color: {
        field: "kind",
        type: "nominal",
        scale: { domain: ["total", "gain", "loss"], range: ["#7f7f7f", "#2ca02c", "#d62728"] },
        title: null,
      },
      tooltip: [{ field: "step" }, { field: "start", format: ".2f" }, { field: "end", format: ".2f" }],
    },
  } as unknown as TopLevelSpec;
  return { id: "ablation-waterfall", title: "Ablation waterfall", caption: "Each layer's worth is the baseline's net P&L minus the run without that layer.", spec, data: rows };
}
