/** Local model throughput from the benchmarks table (latest figure per benchmark and device). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function throughputChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Local throughput (tokens/s, from tapedeck bench)",
    config: CHART_CONFIG,
    width: 480,
    height: { step: 30 },
    transform: [{ calculate: "datum.name + ' — ' + datum.device", as: "bench" }],
    // One shared y so both layers agree on the order (largest first).
    encoding: { y: { field: "bench", type: "nominal", title: null, sort: { field: "tokens_per_s", op: "max", order: "descending" } } },
    layer: [
      {
        mark: { type: "bar", color: "#6baed6" },
        encoding: {
          x: { field: "tokens_per_s", type: "quantitative", title: "tokens per second" },
          tooltip: [{ field: "name" }, { field: "device" }, { field: "tokens_per_s", format: ".1f" }],
        },
      },
      {
        mark: { type: "text", align: "left", dx: 4 },
        encoding: {
          x: { field: "tokens_per_s", type: "quantitative" },
          text: { field: "tokens_per_s", type: "quantitative", format: ",.0f" },
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return { id: "throughput", title: "Local throughput", caption: "How to read: longer bars generate more tokens per second on that device; benchmarks are not tied to a run, so every stored local benchmark is shown.", spec, data: rows };
}
