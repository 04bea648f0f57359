/**
 * Correlation of each model's forecasts with the market price. The market
 * baseline itself (correlation 1 by construction) is not a bar: it is the
 * reference line at 1, and models at or past the copying threshold are
 * shaded darker, as echoing the market rather than forecasting.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

/** At or above this a model echoes the market price rather than forecasting. */
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
          x: { field: "correlation", type: "quantitative", title: "Pearson correlation with the market price (dashed: the market itself)", scale: { domain: [Math.min(0, ...rows.map((r) => Number(r["correlation"] ?? 0))), 1] } },
          color: { condition: { test: `datum.correlation >= ${COPYING_THRESHOLD}`, value: "#6a51a3" }, value: "#6baed6" },
          tooltip: [{ field: "model" }, { field: "correlation", format: ".4f" }, { field: "forecasts" }],
        },
      },
      { mark: { type: "rule", color: "#555", strokeDash: [4, 4] }, encoding: { x: { datum: 1 } } },
    ],
  } as unknown as TopLevelSpec;
  return {
    id: "market-correlation",
    title: "How close to the market?",
    caption: `How to read: the dashed line at 1 is the market price itself (the baseline, not a contender); a bar near it (≥ ${COPYING_THRESHOLD}, darker) echoes the market and cannot beat it; a shorter bar forecasts more on its own.`,
    spec,
    data: rows,
  };
}
