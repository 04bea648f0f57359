/**
 * A report that holds 50 runs (issue 13, friction 8), without a browser:
 * datasets are never mixed silently, --category/--series recompute figures
 * from the chosen markets, legends show only what differs, colours stay
 * distinct past 10 runs, cost-vs-skill works at $0 and tells cached from
 * paid, the market baseline is a reference (not a red copier), and every
 * chart says how to read it. The browser suite opens the same 50-run report.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { chartsFor } from "../../reports/buildReport.ts";
import { costSkillChart } from "../../reports/charts/costSkill.ts";
import { DASHES, SERIES_PALETTE, seriesDash } from "../../reports/charts/chart.ts";
import { reportHtml } from "../../reports/html.ts";
import { unplacedMetrics } from "../../reports/leaderboardLayout.ts";
import { queryRows } from "../../reports/query.ts";
import { loadReportData, type ReportData } from "../../reports/reportData.ts";
import { legendLabels } from "../../reports/runDifferences.ts";
import { RunSelectionError, selectRuns, type SelectedRun } from "../../reports/selectRuns.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";

let dbPath: string;
let db: Db;
let runs: SelectedRun[];
let data: ReportData;

beforeAll(async () => {
  dbPath = join(mkdtempSync(join(tmpdir(), "tapedeck-50-")), "r.duckdb");
  await buildResultsDb(dbPath, { runs: 50, markets: 30, seed: 21, sweep: true, ablation: false });
  // One more run on another dataset: a report must not mix it in silently.
  const w = await openDb(dbPath);
  await w.connection.run(
    `INSERT INTO runs (run_id, kind, label, config_hash, config_json, dataset_name, status, started_at) VALUES ('run-other', 'replay', 'other', 'x', '{}', 'kalshi-nov', 'completed', 1)`,
  );
  w.close();
  db = await openDb(dbPath, { readOnly: true });
  runs = await selectRuns(db.connection, { dataset: "sample" });
  data = await loadReportData(db.connection, runs);
});
afterAll(() => db?.close());

describe("selecting runs", () => {
  it("refuses to mix datasets unless asked, and --dataset picks one", async () => {
    await expect(selectRuns(db.connection, {})).rejects.toThrow(RunSelectionError);
    await expect(selectRuns(db.connection, {})).rejects.toThrow(/2 different datasets \(kalshi-nov: 1 run, sample: 50 runs\).*--dataset <name>, or pass --mix-datasets/);
    expect(await selectRuns(db.connection, { mixDatasets: true })).toHaveLength(51);
    expect(runs).toHaveLength(50);
    expect(new Set(data.leaderboard.map((r) => r.dataset))).toEqual(new Set(["sample"]));
  });
});

describe("the leaderboard of 50 runs", () => {
  it("places every metric column in a group, and shows the dataset column and the skill explanation", () => {
    expect(unplacedMetrics()).toEqual([]);
    const html = reportHtml({ title: "t", generatedAt: "now", dbPath, leaderboard: data.leaderboard, ablation: [], charts: [] });
    expect(html).toContain('<th class="sortable" data-col="2" data-type="text">Dataset</th>');
    expect(html).toMatch(/id="skill-note"[^]*at the same decision times[^]*can still have negative skill/);
    expect(html).toContain('id="toggle-columns"');
  });

  it("market Brier at the same times is the baseline the skill is measured on: skill = 1 − Brier / market Brier", () => {
    let checked = 0;
    for (const r of data.leaderboard) {
      const { brier, brier_skill: skill, market_brier: market } = r.values;
      if (brier === null || skill === null || market === null || brier === undefined || skill === undefined || market === undefined) continue;
      expect(skill).toBeCloseTo(1 - brier / market, 9);
      checked++;
    }
    expect(checked).toBeGreaterThan(45);
  });
});

describe("legends and colours", () => {
  it("label each sweep run by what differs, in full, and a run of another strategy by its own label", () => {
    const labels = legendLabels(runs);
    expect(labels.get("run-001")).toBe("kellyFraction=0.1 · minEdge=0.01");
    expect(labels.get("run-049")).toBe("kellyFraction=0.75 · minEdge=0.1");
    expect(labels.get("run-050")).toBe("openrouter/deepseek-chat #50");
    expect(new Set(labels.values()).size).toBe(50);
    // Different strategies side by side (the demo): each run keeps its name, no list of every differing field.
    const demo = ["market", "momentum", "llm"].map((kind, i) => ({
      runId: `d${i}`,
      label: `demo:${kind}`,
      kind: "replay",
      status: "completed",
      parentRunId: null,
      configJson: JSON.stringify({ strategy: { kind }, filter: { minIntervalMs: 3_600_000 * (i + 1) } }),
      startedAt: i,
      datasetName: "sample",
      execution: null,
    }));
    expect([...legendLabels(demo).values()]).toEqual(["demo:market", "demo:momentum", "demo:llm"]);
  });

  it("keeps 50 series distinct in colour and dash", () => {
    const styles = new Set(Array.from({ length: 50 }, (_, i) => `${SERIES_PALETTE[i % SERIES_PALETTE.length]}|${seriesDash(i).join(",")}`));
    expect(styles.size).toBe(50);
    expect(new Set(SERIES_PALETTE).size).toBe(SERIES_PALETTE.length);
    expect(SERIES_PALETTE.length * DASHES.length).toBeGreaterThanOrEqual(100);
  });
});

describe("charts", () => {
  it("draws the sweep heatmap over the two varied params, one cell per sweep run", () => {
    expect(data.heatmap).toHaveLength(49);
    expect(new Set(data.heatmap.map((r) => `${r["x_param"]}×${r["y_param"]}`))).toEqual(new Set(["minEdge×kellyFraction"]));
    const cell = data.heatmap.find((r) => r["run_id"] === "run-007")!;
    expect(cell).toMatchObject({ x: "0.02", y: "0.25" });
    expect(cell["net_pnl_usd"]).toBe(data.leaderboard.find((r) => r.run_id === "run-007")!.values["net_pnl_usd"]);
  });

  it("says how to read every chart", () => {
    const charts = chartsFor(data);
    expect(charts.map((c) => c.id)).toContain("sweep-heatmap");
    for (const c of charts) expect(c.caption, c.id).toMatch(/^How to read: /);
  });

  it("draws the market baseline as a reference, never as a contender", () => {
    expect(data.marketCorrelation.some((r) => r["model"] === "market")).toBe(false);
    expect(data.costSkill.some((r) => r["model"] === "market")).toBe(false);
    const spec = JSON.stringify(chartsFor(data).find((c) => c.id === "market-correlation")!.spec);
    expect(spec).not.toContain("#d62728");
    expect(spec).toContain("market price");
  });

  it("cost vs skill works when every run costs $0 and tells cached from paid", () => {
    const free = [
      { run_id: "a", model: "local/x", series: "a", cost: 0, skill: -0.1, cache_hit_rate: 0, uncached_cost: null, basis: "free (local model or rule)", frontier: true },
      { run_id: "b", model: "or/y", series: "b", cost: 0, skill: 0.05, cache_hit_rate: 1, uncached_cost: null, basis: "cached (paid earlier)", frontier: true },
    ];
    const spec = costSkillChart(free).spec as unknown as { layer: Array<{ encoding?: { x?: { scale?: { domain?: number[] } }; shape?: unknown } }> };
    const domain = spec.layer.map((l) => l.encoding?.x?.scale?.domain).find((d) => d !== undefined)!;
    expect(domain[0]).toBe(0);
    expect(domain[1]).toBeGreaterThan(0);
    expect(spec.layer.some((l) => l.encoding?.shape !== undefined)).toBe(true);
    // In the 50-run data, part-cached runs carry their estimated uncached cost: paid ÷ (1 − hit rate).
    const cached = data.costSkill.find((r) => (r["cache_hit_rate"] as number) > 0 && (r["cost"] as number) > 0)!;
    expect(cached["basis"]).toBe("paid, part cached");
    expect(cached["uncached_cost"] as number).toBeCloseTo((cached["cost"] as number) / (1 - (cached["cache_hit_rate"] as number)), 12);
  });
});

describe("--category and --series", () => {
  it("recompute every figure from the chosen markets' raw rows", async () => {
    const sports = await loadReportData(db.connection, runs, { markets: { category: "Sports" } });
    const [sql] = await queryRows(
      db.connection,
      `SELECT count(*) FILTER (WHERE NOT f.abstained)::DOUBLE AS n, avg((f.probability - CASE o.result WHEN 'yes' THEN 1 ELSE 0 END) ^ 2) FILTER (WHERE NOT f.abstained) AS brier
       FROM forecasts f JOIN outcomes o USING (run_id, ticker) WHERE f.run_id = 'run-003' AND o.category = 'Sports'`,
    );
    const row = sports.leaderboard.find((r) => r.run_id === "run-003")!;
    expect(row.values["forecasts"]).toBe(sql!["n"]);
    expect(row.values["brier"]).toBeCloseTo(sql!["brier"] as number, 12);
    // Whole-book figures are left out, not mixed in.
    expect(row.values["sharpe_daily"]).toBeNull();
    expect(sports.equity).toEqual([]);
    const series = await loadReportData(db.connection, runs.slice(0, 3), { markets: { series: "KX" } });
    expect(series.leaderboard.find((r) => r.run_id === "run-001")!.values["forecasts"]).toBe(data.leaderboard.find((r) => r.run_id === "run-001")!.values["forecasts"]);
    const none = await loadReportData(db.connection, runs.slice(0, 3), { markets: { series: "NOPE" } });
    expect(none.leaderboard.every((r) => r.values["forecasts"] === null)).toBe(true);
  });
});
