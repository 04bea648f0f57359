/**
 * `tapedeck view` in a real browser: Debian's chromium driven by
 * playwright-core walks runs → (filter) → run page (charts, funnel,
 * abstentions) → market timeline → one forecast, where the prompt the model
 * saw (with its headlines) and its raw answer must be visible; then a paired
 * compare. Every request the pages make must go to the loopback viewer
 * itself, and the console must stay clean. The results DB holds synthetic
 * runs and one real LLM replay of the bundled sample over a loopback model
 * server, so the transcripts are the ones the engine stored.
 * Screenshots go to reports/out/browser/viewer-*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { startViewServer, type ViewServer } from "../../harness/view/viewServer.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";
import { loopbackRouter, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import type { OpenAiLoopback } from "../loopback/openaiServer.ts";

const CHROMIUM = process.env["TAPEDECK_CHROMIUM"] ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SHOTS = resolve("reports/out/browser");
const SAMPLE = resolve("datasets/sample");

let dir: string;
let browser: Browser;
let model: OpenAiLoopback;
let viewer: ViewServer;
let llmRunId: string;
let fixtureRuns: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-viewer-"));
  mkdirSync(SHOTS, { recursive: true });
  const dbPath = join(dir, "results.duckdb");
  fixtureRuns = (await buildResultsDb(dbPath, { runs: 4, ablation: false })).runIds;
  process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
  model = await startScriptedForecaster({ "bull-1": 0.05 });
  const db = await DuckDbStore.open(dbPath);
  try {
    const config = parseRunConfig({
      name: "viewer-llm",
      strategy: { kind: "llm", task: "forecast", newsItems: 3 },
      filter: { minIntervalMs: 6 * 3_600_000 },
      router: loopbackRouter(model.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
      risk: { minConfidence: 0.5, minEdge: 0.01 },
    });
    llmRunId = (await runReplay({ config, datasetDir: SAMPLE, db, label: "viewer llm run" })).runId;
  } finally {
    db.close();
  }
  viewer = await startViewServer({ dbPath });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  await model?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Watch {
  consoleErrors: string[];
  offLoopback: string[];
}

async function newPage(): Promise<{ page: Page; watch: Watch }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const watch: Watch = { consoleErrors: [], offLoopback: [] };
  page.on("console", (m) => {
    if (m.type() === "error") watch.consoleErrors.push(m.text());
  });
  page.on("pageerror", (error) => watch.consoleErrors.push(String(error)));
  // Only the viewer itself may be asked for anything; every other request is recorded and refused.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${viewer.url}/`) || url.startsWith("data:")) return route.continue();
    watch.offLoopback.push(url);
    return route.abort();
  });
  return { page, watch };
}

describe("tapedeck view in chromium", () => {
  it("binds to loopback", () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs → filter → run → market → forecast with its prompt and raw answer, then a paired compare, all on loopback with a clean console", async () => {
    const { page, watch } = await newPage();
    await page.goto(`${viewer.url}/`);
    const allRows = await page.locator("#runs tbody tr").count();
    expect(allRows).toBe(fixtureRuns.length + 1);
    await page.screenshot({ path: join(SHOTS, "viewer-runs.png"), fullPage: true });

    // Filter by config name: only the LLM run is left.
    await page.locator("select[name=config]").selectOption("viewer-llm");
    await Promise.all([page.waitForURL(/config=viewer-llm/), page.locator("form.filters button[type=submit]").click()]);
    expect(await page.locator("#runs tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")))).toEqual([llmRunId]);

    // Run page: summary, abstentions, the decision funnel and the report's charts, rendered.
    await Promise.all([page.waitForURL(/\/run\//), page.locator(`#runs a[href="/run/${encodeURIComponent(llmRunId)}"]`).click()]);
    await page.waitForSelector("body[data-charts-rendered]", { timeout: 60_000 });
    expect(Number(await page.locator("body").getAttribute("data-charts-rendered"))).toBeGreaterThanOrEqual(2);
    expect(await page.locator("#funnel tbody tr").count()).toBeGreaterThanOrEqual(10);
    const forecastsStep = await page.locator('#funnel tr[data-step="forecasts"] td.num').textContent();
    expect(Number(forecastsStep)).toBeGreaterThan(50);
    await expect.poll(() => page.locator("#abstentions").count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "viewer-run.png"), fullPage: true });

    // A market the model traded on, else the first one.
    const traded = page.locator("#markets tbody tr").filter({ has: page.locator("td:nth-child(4)", { hasNotText: /^0$/ }) });
    const marketRow = (await traded.count()) > 0 ? traded.first() : page.locator("#markets tbody tr").first();
    const ticker = (await marketRow.getAttribute("data-ticker"))!;
    await Promise.all([page.waitForURL(/\/market\//), marketRow.locator("a").click()]);
    expect(await page.locator("h1").textContent()).toBe(ticker);
    expect(await page.locator("#timeline tr.forecast").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "viewer-market.png"), fullPage: true });

    // One forecast: the prompt the model saw (market text, headlines) and its raw JSON answer are on the page.
    await Promise.all([page.waitForURL(/\/forecast\//), page.locator("#timeline a[data-forecast]").last().click()]);
    await expect.poll(() => page.locator("#prompt").isVisible()).toBe(true);
    const prompt = (await page.locator("#prompt").textContent()) ?? "";
    expect(prompt).toContain(ticker);
    expect(prompt).toContain("### system");
    expect(prompt).toContain("### user");
    const answer = JSON.parse((await page.locator("#answer").textContent()) ?? "{}") as { probability?: number };
    expect(answer.probability).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "viewer-forecast.png"), fullPage: true });

    // Paired compare of two synthetic runs, chosen in the form.
    await page.goto(`${viewer.url}/compare`);
    await page.locator("select[name=a]").selectOption(fixtureRuns[1]!);
    await page.locator("select[name=b]").selectOption(fixtureRuns[2]!);
    await Promise.all([page.waitForURL(/a=/), page.locator("form.filters button[type=submit]").click()]);
    expect(await page.locator("#comparison tbody tr").count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, "viewer-compare.png"), fullPage: true });

    await page.close();
    expect(watch.consoleErrors).toEqual([]);
    expect(watch.offLoopback).toEqual([]);
  });

  it("a forecast whose prompt had headlines shows them", async () => {
    const { page, watch } = await newPage();
    // Find, through the pages only, a forecast page whose prompt lists headlines: walk the markets with the most forecasts first.
    await page.goto(`${viewer.url}/run/${encodeURIComponent(llmRunId)}`);
    const tickers = await page.locator("#markets tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-ticker") ?? ""));
    let found = false;
    for (const ticker of tickers) {
      await page.goto(`${viewer.url}/run/${encodeURIComponent(llmRunId)}/market/${encodeURIComponent(ticker)}`);
      const links = await page.locator("#timeline a[data-forecast]").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
      for (const href of links.slice(-2)) {
        await page.goto(`${viewer.url}${href}`);
        if (((await page.locator("#prompt").textContent()) ?? "").includes("Recent headlines:")) {
          found = true;
          break;
        }
      }
      if (found) break;
    }
    expect(found).toBe(true);
    await page.close();
    expect(watch.consoleErrors).toEqual([]);
    expect(watch.offLoopback).toEqual([]);
  });

  it("an unknown run is a 404 page naming it, not a crash", async () => {
    const { page } = await newPage();
    const response = await page.goto(`${viewer.url}/run/no-such-run`);
    expect(response?.status()).toBe(404);
    expect(await page.locator("#not-found").textContent()).toContain("no-such-run");
    await page.close();
  });
});
