/**
 * `consensus --fit` (issue 13, friction 6): members from different runs, each
 * with its own router, come back as one config that carries every member's
 * endpoint, route and price, and that config replays with every member
 * answering; the fit warns when out of sample it loses to equal weights or to
 * the best single model.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { fittedRouter } from "../../harness/consensus/fittedRouter.ts";
import { fitWarnings } from "../../harness/consensus/fitWarnings.ts";
import { DEFAULT_FIT_OPTIONS, fitWeightsWalkForward } from "../../harness/consensus/fitWeights.ts";
import { loadFitItems } from "../../harness/consensus/loadFitItems.ts";
import { fittedConfig } from "../../harness/cli/consensus.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { chatRequests, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");

/** One run's router: its own endpoint name, key variable, task name and price. */
function runConfig(name: string, baseURL: string, endpoint: string, task: string, model: string, price: { input: number; output: number }) {
  return {
    name,
    strategy: { kind: "llm", task, newsItems: 0 },
    filter: { minIntervalMs: 12 * 3_600_000 },
    router: {
      endpoints: { [endpoint]: { kind: "openai", baseURL, apiKeyEnv: "TAPEDECK_TEST_KEY", structuredOutput: "json_schema" } },
      routes: { [task]: { chain: [{ endpoint, model, tier: "cheap" }], maxTokens: 200 } },
      prices: { models: { [`${endpoint}/${model}`]: price } },
    },
    models: { [`${endpoint}/${model}`]: { trainingCutoff: "2024-01-01" } },
  };
}

describe("a fitted consensus of members from different runs", () => {
  let server: OpenAiLoopback;
  let db: Db;
  let tickers: string[];
  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
    const source = await ReplaySource.open(SAMPLE);
    tickers = (await source.markets()).map((m) => m.ticker).slice(0, 30);
    await source.close();
    server = await startScriptedForecaster({ "bull-1": 0.04, "bear-1": -0.04 });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("carries every member's endpoint, route and price, and replays with both members answering", async () => {
    const a = await runReplay({ config: parseRunConfig(runConfig("a", server.baseURL, "alpha", "forecast", "bull-1", { input: 0.27, output: 1.1 })), datasetDir: SAMPLE, db, source: { tickers } });
    const b = await runReplay({ config: parseRunConfig(runConfig("b", server.baseURL, "beta", "predict", "bear-1", { input: 0.15, output: 0.6 })), datasetDir: SAMPLE, db, source: { tickers } });
    const input = await loadFitItems(db.connection, [a.runId, b.runId]);
    expect(input.models).toEqual(["alpha/bull-1", "beta/bear-1"]);
    const fit = fitWeightsWalkForward(input.items, { ...DEFAULT_FIT_OPTIONS, models: input.models, loss: "brier", pool: "linear", folds: 2, minTrain: 5 });
    const configs = (await db.connection.runAndReadAll(`SELECT run_id, config_json FROM runs`)).getRowObjectsJS() as Array<{ run_id: string; config_json: string }>;
    const routed = fittedRouter(input.members, new Map(configs.map((r) => [r.run_id, r.config_json])));
    const json = fittedConfig(configs.find((r) => r.run_id === a.runId)!.config_json, fit, [a.runId, b.runId], new Map(), routed);
    const fitted = parseRunConfig(json);
    expect(fitted.router).toMatchObject({
      endpoints: { alpha: { baseURL: server.baseURL }, beta: { baseURL: server.baseURL } },
      routes: { "alpha/bull-1": { chain: [{ endpoint: "alpha", model: "bull-1" }] }, "beta/bear-1": { chain: [{ endpoint: "beta", model: "bear-1" }] } },
      prices: { models: { "alpha/bull-1": { input: 0.27, output: 1.1 }, "beta/bear-1": { input: 0.15, output: 0.6 } } },
    });
    expect(Object.keys(fitted.models).sort()).toEqual(["alpha/bull-1", "beta/bear-1"]);

    const requestsBefore = chatRequests(server);
    const replay = await runReplay({ config: fitted, datasetDir: SAMPLE, db, source: { tickers } });
    expect(replay.status).toBe("completed");
    const rows = (
      await db.connection.runAndReadAll(
        `SELECT model, count(*)::DOUBLE AS n, count(*) FILTER (WHERE abstained)::DOUBLE AS abstained FROM forecasts WHERE run_id = $1 GROUP BY model ORDER BY model`,
        [replay.runId],
      )
    ).getRowObjectsJS() as Array<{ model: string; n: number; abstained: number }>;
    expect(rows.map((r) => r.model)).toEqual(["alpha/bull-1", "beta/bear-1", "consensus"]);
    for (const r of rows) {
      expect(r.n).toBeGreaterThan(10);
      expect(r.abstained, r.model).toBe(0);
    }
    // Both members were really asked, each priced: no call went out unpriced or to an unknown route.
    expect(chatRequests(server) - requestsBefore).toBe(2 * rows[2]!.n);
    const costs = (await db.connection.runAndReadAll(`SELECT model, min(cost_nusd)::DOUBLE AS c FROM llm_calls WHERE run_id = $1 GROUP BY model ORDER BY model`, [replay.runId])).getRowObjectsJS();
    expect(costs.map((c) => c["model"])).toEqual(["bull-1", "bear-1"].sort());
    for (const c of costs) expect(c["c"]).toBeGreaterThan(0);
  });
});

describe("the fit says when it does not pay out of sample", () => {
  const score = (fitted: number, equal: number, best: number) => ({
    loss: "log_loss" as const,
    outOfSample: { n: 100, fitted, equal, bestSingle: { model: "m1", score: best }, perModel: {} },
  });

  it("warns on worse than equal weights (0.4397 vs 0.3660) and worse than the best single model", () => {
    expect(fitWarnings(score(0.4397, 0.366, 0.5))).toEqual([expect.stringMatching(/worse than equal weights \(log_loss 0\.4397 vs 0\.3660\)/)]);
    expect(fitWarnings(score(0.4, 0.5, 0.39))).toEqual([expect.stringMatching(/worse than the best single model \(log_loss 0\.4000 vs 0\.3900, m1\)/)]);
    expect(fitWarnings(score(0.3, 0.4, 0.35))).toEqual([]);
    expect(fitWarnings({ loss: "brier", outOfSample: null })).toEqual([expect.stringMatching(/untested/)]);
  });

  it("the CLI prints the warning on stderr and in --json", async () => {
    const dir = tempDir();
    const dbPath = join(dir, "r.duckdb");
    // The fixture's noisiest model (local, noise 0.3) beside the market copier: equal weights or the copier alone beat a fit on few markets.
    await buildResultsDb(dbPath, { runs: 4, markets: 24, seed: 5, ablation: false });
    const out = join(dir, "fit.json");
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "harness/cli/main.ts", "consensus", "--fit", "--runs", "run-002", "run-003", "--db", dbPath, "-o", out, "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const printed = JSON.parse(stdout) as { warnings: string[]; outOfSample: { fitted: number; equal: number; bestSingle: { score: number } } };
    const expected = fitWarnings({ loss: "log_loss", outOfSample: printed.outOfSample as never });
    expect(printed.warnings.length).toBeGreaterThan(0);
    expect(printed.warnings).toEqual(expected);
    const written = JSON.parse(readFileSync(out, "utf8")) as { router: { routes: Record<string, unknown> } };
    expect(Object.keys(written.router.routes).sort()).toEqual(["openai/gpt-4o-mini", "openrouter/deepseek-chat"]);
  });
});
