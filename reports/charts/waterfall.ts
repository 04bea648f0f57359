/**
 * Ablation waterfall: net P&L of the base run (no cost layers), then what
 * adding each layer changed (ablate adds them cumulatively), ending at the
 * run with every layer on. Losses red, gains green, totals grey; each bar is
 * labelled with its signed change above its top, one step per 110 px so the
 * labels never overlap.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function waterfallChart(rows: readonly Row[]): ChartDef {
  const x = { field: "step", type: "nominal", sort: { field: "order" }, title: null, axis: { labelAngle: 0, labelLimit: 105 } };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Ablation: what adding each layer changed in net P&L",
    config: CHART_CONFIG,
    width: { step: 110 },
    height: 260,
    transform: [{ calculate: "max(datum.start, datum.end)", as: "top" }],
    layer: [
      {
        mark: { type: "bar", size: 48 },
        encoding: {
          x,
          y: { field: "start", type: "quantitative", title: "net P&L after AI spend ($)" },
          y2: { field: "end" },
          color: {
            field: "kind",
            type: "nominal",
            scale: { domain: ["total", "gain", "loss"], range: ["#8c8c8c", "#1a7f37", "#b2182b"] },
            legend: { title: null, orient: "top" },
          },
          tooltip: [{ field: "step" }, { field: "label", title: "change" }, { field: "start", format: ".2f" }, { field: "end", format: ".2f" }],
        },
      },
      { mark: { type: "rule", color: "#444" }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: "text", dy: -7, fontSize: 11 },
        encoding: { x, y: { field: "top", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    id: "ablation-waterfall",
    title: "Ablation waterfall",
    caption:
      "How to read: the first bar is the base run with no cost layers; each next bar is what adding that layer (on top of the ones before) changed in net P&L — green gained, red lost; the last bar is the run with every layer on.",
    spec,
    data: rows,
  };
}
