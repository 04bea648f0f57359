/**
 * The ablation report (issue 13, friction 3): ablate adds layers cumulatively,
 * so the table says "Layer added", a layer that lost $20.75 shows −$20.75, and
 * the waterfall starts at the base run's value with red losses and green gains.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ablationTables, signedUsd } from "../../reports/ablation.ts";
import { reportHtml } from "../../reports/html.ts";
import { waterfallChart } from "../../reports/charts/waterfall.ts";
import type { SelectedRun } from "../../reports/selectRuns.ts";

const run = (runId: string, label: string, startedAt: number, parentRunId: string | null = null): SelectedRun => ({
  runId,
  label,
  kind: "replay",
  status: "completed",
  parentRunId,
  configJson: "{}",
  startedAt,
  datasetName: "sample",
  execution: null,
});

// A cumulative ablation as `tapedeck ablate` writes it: base −290.00, exact cache +12.50, semantic cache −20.75, event filter +3.25.
const RUNS = [
  run("r-none", "ablation:none", 1),
  run("r-semantic", "ablation:semantic-cache", 3, "r-none"),
  run("r-exact", "ablation:exact-cache", 2, "r-none"),
  run("r-filter", "ablation:event-filter", 4, "r-none"),
];
const NET: Record<string, number> = { "r-none": -290, "r-exact": -277.5, "r-semantic": -298.25, "r-filter": -295 };
const value = (runId: string, metric: string) => (metric === "net_pnl_usd" ? (NET[runId] ?? null) : metric === "brier" ? 0.2 : null);

describe("ablation tables", () => {
  const { ablation, waterfall } = ablationTables(RUNS, value);

  it("orders layers as ablate adds them and signs each change against the step before", () => {
    expect(ablation.map((a) => a["layer"])).toEqual(["exact-cache", "semantic-cache", "event-filter"]);
    expect(ablation.map((a) => a["delta_usd"])).toEqual([12.5, -20.75, 3.25]);
    expect(ablation.every((a) => a["base_run_id"] === "r-none")).toBe(true);
  });

  it("starts the waterfall at the base run, colours losses red and gains green, ends at every layer on", () => {
    expect(waterfall[0]).toMatchObject({ start: 0, end: -290, kind: "total" });
    expect(waterfall.slice(1, -1).map((w) => [w["kind"], w["label"]])).toEqual([
      ["gain", "+$12.50"],
      ["loss", "\u2212$20.75"],
      ["gain", "+$3.25"],
    ]);
    expect(waterfall[2]).toMatchObject({ start: -277.5, end: -298.25 });
    expect(waterfall[waterfall.length - 1]).toMatchObject({ start: 0, end: -295, kind: "total" });
    const spec = JSON.stringify(waterfallChart(waterfall).spec);
    expect(spec).toContain('"domain":["total","gain","loss"]');
    expect(spec).toMatch(/"range":\["#8c8c8c","#1a7f37","#b2182b"\]/);
    // One step per 110 px: labels of at most 105 px cannot overlap.
    expect(spec).toContain('"width":{"step":110}');
  });

  it("the HTML table says Layer added and shows a lost layer as −$20.75, in red", () => {
    const html = reportHtml({ title: "t", generatedAt: "now", dbPath: "db", leaderboard: [], ablation, charts: [] });
    expect(html).toContain("<th>Layer added</th>");
    expect(html).not.toContain("Layer removed");
    expect(html).toMatch(/<td class="num loss" data-delta="-20\.750000">\u2212\$20\.75<\/td>/);
    expect(html).toMatch(/<td class="num gain" data-delta="12\.500000">\+\$12\.50<\/td>/);
  });

  it("the waterfall always ends where the last layer's run ends (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 2, maxLength: 6 }), (nets) => {
        const steps = ["none", "exact-cache", "semantic-cache", "event-filter", "sampling", "batching"].slice(0, nets.length);
        const runs = steps.map((s, i) => run(`r${i}`, `ablation:${s}`, i));
        const w = ablationTables(runs, (id, m) => (m === "net_pnl_usd" ? nets[Number(id.slice(1))]! : null)).waterfall;
        expect(w[0]!["end"]).toBe(nets[0]);
        expect(w[w.length - 1]!["end"] as number).toBeCloseTo(nets[nets.length - 1]!, 6);
      }),
    );
    expect(signedUsd(0.004)).toBe("$0.00");
    expect(signedUsd(-0.5)).toBe("\u2212$0.50");
  });
});
