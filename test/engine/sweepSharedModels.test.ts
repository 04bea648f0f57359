/**
 * A sweep's forecasting leaders share one model stack (DESIGN.md "One router
 * per process, shared by a sweep"): three leaders that differ only in model
 * latency ask the same prompts; each distinct prompt reaches the provider
 * once, an endpoint limited to one request at a time never sees two, every
 * leader still gets its own llm_calls rows, and each leader decides exactly
 * as the same config run alone.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { sharedModelsKey } from "../../harness/replay/modelStack.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { runSweep } from "../../harness/replay/runSweep.ts";
import { parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { startServer, type LoopbackServer } from "../loopback/httpServer.ts";
import { delay } from "../loopback/script.ts";
import { chatCompletionJson } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");
const PRICES = { "bull-1": { input: 0.27, output: 1.1 } };

/** The scripted forecaster, answering unary JSON, counting requests in flight at once. */
async function countingForecaster(): Promise<LoopbackServer & { baseURL: string; maxInFlight: () => number }> {
  const answer = scriptedAnswer({ "bull-1": 0.08 });
  let inFlight = 0;
  let most = 0;
  const server = await startServer(async (request, res) => {
    if (request.path === "/v1/models") {
      // The run's pre-flight check (providers/preflight.ts): answered, and not a chat request.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [] }));
      return;
    }
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      await delay(3); // long enough for a second request to arrive if the endpoint's limit did not hold
      const step = answer(request);
      if (step.kind !== "reply") throw new Error("unexpected step");
      const usage = { prompt_tokens: step.promptTokens ?? 10, completion_tokens: step.completionTokens ?? 5, total_tokens: (step.promptTokens ?? 10) + (step.completionTokens ?? 5) };
      res.writeHead(200, { "content-type": "application/json" }).end(chatCompletionJson(String(request.body["model"]), step.content, usage));
    } finally {
      inFlight -= 1;
    }
  });
  return Object.assign(server, { baseURL: `${server.origin}/v1`, maxInFlight: () => most });
}

describe("sweep leaders share one model stack", () => {
  let server: Awaited<ReturnType<typeof countingForecaster>>;
  let db: Db;
  const q = async (sql: string, params: string[] = []) => (await db.connection.runAndReadAll(sql, params)).getRowObjectsJS();

  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-shared-sweep";
    server = await countingForecaster();
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("sends each distinct prompt once, keeps concurrency 1, logs per run, and keeps every leader's digest", async () => {
    const router = loopbackRouter(server.baseURL, { forecast: "bull-1" }, PRICES);
    const base = {
      name: "shared",
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 6 * 3_600_000 },
      risk: { minConfidence: 0.5, minVolume: 0 },
      router: { ...router, endpoints: { scripted: { ...router.endpoints.scripted, concurrency: 1 } } },
    };
    // Model latency changes when a decision takes effect, not what is asked: three forecasting groups, one set of prompts.
    const variants = planSweep(base, [parseVary('modelLatency={"kind":"none"},{"kind":"fixed","ms":60000},{"kind":"fixed","ms":900000}')]);
    expect(new Set(variants.map((v) => v.forecastKey)).size).toBe(3);
    expect(new Set(variants.map((v) => sharedModelsKey(v.config))).size).toBe(1);

    const sent = server.requests.length;
    const out = await runSweep({ variants, datasetDir: SAMPLE, db, concurrency: 3 });
    const requests = server.requests.slice(sent).filter((r) => r.path === "/v1/chat/completions");
    expect(out.variants.map((v) => v.reusedFrom)).toEqual([null, null, null]);

    // Each distinct prompt went to the provider once, and never two at a time.
    const distinct = new Set(requests.map((r) => JSON.stringify([r.body["model"], r.body["messages"]])));
    expect(requests.length).toBeGreaterThan(50);
    expect(requests.length).toBe(distinct.size);
    expect(server.maxInFlight()).toBe(1);

    // Every leader has its own rows, one per prompt it asked (all of them); the provider calls among them are exactly the server's requests.
    const rows = async (runId: string) => (await q(`SELECT cache, count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1 GROUP BY cache`, [runId])) as Array<{ cache: string; n: number }>;
    const count = (r: Array<{ cache: string; n: number }>, cache?: string) => r.filter((c) => cache === undefined || c.cache === cache).reduce((a, c) => a + c.n, 0);
    let misses = 0;
    for (const { outcome } of out.variants) {
      const r = await rows(outcome.runId);
      expect(count(r)).toBe(distinct.size);
      misses += count(r, "miss");
    }
    expect(misses).toBe(requests.length);

    // Each leader decides as the same config run alone (its own router, no cache), and asks as many calls.
    const digests = new Set<string | null>();
    for (const { variant, outcome } of out.variants) {
      const alone = await runReplay({ config: parseRunConfig(variant.config), datasetDir: SAMPLE, db });
      expect(outcome.digest).not.toBeNull();
      expect(outcome.digest).toBe(alone.digest);
      expect(count(await rows(alone.runId), "miss")).toBe(count(await rows(outcome.runId)));
      digests.add(alone.digest);
    }
    expect(digests.size).toBeGreaterThan(1); // the latencies do change what is decided
  });

  it("gives leaders with different routers different stacks", () => {
    const config = (model: string) =>
      parseRunConfig({ name: "x", strategy: { kind: "llm", task: "forecast" }, router: loopbackRouter(server.baseURL, { forecast: model }, { [model]: { input: 0, output: 0 } }) });
    expect(sharedModelsKey(config("bull-1"))).not.toBe(sharedModelsKey(config("bear-1")));
    expect(sharedModelsKey(parseRunConfig({ name: "m", strategy: { kind: "momentum" } }))).toBeNull();
  });
});
