/**
 * Models in the replay, end to end over a loopback OpenAI-compatible server
 * (the same client code that talks to OpenRouter): every forecast is one
 * logged call with exact cost; a consensus stores each member and the pool;
 * redecide reuses the stored forecasts without a single model call.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { chatRequests, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { COMPLETION_TOKENS, loopbackRouter, PROMPT_TOKENS, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { loadFitItems } from "../../harness/consensus/loadFitItems.ts";
import { DEFAULT_FIT_OPTIONS, fitWeightsWalkForward } from "../../harness/consensus/fitWeights.ts";
import { fittedConfig } from "../../harness/cli/consensus.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");
const PRICES = { "bull-1": { input: 0.27, output: 1.1 }, "bear-1": { input: 0.15, output: 0.6 } };

describe("LLM strategies over a loopback model server", () => {
  let server: OpenAiLoopback;
  let db: Db;
  const q = async (sql: string, params: string[] = []) => (await db.connection.runAndReadAll(sql, params)).getRowObjectsJS();

  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
    server = await startScriptedForecaster({ "bull-1": 0.05, "bear-1": -0.05 });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("logs one priced call per forecast, and AI spend is their exact sum", async () => {
    const config = parseRunConfig({
      name: "bull",
      strategy: { kind: "llm", task: "forecast", newsItems: 3 },
      filter: { minIntervalMs: 6 * 3_600_000 },
      router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, PRICES),
      models: { "scripted/bull-1": { trainingCutoff: "2025-11-08T12:00:00Z" } },
    });
    const out = await runReplay({ config, datasetDir: SAMPLE, db });
    const [forecasts] = await q(`SELECT count(*)::DOUBLE AS n, count(*) FILTER (WHERE abstained)::DOUBLE AS abstained FROM forecasts WHERE run_id = $1`, [out.runId]);
    const calls = await q(`SELECT status, cache, input_tokens::DOUBLE AS i, output_tokens::DOUBLE AS o, cost_nusd::DOUBLE AS cost, sim_ts::DOUBLE AS sim FROM llm_calls WHERE run_id = $1`, [out.runId]);
    expect(forecasts!["n"]).toBeGreaterThan(50);
    expect(forecasts!["abstained"]).toBe(0);
    expect(calls.length).toBe(forecasts!["n"]);
    // 400 in × $0.27/M + 30 out × $1.10/M = $0.000141 = 141,000 nano-dollars, every call.
    const perCall = PROMPT_TOKENS * 270 + COMPLETION_TOKENS * 1100;
    expect(perCall).toBe(141_000);
    for (const c of calls) expect(c).toMatchObject({ status: "ok", cache: "miss", i: PROMPT_TOKENS, o: COMPLETION_TOKENS, cost: perCall });
    const spend = out.metrics.find((m) => m.model === "*" && m.metric === "ai_spend_usd")!.value!;
    expect(spend).toBeCloseTo((calls.length * perCall) / 1e9, 12);
    // Calls carry the simulated time of the decision, inside the dataset's span.
    expect(Math.min(...calls.map((c) => c["sim"] as number))).toBeGreaterThan(Date.UTC(2025, 10, 6));
    // The model forecasts the market price + 0.05: its Brier skill against the market is measured, not assumed.
    expect(out.metrics.find((m) => m.model === "scripted/bull-1" && m.metric === "market_correlation")!.value).toBeGreaterThan(0.95);
    // Markets that closed before the model's training cutoff are counted as possibly contaminated for it.
    const [early] = await q(
      `SELECT count(*)::DOUBLE AS n FROM forecasts f JOIN outcomes o USING (run_id, ticker)
        WHERE f.run_id = $1 AND NOT f.abstained AND o.close_time < ${Date.UTC(2025, 10, 8, 12)}`,
      [out.runId],
    );
    expect(early!["n"]).toBeGreaterThan(0);
    expect(out.metrics.find((m) => m.model === "scripted/bull-1" && m.metric === "contaminated_forecasts")!.value).toBe(early!["n"]);
    expect(out.metrics.find((m) => m.model === "scripted/bull-1" && m.metric === "contaminated_forecasts")!.value).toBeLessThan(forecasts!["n"] as number);
        // The prompt template is stored with the run, word for word.
    const [prompt] = await q(`SELECT version, sha256, template FROM prompts WHERE run_id = $1`, [out.runId]);
    expect(prompt).toMatchObject({ version: "forecast-v1" });
    expect(prompt!["template"]).toContain("You forecast binary prediction markets");
    // The key never reaches the DB.
    const leaked = await q(`SELECT count(*)::DOUBLE AS n FROM runs WHERE config_json LIKE '%sk-test-not-a-real-key%'`);
    expect(leaked[0]!["n"]).toBe(0);
  });

  it("resumes an interrupted LLM run without logging any call twice", async () => {
    const config = parseRunConfig({
      name: "resumed",
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 6 * 3_600_000 },
      router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, PRICES),
      cache: { backend: "duckdb", path: join(tempDir(), "resume-cache.duckdb") },
    });
    const sentBefore = chatRequests(server);
    const straight = await runReplay({ config, datasetDir: SAMPLE, db });
    const straightSent = chatRequests(server) - sentBefore;
    // Interrupt right after a timestamp whose decisions called the model: the hardest place to resume from.
    const [tenth] = await q(`SELECT ev::DOUBLE AS ev FROM forecasts WHERE run_id = $1 ORDER BY seq LIMIT 1 OFFSET 9`, [straight.runId]);
    // A fresh cache for the interrupted run, so that what it asks really reaches the server.
    const cutConfig = parseRunConfig({ ...config, cache: { backend: "duckdb", path: join(tempDir(), "resume-cache-2.duckdb") } });
    const sentBeforeCut = chatRequests(server);
    const cut = await runReplay({ config: cutConfig, datasetDir: SAMPLE, db, stopAfter: (tenth!["ev"] as number) + 1, checkpointEvery: 1_000 });
    expect(cut.status).toBe("interrupted");
    const resumed = await runReplay({ config: cutConfig, datasetDir: SAMPLE, db, resumeRunId: cut.runId });
    expect(resumed.digest).toBe(straight.digest);
    // The server answered each request once over both processes, as for the uninterrupted run.
    expect(chatRequests(server) - sentBeforeCut).toBe(straightSent);
    const sent = async (runId: string) => (await q(`SELECT count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1 AND cache = 'miss'`, [runId]))[0]!["n"];
    const forecasts = async (runId: string) => (await q(`SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id = $1`, [runId]))[0]!["n"];
    // One row per provider request (answers the resumed process took from the cache are rows of their own, cache = 'exact', cost 0).
    expect(await sent(resumed.runId)).toBe(await forecasts(resumed.runId));
    expect(await sent(resumed.runId)).toBe(await sent(straight.runId));
  });

  it("reruns from a warm DuckDB cache with zero provider calls, $0, and the same digest", async () => {
    const config = parseRunConfig({
      name: "cached",
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 6 * 3_600_000 },
      router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, PRICES),
      cache: { backend: "duckdb", path: join(tempDir(), "cache.duckdb") },
    });
    const before = chatRequests(server);
    const cold = await runReplay({ config, datasetDir: SAMPLE, db });
    const coldCalls = chatRequests(server) - before;
    const warm = await runReplay({ config, datasetDir: SAMPLE, db });
    expect(coldCalls).toBeGreaterThan(50);
    expect(chatRequests(server) - before).toBe(coldCalls); // the rerun sent nothing
    const rows = await q(
      `SELECT cache, count(*)::DOUBLE AS n, sum(cost_nusd)::DOUBLE AS cost FROM llm_calls WHERE run_id = $1 GROUP BY cache ORDER BY cache`,
      [warm.runId],
    );
    expect(rows).toEqual([{ cache: "exact", n: coldCalls, cost: 0 }]);
    const metric = (o: typeof warm, name: string) => o.metrics.find((m) => m.model === "*" && m.metric === name)!.value;
    expect(metric(warm, "ai_spend_usd")).toBe(0);
    expect(metric(warm, "provider_calls")).toBe(0);
    expect(metric(warm, "calls_avoided")).toBeGreaterThanOrEqual(coldCalls);
    expect(metric(cold, "ai_spend_usd")).toBeGreaterThan(0);
    expect(warm.digest).toBe(cold.digest);
  });

  it("stores each consensus member and the pooled forecast; redecide re-pools without calling a model", async () => {
    const base = {
      name: "duo",
      strategy: { kind: "consensus", members: [{ task: "a", weight: 1 }, { task: "b", weight: 1 }], pool: "linear" },
      filter: { minIntervalMs: 12 * 3_600_000 },
      router: loopbackRouter(server.baseURL, { a: "bull-1", b: "bear-1" }, PRICES),
    };
    const out = await runReplay({ config: parseRunConfig(base), datasetDir: SAMPLE, db });
    const rows = await q(`SELECT ticker, ts::DOUBLE AS ts, model, agent, probability FROM forecasts WHERE run_id = $1 ORDER BY seq`, [out.runId]);
    const byDecision = new Map<string, Array<Record<string, unknown>>>();
    for (const r of rows) byDecision.set(`${r["ticker"]}@${r["ts"]}`, [...(byDecision.get(`${r["ticker"]}@${r["ts"]}`) ?? []), r]);
    expect(byDecision.size).toBeGreaterThan(10);
    for (const group of byDecision.values()) {
      expect(group.map((r) => r["model"])).toEqual(["scripted/bull-1", "scripted/bear-1", "consensus"]);
      expect(group.map((r) => r["agent"])).toEqual(["consensus:a", "consensus:b", "consensus"]);
      const [a, b, pooled] = group.map((r) => r["probability"] as number);
      expect(pooled).toBeCloseTo((a! + b!) / 2, 12);
    }
    const callsBefore = (await q(`SELECT count(*)::DOUBLE AS n FROM llm_calls`))[0]!["n"] as number;
    const requestsBefore = chatRequests(server);

    // Re-decide with all the weight on member a: the pool becomes a's forecast; no call goes out.
    const reweighted = parseRunConfig({ ...base, name: "duo-a", strategy: { ...base.strategy, members: [{ task: "a", weight: 1 }, { task: "b", weight: 0 }] } });
    const re = await runReplay({ config: reweighted, datasetDir: SAMPLE, db, kind: "redecide", parentRunId: out.runId, redecideFrom: out.runId });
    expect((await q(`SELECT count(*)::DOUBLE AS n FROM llm_calls`))[0]!["n"]).toBe(callsBefore);
    expect(chatRequests(server)).toBe(requestsBefore);
    const reRows = await q(`SELECT model, probability FROM forecasts WHERE run_id = $1 ORDER BY seq`, [re.runId]);
    expect(reRows.length).toBe(rows.length);
    for (let i = 0; i < reRows.length; i += 3) expect(reRows[i + 2]!["probability"]).toBeCloseTo(reRows[i]!["probability"] as number, 12);
    expect((await q(`SELECT parent_run_id, kind FROM runs WHERE run_id = $1`, [re.runId]))[0]).toEqual({ parent_run_id: out.runId, kind: "redecide" });

    // Re-deciding with the original config reproduces the original run exactly.
    const same = await runReplay({ config: parseRunConfig(base), datasetDir: SAMPLE, db, kind: "redecide", parentRunId: out.runId, redecideFrom: out.runId });
    expect(same.digest).toBe(out.digest);

    // Weights fitted walk-forward on the run come back as a config that redecide accepts, members named by task.
    const input = await loadFitItems(db.connection, [out.runId]);
    expect(input.models.sort()).toEqual(["scripted/bear-1", "scripted/bull-1"]);
    const fit = fitWeightsWalkForward(input.items, { ...DEFAULT_FIT_OPTIONS, models: input.models, loss: "brier", pool: "linear", folds: 2, minTrain: 10 });
    const fitted = parseRunConfig(
      fittedConfig(JSON.stringify(base), fit, [out.runId], new Map([["scripted/bull-1", "a"], ["scripted/bear-1", "b"]])),
    );
    expect(fitted.strategy.kind === "consensus" && fitted.strategy.members.map((m) => m.task).sort()).toEqual(["a", "b"]);
    const refit = await runReplay({ config: fitted, datasetDir: SAMPLE, db, kind: "redecide", parentRunId: out.runId, redecideFrom: out.runId });
    expect(refit.status).toBe("completed");
  });
});
