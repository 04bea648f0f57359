/**
 * The report in a real browser: Debian's chromium driven by playwright-core
 * (no browser download) opens report.html from file://, offline, and we
 * check that every chart rendered marks, the leaderboard has a row per run,
 * nothing was fetched from the network and the console stayed clean.
 * One report is the one `tapedeck demo` (npm start) writes from its replay of the bundled sample;
 * a second from the synthetic results DB, which exercises every chart kind.
 * Screenshots go to reports/out/browser/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../reports/buildReport.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";

const CHROMIUM = process.env["TAPEDECK_CHROMIUM"] ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SHOTS = resolve("reports/out/browser");

let dir: string;
let browser: Browser;

function tapedeck(args: string[]): string {
  return execFileSync(process.execPath, ["--import", "tsx", "harness/cli/main.ts", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-browser-"));
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PageCheck {
  chartIds: string[];
  chartsWithMarks: string[];
  leaderboardRuns: string[];
  consoleErrors: string[];
  network: string[];
}

async function openReport(htmlPath: string, screenshot: string): Promise<PageCheck> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleErrors: string[] = [];
  const network: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Offline: anything that is not the file itself is refused and recorded.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
    network.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(htmlPath).href);
  await page.waitForSelector("body[data-charts-rendered]", { timeout: 60_000 });
  // Locators rather than page.evaluate: the test type-checks without DOM typings.
  const ids = JSON.parse((await page.locator("#chart-list").textContent()) ?? "[]") as string[];
  const withMarks: string[] = [];
  const markSelector = "g.mark-line path, g.mark-rect path, g.mark-symbol path, g.mark-rule line, g.mark-text text, g.mark-area path";
  for (const id of ids) {
    const svgMarks = await page.locator(`#chart-${id} svg`).locator(markSelector).count();
    const canvases = await page.locator(`#chart-${id} canvas`).count();
    if (svgMarks > 0 || canvases > 0) withMarks.push(id);
  }
  const runs = await page.locator("#leaderboard tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run") ?? ""));
  const check = { ids, withMarks, runs };
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  process.stdout.write(`screenshot: ${screenshot}\n`);
  return { chartIds: check.ids, chartsWithMarks: check.withMarks, leaderboardRuns: check.runs, consoleErrors, network };
}

describe("report.html in chromium", () => {
  it("renders every chart of `tapedeck demo` (what npm start runs: a replay of the bundled sample), offline, with no console errors", async () => {
    const db = join(dir, "demo.duckdb");
    const out = JSON.parse(tapedeck(["demo", "--db", db, "-o", join(dir, "demo-report"), "--json"])) as {
      runs: Array<{ runId: string }>;
      report: { htmlPath: string };
    };
    const runIds = out.runs.map((r) => r.runId);
    expect(runIds.length).toBeGreaterThanOrEqual(2);
    const check = await openReport(out.report.htmlPath, join(SHOTS, "report-sample.png"));
    expect(check.consoleErrors).toEqual([]);
    expect(check.network).toEqual([]);
    expect(check.chartIds.length).toBeGreaterThanOrEqual(4);
    expect(check.chartsWithMarks).toEqual(check.chartIds);
    expect([...new Set(check.leaderboardRuns)].sort()).toEqual([...runIds].sort());
  });

  it("renders every chart kind (ablation, spend, latency, throughput) from the synthetic results DB", async () => {
    const db = join(dir, "fixture.duckdb");
    const fixture = await buildResultsDb(db, { runs: 6 });
    const built = await buildReport({ dbPath: db, outDir: join(dir, "fixture-report") });
    const check = await openReport(built.htmlPath, join(SHOTS, "report-fixture.png"));
    expect(check.consoleErrors).toEqual([]);
    expect(check.network).toEqual([]);
    expect(check.chartIds).toHaveLength(9);
    expect(check.chartsWithMarks).toEqual(check.chartIds);
    expect([...new Set(check.leaderboardRuns)].sort()).toEqual([...fixture.runIds].sort());
  });
});

describe("a 50-run report in chromium", () => {
  it("fits the compact leaderboard on screen, sorts it, keeps the header in view, toggles every column, and draws the sweep heatmap", async () => {
    const db = join(dir, "fifty.duckdb");
    const fixture = await buildResultsDb(db, { runs: 50, markets: 30, seed: 13, sweep: true, ablation: false });
    const built = await buildReport({ dbPath: db, outDir: join(dir, "fifty-report") });
    const check = await openReport(built.htmlPath, join(SHOTS, "report-50-runs.png"));
    expect(check.consoleErrors).toEqual([]);
    expect(check.network).toEqual([]);
    expect(check.chartsWithMarks).toEqual(check.chartIds);
    expect(check.chartIds).toContain("sweep-heatmap");
    expect([...new Set(check.leaderboardRuns)].sort()).toEqual([...fixture.runIds].sort());

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(pathToFileURL(built.htmlPath).href);
    await page.waitForSelector("body[data-charts-rendered]", { timeout: 60_000 });
    const scroller = page.locator("#leaderboard-scroll");
    // Compact by default: no sideways scrolling at 1400 px.
    const widths = await scroller.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    const visibleHeadings = async () => (await page.locator("#leaderboard thead tr.columns th:visible").allTextContents()).map((t) => t.replace(/ [▲▼]$/, ""));
    const compact = await visibleHeadings();
    expect(compact).toEqual(["Run", "Setup", "Dataset", "Model", "Brier", "Skill vs market", "Forecasts", "Trades", "Net P&L after AI $", "AI spend $", "Cache hits"]);

    // Sort by net P&L, descending on the second click: the rows come out in that order.
    const netHeading = page.locator('#leaderboard thead th[data-key="net_pnl_usd"]');
    await netHeading.click();
    await netHeading.click();
    const sorted = await page.locator('#leaderboard tbody td[data-metric="net_pnl_usd"]').evaluateAll((tds) => tds.map((td) => td.getAttribute("data-sort") ?? ""));
    const numbers = sorted.filter((v) => v !== "").map(Number);
    expect(numbers.length).toBeGreaterThan(40);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));

    // Sticky header: scrolled to the bottom, the column headings are still at the top of the scroller.
    await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    const boxTop = (await scroller.boundingBox())!.y;
    const headTop = (await netHeading.boundingBox())!.y;
    expect(headTop - boxTop).toBeLessThan(40);
    expect(headTop - boxTop).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, "report-50-runs-sorted.png") });

    await page.locator("#toggle-columns").click();
    const all = await visibleHeadings();
    expect(all.length).toBeGreaterThan(25);
    expect(all).toContain("Dataset");
    expect(all).toContain("Market Brier (same times)");

    // Legends show only what differs between the sweep's runs, never cut: each label is a full "kellyFraction=… · minEdge=…".
    const legend = await page.locator("#chart-equity svg g.role-legend-label text").allTextContents();
    expect(legend.length).toBeGreaterThanOrEqual(49);
    for (const text of legend.filter((t) => t.startsWith("kelly"))) expect(text).toMatch(/^kellyFraction=[\d.]+ · minEdge=[\d.]+$/);
    expect(legend.some((t) => t.includes("…"))).toBe(false);
    // Colours stay distinct past 10 runs: 25 hues, then dashed.
    const strokes = await page.locator("#chart-equity svg g.mark-line path").evaluateAll((ps) => ps.map((p) => `${p.getAttribute("stroke")}|${p.getAttribute("stroke-dasharray") ?? ""}`));
    expect(new Set(strokes).size).toBe(strokes.length);
    await page.locator("#section-sweep-heatmap").screenshot({ path: join(SHOTS, "report-50-runs-heatmap.png") });
    await page.locator("#section-cost-skill").screenshot({ path: join(SHOTS, "report-50-runs-cost-skill.png") });
    await page.close();
  });
});

