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

/**
 * Series colours that stay distinct past 10 runs: 25 hues (Tableau 20 and
 * five more), then the same hues again with a dashed stroke / hollow shape
 * (seriesStyle), so 50 series never share both colour and style.
 */
export const SERIES_PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
] as const;

export const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3]] as const;

/** A colour scale over the series in the given order (the legend keeps that order). */
export function seriesColor(field: string, series: readonly string[], title: string | null, legend: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    field,
    type: "nominal",
    title,
    scale: { domain: [...series], range: series.map((_, i) => SERIES_PALETTE[i % SERIES_PALETTE.length]) },
    legend: { columns: series.length > 20 ? 2 : 1, symbolLimit: 0, labelLimit: 0, ...legend },
  };
}

/** The dash pattern of series i: solid for the first 25, then dashed, and so on. */
export function seriesDash(i: number): readonly number[] {
  return DASHES[Math.floor(i / SERIES_PALETTE.length) % DASHES.length]!;
}
