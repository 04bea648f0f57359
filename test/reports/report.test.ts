import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { buildReport, type BuiltReport } from "../../reports/buildReport.ts";
import { queryRows, type Row } from "../../reports/query.ts";
import type { LeaderboardRow } from "../../reports/reportData.ts";
import { buildResultsDb, type Fixture } from "../fixtures/resultsDb.ts";
import { embeddedJson } from "./readEmbedded.ts";

let dir: string;
let dbPath: string;
let fixture: Fixture;
let built: BuiltReport;
let html: string;
let db: Db;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-report-"));
  dbPath = join(dir, "results.duckdb");
  fixture = await buildResultsDb(dbPath, { runs: 6, markets: 40, forecastsPerMarket: 3, seed: 11 });
  built = await buildReport({ dbPath, outDir: join(dir, "out") });
  html = readFileSync(built.htmlPath, "utf8");
  db = await openDb(dbPath, { readOnly: true });
});

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const close = (a: number | null | undefined, b: number | null | undefined) => {
  if (a === null || a === undefined || b === null || b === undefined) expect(a ?? null).toBe(b ?? null);
  else expect(a).toBeCloseTo(b, 9);
};

describe("report.html", () => {
  it("has a leaderboard row per run and model, and every row of the table matches the embedded data", async () => {
    const board = embeddedJson(html, "data-leaderboard") as LeaderboardRow[];
    const pairs = await queryRows(db.connection, "SELECT DISTINCT run_id, model FROM forecasts ORDER BY ALL");
    expect(board.map((r) => `${r.run_id}/${r.model}`).sort()).toEqual(pairs.map((p) => `${p["run_id"]}/${p["model"]}`).sort());
    expect(new Set(board.map((r) => r.run_id))).toEqual(new Set(fixture.runIds));
    expect(html.match(/<tr data-run=/g)?.length).toBe(board.length);
  });

  it("shows exactly the metrics table's figures (model rows for model metrics, run rows for run metrics)", async () => {
    const board = embeddedJson(html, "data-leaderboard") as LeaderboardRow[];
    const metrics = await queryRows(db.connection, "SELECT run_id, model, metric, value, lo, hi FROM metrics");
    let checked = 0;
    for (const m of metrics) {
      if (m["model"] === "*") {
        if (!["signals", "trades", "pnl_usd", "roi", "max_drawdown_usd", "net_pnl_usd", "cost_per_signal_usd", "calls_avoided"].includes(String(m["metric"]))) continue;
        for (const row of board.filter((r) => r.run_id === m["run_id"])) {
          close(row.values[String(m["metric"])], m["value"] as number | null);
          checked++;
        }
      } else {
        const row = board.find((r) => r.run_id === m["run_id"] && r.model === m["model"]);
        expect(row, `${m["run_id"]}/${m["model"]}`).toBeDefined();
        close(row!.values[String(m["metric"])], m["value"] as number | null);
        if (m["metric"] === "brier") {
          close(row!.brier_lo, m["lo"] as number);
          close(row!.brier_hi, m["hi"] as number);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("computes from llm_calls what the metrics table lacks (latency, cache hits, tokens/s) and leaves a dash for Sharpe", async () => {
    const board = embeddedJson(html, "data-leaderboard") as LeaderboardRow[];
    const calls = await queryRows(
      db.connection,
      `SELECT run_id, model, quantile_cont(latency_ms, 0.5) FILTER (WHERE cache = 'miss' AND status = 'ok') AS p50,
         quantile_cont(latency_ms, 0.95) FILTER (WHERE cache = 'miss' AND status = 'ok') AS p95,
         avg(CASE WHEN cache <> 'miss' THEN 1.0 ELSE 0.0 END) AS hits,
         sum(output_tokens) FILTER (WHERE cache = 'miss' AND status = 'ok') / (sum(latency_ms) FILTER (WHERE cache = 'miss' AND status = 'ok') / 1000) AS tps
       FROM llm_calls GROUP BY ALL`,
    );
    expect(calls.length).toBeGreaterThan(5);
    for (const c of calls) {
      const row = board.find((r) => r.run_id === c["run_id"] && r.model === c["model"])!;
      close(row.values["latency_p50_ms"], c["p50"] as number);
      close(row.values["latency_p95_ms"], c["p95"] as number);
      close(row.values["cache_hit_rate"], c["hits"] as number);
      close(row.values["tokens_per_s"], c["tps"] as number);
    }
    for (const row of board) expect(row.values["sharpe_daily"]).toBeNull();
    expect(html).toMatch(/<td class="num extra" data-metric="sharpe_daily" data-sort="">–<\/td>/);
    // The market baseline makes no calls: its latency is a dash, not a zero.
    expect(board.find((r) => r.model === "market")!.values["latency_p50_ms"]).toBeNull();
  });

  it("embeds chart data equal to SQL over the same DB", async () => {
    const reliability = embeddedJson(html, "data-reliability") as Row[];
    const sqlBins = await queryRows(
      db.connection,
      "SELECT model, bin, sum(n) AS n, sum(n * observed_rate) / sum(n) AS observed_rate FROM calibration_bins WHERE n > 0 GROUP BY ALL ORDER BY model, bin",
    );
    expect(reliability.length).toBe(sqlBins.length);
    sqlBins.forEach((b, i) => {
      expect(reliability[i]!["model"]).toBe(b["model"]);
      expect(reliability[i]!["n"]).toBe(b["n"]);
      close(reliability[i]!["observed_rate"] as number, b["observed_rate"] as number);
    });

    const corr = embeddedJson(html, "data-market-correlation") as Row[];
    // The market baseline is the chart's reference line (correlation 1 by construction), not one of its bars.
    expect(corr.find((r) => r["model"] === "market")).toBeUndefined();
    const noisy = corr.find((r) => r["model"] === "local/stories260K")!;
    expect(noisy["correlation"] as number).toBeLessThan(0.9);

    const equity = embeddedJson(html, "data-equity") as Row[];
    const [eq] = await queryRows(db.connection, "SELECT count(*) AS n, sum(equity_units) AS s FROM equity");
    expect(equity.length).toBe(eq!["n"]);
    expect(equity.reduce((s, r) => s + (r["equity_usd"] as number) * 1e4, 0)).toBeCloseTo(eq!["s"] as number, 3);

    const spend = embeddedJson(html, "data-spend") as Row[];
    const [total] = await queryRows(db.connection, "SELECT sum(cost_nusd) / 1e9 AS usd FROM llm_calls");
    expect(spend.reduce((s, r) => s + (r["spend_usd"] as number), 0)).toBeCloseTo(total!["usd"] as number, 9);

    const throughput = embeddedJson(html, "data-throughput") as Row[];
    expect(throughput.map((r) => r["tokens_per_s"]).sort()).toEqual([1480.5, 9120]);
  });

  it("marks the Pareto frontier and builds the ablation waterfall from the baseline", () => {
    const points = embeddedJson(html, "data-cost-skill") as Row[];
    const frontier = points.filter((p) => p["frontier"]);
    expect(frontier.length).toBeGreaterThan(0);
    for (const p of points) {
      // No frontier point is beaten on both cost and skill by any point.
      if (!p["frontier"]) continue;
      expect(points.some((q) => (q["cost"] as number) <= (p["cost"] as number) && (q["skill"] as number) > (p["skill"] as number))).toBe(false);
    }
    const ablation = embeddedJson(html, "data-ablation") as Row[];
    expect(ablation.map((a) => a["layer"]).sort()).toEqual(["cache", "filter"]);
    expect(ablation[0]!["base_run_id"]).toBe(fixture.consensusRunId);
    // Layers are cumulative: the waterfall starts at the base run and ends at the run with every layer on.
    const waterfall = embeddedJson(html, "data-ablation-waterfall") as Row[];
    const board = embeddedJson(html, "data-leaderboard") as LeaderboardRow[];
    const net = (id: string) => board.find((r) => r.run_id === id)!.values["net_pnl_usd"]!;
    close(waterfall[0]!["end"] as number, net(fixture.consensusRunId));
    close(waterfall[waterfall.length - 1]!["end"] as number, net(ablation[ablation.length - 1]!["run_id"] as string));
  });

  it("is self-contained: vega inlined, no network references", () => {
    expect(html).toContain("vegaEmbed");
    expect(html.length).toBeGreaterThan(700_000);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/cdn\.jsdelivr|unpkg\.com/);
  });
});

describe("chart files and summary.md", () => {
  it("writes an SVG with text in DejaVu Sans and a PNG per chart", () => {
    const ids = embeddedJson(html, "chart-list") as string[];
    expect(ids).toEqual(["brier", "reliability", "equity", "cost-skill", "spend", "ablation-waterfall", "latency", "throughput", "market-correlation"]);
    for (const id of ids) {
      const svg = readFileSync(join(dir, "out", "charts", `${id}.svg`), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toMatch(/font-family="DejaVu Sans"/);
      expect(svg.match(/<path|<line|<rect/g)?.length ?? 0).toBeGreaterThan(5);
      const png = readFileSync(join(dir, "out", "charts", `${id}.png`));
      expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
      expect(png.length).toBeGreaterThan(10_000);
    }
    expect(built.chartFiles).toHaveLength(ids.length * 2);
  });

  it("summary.md has the leaderboard and links every PNG", () => {
    const md = readFileSync(built.markdownPath, "utf8");
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toHaveLength(9);
    for (const link of links) expect(existsSync(join(dir, "out", link))).toBe(true);
    expect(md).toMatch(/\| Run \| Model \| Execution \| Brier \|/);
    // Each run's row says which fill model and marking its money figures come from; a run from before says nothing.
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Run"));
    const board = embeddedJson(html, "data-leaderboard") as LeaderboardRow[];
    const first = fixture.runIds[0]!;
    expect(board.filter((r) => r.run_id !== first).every((r) => r.execution === "print-maker; marked to bid")).toBe(true);
    expect(board.filter((r) => r.run_id === first).every((r) => r.execution === null)).toBe(true);
    expect(rows.filter((l) => l.includes("| print-maker; marked to bid |")).length).toBe(board.filter((r) => r.run_id !== first).length);
    expect(rows.some((l) => l.includes("| print-maker; marked to bid |"))).toBe(true);
    expect(md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Run")).length).toBe((embeddedJson(html, "data-leaderboard") as unknown[]).length);
  });
});

describe("run selection", () => {
  it("--last N reports the N most recently started runs; unknown ids are an error", async () => {
    const last = await buildReport({ dbPath, last: 3, outDir: join(dir, "last3") });
    expect(last.runIds).toEqual(fixture.runIds.slice(-3));
    const named = await buildReport({ dbPath, runIds: ["run-002", "run-003"], outDir: join(dir, "named") });
    const board = embeddedJson(readFileSync(named.htmlPath, "utf8"), "data-leaderboard") as LeaderboardRow[];
    expect(board.map((r) => r.run_id)).toEqual(["run-002", "run-003"]);
    await expect(buildReport({ dbPath, runIds: ["run-002", "nope"], outDir: join(dir, "bad") })).rejects.toThrow(/no such run in the results DB: nope/);
  });
});

describe("a run with no rows yet", () => {
  it("gets one leaderboard row of dashes, labelled with its status", async () => {
    const path = join(dir, "empty.duckdb");
    await buildResultsDb(path, { runs: 1, markets: 5, ablation: false });
    const w = await openDb(path);
    await w.connection.run(
      "INSERT INTO runs (run_id, kind, config_hash, config_json, status, started_at) VALUES ('run-empty', 'replay', 'x', 'not json', 'running', 1800000000000)",
    );
    w.close();
    const out = await buildReport({ dbPath: path, runIds: ["run-empty"], outDir: join(dir, "empty") });
    const page = readFileSync(out.htmlPath, "utf8");
    const board = embeddedJson(page, "data-leaderboard") as LeaderboardRow[];
    expect(board).toHaveLength(1);
    expect(board[0]!.label).toBe("run-empty (running)");
    expect(Object.values(board[0]!.values).every((v) => v === null)).toBe(true);
    expect(page.match(/data-metric="[a-z_0-9]+" data-sort="">–</g)?.length).toBe(Object.keys(board[0]!.values).length);
  });
});
