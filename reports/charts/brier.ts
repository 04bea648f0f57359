/** Brier score per run and model with its 95% bootstrap interval (from the metrics table). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function brierChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Brier score with 95% interval (lower is better)",
    config: CHART_CONFIG,
    width: 480,
    height: { step: 20 },
    encoding: { y: { field: "series", type: "nominal", title: null, sort: null } },
    layer: [
      { mark: { type: "rule" }, encoding: { x: { field: "brier_lo", type: "quantitative", title: "Brier score", scale: { zero: false } }, x2: { field: "brier_hi" } } },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x: { field: "brier", type: "quantitative" },
          color: { field: "model", type: "nominal", title: "model" },
          tooltip: [{ field: "series" }, { field: "brier", format: ".4f" }, { field: "brier_lo", format: ".4f" }, { field: "brier_hi", format: ".4f" }],
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return { id: "brier", title: "Brier", caption: "How to read: left is better; each bar is a 95% bootstrap interval, and overlapping intervals mean the difference may be noise (`tapedeck compare` runs a paired test).", spec, data: rows };
}
