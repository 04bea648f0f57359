/** Correlation of each model's forecasts with the market price: near 1 means the model copies the market. */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

/** Above this the model is echoing the market price rather than forecasting. */
export const COPYING_THRESHOLD = 0.99;

export function marketCorrelationChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Correlation of forecasts with the market price",
    config: CHART_CONFIG,
    width: 480,
    height: { step: 30 },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "model", type: "nominal", title: null },
          x: { field: "correlation", type: "quantitative", title: "Pearson correlation", scale: { domainMax: 1 } },
          color: {
            condition: { test: `datum.correlation >= ${COPYING_THRESHOLD}`, value: "#d62728" },
            value: "#6baed6",
          },
          tooltip: [{ field: "model" }, { field: "correlation", format: ".4f" }, { field: "forecasts" }],
        },
      },
      { mark: { type: "rule", color: "#d62728", strokeDash: [4, 4] }, encoding: { x: { datum: COPYING_THRESHOLD } } },
    ],
  } as unknown as TopLevelSpec;
  return { id: "market-correlation", title: "Copying the market?", caption: `Red bars (≥ ${COPYING_THRESHOLD}) copy the market price rather than forecast.`, spec, data: rows };
}
