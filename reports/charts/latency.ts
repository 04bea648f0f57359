/** Latency distribution per model (cache misses that succeeded): box from p25 to p75, median tick, whiskers to min and p95. */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function latencyChart(rows: readonly Row[]): ChartDef {
  const y = { field: "model", type: "nominal", title: null };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Model call latency (ms), cache misses",
    config: CHART_CONFIG,
    width: 520,
    height: { step: 34 },
    encoding: { y },
    layer: [
      { mark: { type: "rule" }, encoding: { x: { field: "min_ms", type: "quantitative", title: "latency (ms)" }, x2: { field: "p95_ms" } } },
      { mark: { type: "bar", size: 18, color: "#9ecae1" }, encoding: { x: { field: "p25_ms", type: "quantitative" }, x2: { field: "p75_ms" } } },
      { mark: { type: "tick", color: "#08519c", size: 18, thickness: 2 }, encoding: { x: { field: "p50_ms", type: "quantitative" } } },
      {
        mark: { type: "point", shape: "diamond", color: "#d62728", filled: true },
        encoding: {
          x: { field: "p95_ms", type: "quantitative" },
          tooltip: [{ field: "model" }, { field: "calls" }, { field: "p50_ms", format: ".0f" }, { field: "p95_ms", format: ".0f" }, { field: "max_ms", format: ".0f" }],
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return { id: "latency", title: "Latency", caption: "How to read: shorter and further left is faster; the box holds the middle half of provider calls (p25–p75), the dark tick is the median, the red diamond p95, the line starts at the fastest call.", spec, data: rows };
}
