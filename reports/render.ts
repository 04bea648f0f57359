/**
 * Chart rendering in Node: vega-lite compiles the spec, a headless vega View
 * (renderer "none") draws it to SVG, resvg rasterises the SVG to PNG with the
 * system's DejaVu Sans so text is the same sans face as in the browser.
 */
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile } from "vega-lite";
import { withData, type ChartDef } from "./charts/chart.ts";

export interface RenderedChart {
  svg: string;
  png: Buffer;
}

export async function renderSvg(chart: ChartDef): Promise<string> {
  const { spec } = compile(withData(chart));
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

export async function renderChart(chart: ChartDef): Promise<RenderedChart> {
  const svg = await renderSvg(chart);
  return { svg, png: svgToPng(svg) };
}
