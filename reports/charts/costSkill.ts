/** Cost per forecast against Brier skill vs the market, with the Pareto frontier (cheapest for its skill). */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

export function costSkillChart(rows: readonly Row[]): ChartDef {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Cost per forecast vs Brier skill (Pareto frontier in red)",
    config: CHART_CONFIG,
    width: 560,
    height: 320,
    layer: [
      {
        mark: { type: "point", filled: true, size: 70, opacity: 0.8 },
        encoding: {
          x: { field: "cost", type: "quantitative", title: "AI cost per forecast ($)" },
          y: { field: "skill", type: "quantitative", title: "Brier skill vs market (higher is better)" },
          color: { field: "model", type: "nominal", title: "model" },
          tooltip: [{ field: "series" }, { field: "cost", format: ".6f" }, { field: "skill", format: ".4f" }, { field: "frontier" }],
        },
      },
      {
        transform: [{ filter: "datum.frontier" }],
        mark: { type: "line", color: "#d62728", point: { color: "#d62728" } },
        encoding: { x: { field: "cost", type: "quantitative", sort: "ascending" }, y: { field: "skill", type: "quantitative" }, order: { field: "cost" } },
      },
      {
        mark: { type: "rule", color: "#999", strokeDash: [4, 4] },
        encoding: { y: { datum: 0 } },
      },
    ],
  } as unknown as TopLevelSpec;
  return { id: "cost-skill", title: "Cost vs skill", caption: "Above the dashed line a model beats the market price; the red line joins models no other beats on both cost and skill.", spec, data: rows };
}
