/**
 * Build a report from the results DB: report.html (self-contained), one SVG
 * and one PNG per chart under charts/, and summary.md. The DB is opened
 * read-only; nothing in it changes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openDbForReading } from "../harness/db/dbFile.ts";
import { brierChart } from "./charts/brier.ts";
import type { ChartDef } from "./charts/chart.ts";
import { costSkillChart } from "./charts/costSkill.ts";
import { equityChart } from "./charts/equity.ts";
import { latencyChart } from "./charts/latency.ts";
import { marketCorrelationChart } from "./charts/marketCorrelation.ts";
import { reliabilityChart } from "./charts/reliability.ts";
import { spendChart } from "./charts/spend.ts";
import { throughputChart } from "./charts/throughput.ts";
import { waterfallChart } from "./charts/waterfall.ts";
import { heatmapChart } from "./charts/heatmap.ts";
import { describeMarketFilter } from "./marketFilter.ts";
import { reportHtml } from "./html.ts";
import { summaryMarkdown } from "./markdown.ts";
import { loadReportData, type ReportData } from "./reportData.ts";
import { renderChart } from "./render.ts";
import { RunSelectionError, selectRuns } from "./selectRuns.ts";

export interface BuildReportOptions {
  dbPath: string;
  runIds?: string[] | undefined;
  last?: number | undefined;
  outDir: string;
  title?: string | undefined;
  /** Only runs on this dataset. */
  dataset?: string | undefined;
  /** Allow runs on different datasets in one report (refused otherwise: their figures are not comparable). */
  mixDatasets?: boolean | undefined;
  /** Only markets of this category / Kalshi series; figures recomputed from raw rows. */
  category?: string | undefined;
  series?: string | undefined;
}

export interface BuiltReport {
  htmlPath: string;
  markdownPath: string;
  chartFiles: string[];
  runIds: string[];
}

/** The charts a data set supports: a chart with no rows is left out rather than drawn empty. */
export function chartsFor(data: ReportData): ChartDef[] {
  const modelsPerRun = new Map<string, number>();
  for (const r of data.leaderboard) modelsPerRun.set(r.run_id, (modelsPerRun.get(r.run_id) ?? 0) + 1);
  const brierRows = data.leaderboard
    .filter((r) => r.values["brier"] !== null && r.values["brier"] !== undefined)
    .map((r) => ({ run_id: r.run_id, model: r.model, series: (modelsPerRun.get(r.run_id) ?? 1) > 1 ? `${r.legend} · ${r.model}` : r.legend, brier: r.values["brier"] ?? null, brier_lo: r.brier_lo, brier_hi: r.brier_hi }))
    // Best first: the chart keeps row order (its y axis is unsorted).
    .sort((a, b) => (a.brier ?? 0) - (b.brier ?? 0));
  const candidates: ChartDef[] = [
    brierChart(brierRows),
    reliabilityChart(data.reliability),
    equityChart(data.equity),
    costSkillChart(data.costSkill),
    spendChart(data.spend),
    waterfallChart(data.waterfall),
    heatmapChart(data.heatmap),
    latencyChart(data.latency),
    throughputChart(data.throughput),
    marketCorrelationChart(data.marketCorrelation),
  ];
  return candidates.filter((c) => c.data.length > 0);
}

export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const db = await openDbForReading(options.dbPath, "results");
  let data: ReportData;
  try {
    const runs = await selectRuns(db.connection, { runIds: options.runIds, last: options.last, dataset: options.dataset, mixDatasets: options.mixDatasets });
    if (runs.length === 0) throw new RunSelectionError(`${options.dbPath}: no runs to report on${options.dataset !== undefined ? ` on dataset ${options.dataset}` : ""}`);
    data = await loadReportData(db.connection, runs, { markets: { category: options.category, series: options.series } });
  } finally {
    db.close();
  }
  const outDir = resolve(options.outDir);
  const chartDir = join(outDir, "charts");
  mkdirSync(chartDir, { recursive: true });
  const charts = chartsFor(data);
  const chartFiles: string[] = [];
  for (const chart of charts) {
    const { svg, png } = await renderChart(chart);
    const svgPath = join(chartDir, `${chart.id}.svg`);
    const pngPath = join(chartDir, `${chart.id}.png`);
    writeFileSync(svgPath, svg);
    writeFileSync(pngPath, png);
    chartFiles.push(svgPath, pngPath);
  }
  const title = options.title ?? `tapedeck report: ${data.runs.length} run${data.runs.length === 1 ? "" : "s"}`;
  const generatedAt = new Date().toISOString();
  const htmlPath = join(outDir, "report.html");
  const scope = describeMarketFilter({ category: options.category, series: options.series });
  writeFileSync(htmlPath, reportHtml({ title, generatedAt, dbPath: options.dbPath, leaderboard: data.leaderboard, ablation: data.ablation, charts, scope, abstentions: data.abstentions }));
  const markdownPath = join(outDir, "summary.md");
  writeFileSync(markdownPath, summaryMarkdown({ title, generatedAt, leaderboard: data.leaderboard, charts, pngPath: (id) => `charts/${id}.png` }));
  return { htmlPath, markdownPath, chartFiles, runIds: data.runs.map((r) => r.runId) };
}
