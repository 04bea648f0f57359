/**
 * One chart of a report: a vega-lite spec without its data, and the rows it
 * draws. The rows are attached as the spec's top-level inline data when
 * rendering (Node or browser), and embedded beside the spec in report.html
 * so a test can read back exactly what was drawn.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../query.ts";

export interface ChartDef {
  /** File and element id: [a-z0-9-]+. */
  readonly id: string;
  readonly title: string;
  /** One line under the chart: what to look for. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
  readonly data: readonly Row[];
}

/** Shared look: one sans face (DejaVu Sans is on every machine this runs on, so SVG, PNG and browser agree). */
export const CHART_CONFIG = {
  font: "DejaVu Sans",
  title: { fontSize: 15, anchor: "start" },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  view: { stroke: "#ddd" },
} as const;

/** The spec with its rows inlined: what vega-lite compiles. */
export function withData(chart: ChartDef): TopLevelSpec {
  return { ...chart.spec, data: { values: chart.data as Row[] } } as TopLevelSpec;
}
