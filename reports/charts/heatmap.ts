/** Sweep heatmap: net P&L after AI spend of each run over the two config params the sweep varied most. */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function heatmapChart(rows: readonly Row[]): ChartDef {
  const xParam = String(rows[0]?.["x_param"] ?? "x");
  const yParam = String(rows[0]?.["y_param"] ?? "y");
  const sortBy = (field: string) => ({ field, op: "min" });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Sweep: net P&L after AI spend over ${xParam} × ${yParam}`,
    config: CHART_CONFIG,
    width: { step: 70 },
    height: { step: 34 },
    encoding: {
      x: { field: "x", type: "ordinal", title: xParam, sort: sortBy("x_order"), axis: { labelAngle: 0 } },
      y: { field: "y", type: "ordinal", title: yParam, sort: sortBy("y_order") },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#fff" },
        encoding: {
          color: { field: "net_pnl_usd", type: "quantitative", aggregate: "mean", title: "net P&L $", scale: { scheme: "redblue", domainMid: 0 } },
          tooltip: [
            { field: "x", title: xParam },
            { field: "y", title: yParam },
            { field: "net_pnl_usd", aggregate: "mean", title: "net P&L $ (mean of runs)", format: ".2f" },
            { field: "brier_skill", aggregate: "mean", title: "skill vs market", format: ".4f" },
            { field: "run_id", aggregate: "count", title: "runs" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: { text: { field: "net_pnl_usd", aggregate: "mean", format: ".1f" }, color: { value: "#111" } },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    id: "sweep-heatmap",
    title: "Sweep heatmap",
    caption: `How to read: each cell is the net P&L (after AI spend) of the runs with that ${xParam} and ${yParam}, averaged when other params vary too; blue made money, red lost it, white is break-even.`,
    spec,
    data: rows,
  };
}
