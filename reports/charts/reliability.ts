/** Reliability diagram per model: observed YES rate against mean forecast per bin, beside the diagonal of perfect calibration. */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function reliabilityChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Reliability per model (all selected runs pooled)",
    config: CHART_CONFIG,
    facet: { field: "model", type: "nominal", title: null, header: { labelFontSize: 12, labelLimit: 240 } },
    columns: 3,
    spec: {
      width: 220,
      height: 200,
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: "line", color: "#999", strokeDash: [4, 4] },
          encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
        },
        {
          mark: { type: "line", point: true, color: "#1f77b4" },
          encoding: {
            x: { field: "mean_forecast", type: "quantitative", title: "mean forecast", scale: { domain: [0, 1] } },
            y: { field: "observed_rate", type: "quantitative", title: "observed YES rate", scale: { domain: [0, 1] } },
            tooltip: [{ field: "model" }, { field: "bin" }, { field: "n" }, { field: "mean_forecast", format: ".3f" }, { field: "observed_rate", format: ".3f" }],
          },
        },
        {
          mark: { type: "circle", opacity: 0.25, color: "#1f77b4" },
          encoding: {
            x: { field: "mean_forecast", type: "quantitative" },
            y: { field: "observed_rate", type: "quantitative" },
            size: { field: "n", type: "quantitative", title: "forecasts in bin" },
          },
        },
      ],
    },
  } as unknown as TopLevelSpec;
  return { id: "reliability", title: "Reliability", caption: "How to read: a point on the dashed diagonal is calibrated (it said 70% and 70% came true); above the diagonal the model under-forecasts YES, below it over-forecasts; big circles hold many forecasts.", spec, data: rows };
}
