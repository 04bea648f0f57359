/**
 * Notebook: which model forecasts best in each market category?
 * Run: npx tsx notebooks/bestModelPerCategory.ts [--db reports/tapedeck.duckdb] [--runs id,id] [-o dir] (--help explains; completed runs only by default)
 *
 * DuckDB joins every scored forecast to its market's category and outcome;
 * arquero then computes the Brier score per category and model and picks the
 * lowest per category. Pooled over the chosen runs (every completed run by default).
 */
import * as aq from "arquero";
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, type ChartDef } from "../reports/charts/chart.ts";
import type { Row } from "../reports/query.ts";
import { isMain, notebookMain, readRows, writeNotebook, type NotebookOptions, type NotebookOutput } from "./notebookIo.ts";

export async function bestModelPerCategory(o: NotebookOptions): Promise<NotebookOutput> {
  const forecasts = await readRows(
    o,
    `SELECT coalesce(o.category, 'uncategorised') AS category, f.model, f.probability AS p, CASE o.result WHEN 'yes' THEN 1 ELSE 0 END AS y
     FROM forecasts f JOIN outcomes o USING (run_id, ticker)
     WHERE NOT f.abstained AND f.probability IS NOT NULL AND o.result IN ('yes', 'no')`,
  );
  const scored = aq
    .from(forecasts)
    .derive({ sq: (d: { p: number; y: number }) => (d.p - d.y) * (d.p - d.y) })
    .groupby("category", "model")
    .rollup({ brier: aq.op.mean("sq"), n: aq.op.count() })
    .orderby("category", "brier");
  const rows = scored.objects() as Row[];
  // The best per category is the first after ordering by Brier within it.
  const best = new Map<string, Row>();
  for (const r of rows) if (!best.has(String(r["category"]))) best.set(String(r["category"]), r);
  const withBest: Row[] = rows.map((r) => ({ category: r["category"] ?? null, model: r["model"] ?? null, brier: r["brier"] ?? null, n: r["n"] ?? null, best: best.get(String(r["category"])) === r }));

  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Brier score by market category and model (lower is better)",
    config: CHART_CONFIG,
    width: 160,
    height: 220,
    mark: { type: "bar" },
    encoding: {
      column: { field: "category", type: "nominal", title: null },
      x: { field: "model", type: "nominal", title: null, axis: { labelAngle: -40 } },
      y: { field: "brier", type: "quantitative", title: "Brier score" },
      color: { field: "best", type: "nominal", title: "best in category", scale: { domain: [true, false], range: ["#2ca02c", "#9ecae1"] } },
      tooltip: [{ field: "category" }, { field: "model" }, { field: "brier", format: ".4f" }, { field: "n" }],
    },
  } as unknown as TopLevelSpec;
  const chart: ChartDef = { id: "best-model-per-category", title: "Best model per category", caption: "", spec, data: withBest };
  const table = [
    "| Category | Best model | Brier | Forecasts |",
    "|---|---|---:|---:|",
    ...[...best.values()].map((r) => `| ${String(r["category"])} | ${String(r["model"])} | ${Number(r["brier"]).toFixed(4)} | ${String(r["n"])} |`),
  ].join("\n");
  return writeNotebook(o.outDir, "Which model is best per market category", `Pooled over every run in ${o.dbPath}.\n\n${table}`, [chart], withBest);
}

if (isMain(import.meta.url)) await notebookMain("best-model-per-category", "bestModelPerCategory.ts", "Which model forecasts best in each market category? Brier per category and model, pooled over the chosen runs.", bestModelPerCategory);
