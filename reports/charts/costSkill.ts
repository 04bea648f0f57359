/**
 * Cost per forecast against Brier skill vs the market, with the Pareto
 * frontier (cheapest for its skill). Works at $0: the x axis always spans at
 * least a small positive range, so free runs (local models, rules, fully
 * cached) sit at the left edge instead of collapsing the axis to one tick.
 * Cached cost is told apart from paid: the shape says how a run's cost was
 * met, and a dashed line runs from what a part-cached run paid to what it
 * would have paid with no cache. The market baseline is the y = 0 line.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";
import { CHART_CONFIG, type ChartDef } from "./chart.ts";

/** The smallest x range drawn: $0.00001 per forecast. */
const MIN_COST_SPAN = 1e-5;

export const COST_BASES = ["paid", "paid, part cached", "cached (paid earlier)", "free (local model or rule)"] as const;

export function costSkillChart(rows: readonly Row[]): ChartDef {
  const costs = rows.flatMap((r) => [r["cost"], r["uncached_cost"]]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const maxCost = Math.max(MIN_COST_SPAN, ...costs) * 1.1;
  const x = { field: "cost", type: "quantitative", title: "AI cost per forecast, paid ($)", scale: { domain: [0, maxCost], nice: false } };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Cost per forecast vs Brier skill",
    config: CHART_CONFIG,
    width: 560,
    height: 320,
    layer: [
      {
        mark: { type: "rule", color: "#555", strokeDash: [4, 4] },
        encoding: { y: { datum: 0 } },
      },
      {
        data: { values: [{ cost: 0, skill: 0, text: "market price (skill 0)" }] },
        mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#555", fontSize: 11 },
        encoding: { x: { field: "cost", type: "quantitative" }, y: { field: "skill", type: "quantitative" }, text: { field: "text" } },
      },
      {
        transform: [{ filter: "isValid(datum.uncached_cost)" }],
        mark: { type: "rule", strokeDash: [3, 3], color: "#999" },
        encoding: { x: { ...x }, x2: { field: "uncached_cost" }, y: { field: "skill", type: "quantitative" } },
      },
      {
        transform: [{ filter: "isValid(datum.uncached_cost)" }],
        mark: { type: "point", filled: false, size: 60, color: "#999" },
        encoding: {
          x: { field: "uncached_cost", type: "quantitative" },
          y: { field: "skill", type: "quantitative" },
          tooltip: [{ field: "series" }, { field: "uncached_cost", title: "cost with no cache (estimate)", format: ".6f" }],
        },
      },
      {
        transform: [{ filter: "datum.frontier" }],
        mark: { type: "line", color: "#333", strokeWidth: 1 },
        encoding: { x: { ...x, sort: "ascending" }, y: { field: "skill", type: "quantitative" }, order: { field: "cost" } },
      },
      {
        mark: { type: "point", filled: true, size: 80, opacity: 0.85 },
        encoding: {
          x,
          y: { field: "skill", type: "quantitative", title: "Brier skill vs market (higher is better)" },
          color: { field: "model", type: "nominal", title: "model", legend: { labelLimit: 0 } },
          shape: { field: "basis", type: "nominal", title: "cost", scale: { domain: [...COST_BASES], range: ["circle", "diamond", "triangle-up", "square"] } },
          tooltip: [
            { field: "series" },
            { field: "basis", title: "cost" },
            { field: "cost", title: "paid per forecast", format: ".6f" },
            { field: "cache_hit_rate", title: "cache hits", format: ".1%" },
            { field: "skill", format: ".4f" },
            { field: "frontier" },
          ],
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    id: "cost-skill",
    title: "Cost vs skill",
    caption:
      "How to read: up is more skilful than the market price (dashed line, skill 0), left is cheaper; the dark line joins runs no other beats on both. Shape says how the cost was met: a cached run paid earlier (hollow grey point and dashed line: its estimated cost with no cache), free runs sit at $0.",
    spec,
    data: rows,
  };
}
