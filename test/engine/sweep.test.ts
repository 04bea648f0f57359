/**
 * A sweep of 4 sizing variants over one LLM forecasting config asks the
 * model once per forecast, not four times: one variant calls, three
 * re-decide its stored forecasts in worker threads, and the llm_calls table
 * shows it.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { runSweep } from "../../harness/replay/runSweep.ts";
import { forecastKey, parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { chatRequests, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");

describe("sweep", () => {
  let server: OpenAiLoopback;
  let db: Db;
  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-sweep";
    server = await startScriptedForecaster({ "bull-1": 0.08 });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("parses --vary values as JSON where they parse and builds the grid", () => {
    expect(parseVary("risk.kellyFraction=0.1,0.25")).toEqual({ path: ["risk", "kellyFraction"], values: [0.1, 0.25] });
    expect(parseVary('strategy.members=[{"task":"a"}],x')).toEqual({ path: ["strategy", "members"], values: [[{ task: "a" }], "x"] });
    const plan = planSweep({ name: "m", strategy: { kind: "momentum" } }, [parseVary("risk.kellyFraction=0.1,0.25"), parseVary("strategy.lookback=3,5,8")]);
    expect(plan.map((v) => v.label)).toHaveLength(6);
    expect(new Set(plan.map((v) => v.forecastKey)).size).toBe(3); // lookback changes forecasts; Kelly does not
    expect(() => planSweep({ strategy: { kind: "momentum" } }, [parseVary("risk.kellyFraction=7")])).toThrow(/variant 1 .*risk\.kellyFraction/);
    expect(forecastKey(plan[0]!.config)).toBe(forecastKey(plan[3]!.config));
  });

  it("calls the model once per forecast for 4 sizing variants", async () => {
    const base = {
      name: "bull-sweep",
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 6 * 3_600_000 },
      risk: { minConfidence: 0.5, minVolume: 0 },
      router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
    };
    const variants = planSweep(base, [parseVary("risk.kellyFraction=0.1,0.5"), parseVary("risk.maxPositionFraction=0.01,0.05")]);
    const out = await runSweep({ variants, datasetDir: SAMPLE, db, concurrency: 2 });
    expect(out.variants).toHaveLength(4);
    const ids = out.variants.map((v) => v.outcome.runId);
    const q = async (sql: string) => (await db.connection.runAndReadAll(sql)).getRowObjectsJS();
    const calls = await q(`SELECT run_id, count(*)::DOUBLE AS n FROM llm_calls WHERE run_id IN (${ids.map((i) => `'${i}'`).join(",")}) GROUP BY run_id`);
    const forecasts = await q(`SELECT run_id, count(*)::DOUBLE AS n FROM forecasts WHERE run_id IN (${ids.map((i) => `'${i}'`).join(",")}) GROUP BY run_id ORDER BY run_id`);
    const leader = out.variants.find((v) => v.reusedFrom === null)!;
    expect(calls).toEqual([{ run_id: leader.outcome.runId, n: forecasts.find((f) => f["run_id"] === leader.outcome.runId)!["n"] }]);
    expect(chatRequests(server)).toBe(calls[0]!["n"]);
    // Every variant stored the same forecasts and decided on them its own way.
    expect(new Set(forecasts.map((f) => f["n"])).size).toBe(1);
    expect(forecasts).toHaveLength(4);
    const contracts = await q(`SELECT run_id, coalesce(sum(contracts), 0)::DOUBLE AS n FROM fills WHERE run_id IN (${ids.map((i) => `'${i}'`).join(",")}) GROUP BY run_id`);
    expect(new Set(contracts.map((c) => c["n"])).size).toBeGreaterThan(1);
    const runs = await q(`SELECT count(*)::DOUBLE AS n FROM runs WHERE run_id IN (${ids.map((i) => `'${i}'`).join(",")}) AND status = 'completed'`);
    expect(runs[0]!["n"]).toBe(4);
  });
});
