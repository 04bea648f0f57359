/**
 * budget.runUsd, the real money one run may spend: a replay that reaches it
 * stops before the decision whose call it refused, with a one-line message
 * naming the cap, and stays resumable; resumed with a higher cap it ends
 * with the digest of a run that never stopped, having sent each request once.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");

describe("budget.runUsd", () => {
  let server: OpenAiLoopback;
  let db: Db;
  let answered = 0;

  beforeAll(async () => {
    process.env.TAPEDECK_TEST_KEY = "sk-test-not-a-real-key";
    const answer = scriptedAnswer({ "bull-1": 0.05 });
    server = await startOpenAiServer((request) => {
      answered++;
      return { ...answer(request), delayMs: 2 };
    });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  const config = (runUsd?: string) => {
    // 400 tokens in at $1/M and 30 out at $2/M: $0.00046 a call.
    const router = { ...loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 1, output: 2 } }), ...(runUsd ? { budget: { runUsd } } : {}) };
    (router.endpoints.scripted as Record<string, unknown>).concurrency = 8;
    return parseRunConfig({ name: "capped", strategy: { kind: "llm", task: "forecast" }, filter: { minIntervalMs: 6 * 3_600_000 }, router });
  };

  it("stops at the cap with a message naming it, and resumes with a higher cap to the uncapped digest", async () => {
    answered = 0;
    const straight = await runReplay({ config: config(), datasetDir: SAMPLE, db });
    const straightAnswered = answered;
    expect(straight.status).toBe("completed");
    expect(straightAnswered).toBeGreaterThan(60);

    answered = 0;
    const capped = await runReplay({ config: config("0.01"), datasetDir: SAMPLE, db });
    expect(capped.status).toBe("interrupted");
    expect(capped.stopReason).toMatch(/^budget\.runUsd \$0\.01 reached: .*raise budget\.runUsd and resume/);
    expect(capped.stopReason).not.toContain("\n");
    const answeredCapped = answered;
    // $0.01 buys at most 21 calls at $0.00046 (the cap reserves the worst case first, so fewer may go out).
    expect(answeredCapped).toBeGreaterThan(5);
    expect(answeredCapped).toBeLessThanOrEqual(21);
    const [row] = (await db.connection.runAndReadAll(`SELECT status, error FROM runs WHERE run_id = $1`, [capped.runId])).getRowObjectsJS();
    expect(row).toMatchObject({ status: "interrupted" });
    expect(String(row!["error"])).toContain("budget.runUsd");
    const spent = (await db.connection.runAndReadAll(`SELECT sum(cost_nusd)::DOUBLE AS n FROM llm_calls WHERE run_id = $1`, [capped.runId])).getRowObjectsJS()[0] as { n: number };
    expect(spent.n).toBeLessThanOrEqual(10_000_000);

    answered = 0;
    const resumed = await runReplay({ config: config("0.01"), datasetDir: SAMPLE, db, resumeRunId: capped.runId, runUsd: 1 });
    expect(resumed.status).toBe("completed");
    expect(resumed.digest).toBe(straight.digest);
    // Every answer of the stopped process was reused: the two processes together asked what the uncapped run asked.
    expect(answeredCapped + answered).toBe(straightAnswered);
  });
});
