/**
 * Issue 14, findings 1 and 2: a resumed LLM run proves itself. The audit's
 * scenarios, each interrupted in mid-run and resumed in-process:
 * - a provider outage before the cut, recovered after it: the stored
 *   abstentions stay abstentions (nothing before the cut is asked again), and
 *   no settlement carries contracts without fills;
 * - a model whose answers change after the restart: the decisions before the
 *   cut keep their stored answers, the provider is asked only for decisions
 *   after it, each request has its llm_calls row;
 * - a binding daily budget: the budget is restored from llm_calls, and the
 *   resumed digest is the uninterrupted one;
 * - a stored fill edited after the cut: the resume refuses to continue,
 *   naming the market and its last stored fill.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { ResumeMismatchError } from "../../harness/replay/resumeProof.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { chatRequests, startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import type { ReceivedRequest, ScriptStep } from "../loopback/script.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");

describe("a resumed LLM run proves itself", () => {
  let server: OpenAiLoopback;
  let db: Db;
  /** What the "model" does now: answer with a tilt, or fail. */
  const model: { mode: "up" | "down"; tilt: number } = { mode: "up", tilt: 0.2 };
  let cutEv = 0;

  const q = async (sql: string, params: Array<string | number> = []) => (await db.connection.runAndReadAll(sql, params)).getRowObjectsJS() as Array<Record<string, unknown>>;
  const config = (name: string, budget?: Record<string, unknown>) =>
    parseRunConfig({
      name,
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 6 * 3_600_000 },
      router: { ...loopbackRouter(server.baseURL, { forecast: "m" }, { m: { input: 1, output: 2 } }), retry: { maxRetries: 0 }, ...(budget ? { budget } : {}) },
    });
  /** Settlements whose contracts differ from what the run's fills add up to: phantom trades. */
  const phantoms = (runId: string) =>
    q(
      `SELECT s.ticker FROM settlements s
         LEFT JOIN (SELECT ticker, sum(CASE WHEN side = 'yes' THEN (CASE WHEN action = 'buy' THEN contracts ELSE -contracts END) ELSE 0 END) AS yes,
                           sum(CASE WHEN side = 'no' THEN (CASE WHEN action = 'buy' THEN contracts ELSE -contracts END) ELSE 0 END) AS no
                      FROM fills WHERE run_id = $1 GROUP BY ticker) f USING (ticker)
        WHERE s.run_id = $1 AND (s.yes_contracts <> coalesce(f.yes, 0) OR s.no_contracts <> coalesce(f.no, 0))`,
      [runId],
    );
  const count = async (sql: string, runId: string) => Number((await q(sql, [runId]))[0]?.["n"]);

  beforeAll(async () => {
    process.env.TAPEDECK_TEST_KEY = "sk-test-not-a-real-key";
    server = await startOpenAiServer((request: ReceivedRequest): ScriptStep => {
      if (model.mode === "down") return { kind: "status", status: 503 };
      return scriptedAnswer({ m: model.tilt })(request);
    });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    // A cut with positions open: just after a fill in a market that settles later.
    const probe = await runReplay({ config: config("probe"), datasetDir: SAMPLE, db });
    const [row] = await q(
      `SELECT f.ev::DOUBLE AS ev FROM fills f JOIN settlements s USING (run_id, ticker) WHERE f.run_id = $1 AND f.ev < s.ev ORDER BY f.ev LIMIT 1 OFFSET 5`,
      [probe.runId],
    );
    cutEv = Number(row?.["ev"]) + 1;
    expect(cutEv).toBeGreaterThan(1);
  }, 60_000);
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("provider outage before the cut, recovery after: stored abstentions stand, no phantom settlement, nothing paid twice", async () => {
    model.mode = "down";
    const cut = await runReplay({ config: config("outage"), datasetDir: SAMPLE, db, stopAfter: cutEv, checkpointEvery: 1_000 });
    expect(cut.status).toBe("interrupted");
    const abstainedBefore = await count(`SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id = $1 AND abstained`, cut.runId);
    expect(abstainedBefore).toBeGreaterThan(0);
    model.mode = "up";
    const sentBefore = chatRequests(server);
    const resumed = await runReplay({ config: config("outage"), datasetDir: SAMPLE, db, resumeRunId: cut.runId });
    expect(resumed.status).toBe("completed");
    expect(await phantoms(cut.runId)).toEqual([]);
    // The outage's abstentions are still what the run traded on.
    expect(await count(`SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id = $1 AND abstained AND ev < ${cutEv}`, cut.runId)).toBe(abstainedBefore);
    // Every request the provider got during the resume is a row, and only decisions after the cut asked.
    const sent = chatRequests(server) - sentBefore;
    expect(sent).toBeGreaterThan(0);
    expect(await count(`SELECT count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1 AND status = 'ok'`, cut.runId)).toBe(sent);
    expect(await count(`SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id = $1 AND NOT abstained AND ev < ${cutEv}`, cut.runId)).toBe(0);
  });

  it("a model whose answers change after the restart: stored answers before the cut stand, each later request asked once", async () => {
    model.tilt = 0.2;
    const cut = await runReplay({ config: config("changing"), datasetDir: SAMPLE, db, stopAfter: cutEv, checkpointEvery: 1_000 });
    const before = await q(`SELECT seq, probability FROM forecasts WHERE run_id = $1 ORDER BY seq`, [cut.runId]);
    expect(before.length).toBeGreaterThan(0);
    model.tilt = -0.2;
    const sentBefore = chatRequests(server);
    const rowsBefore = await count(`SELECT count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1`, cut.runId);
    const resumed = await runReplay({ config: config("changing"), datasetDir: SAMPLE, db, resumeRunId: cut.runId });
    expect(resumed.status).toBe("completed");
    expect(await phantoms(cut.runId)).toEqual([]);
    const after = await q(`SELECT seq, probability FROM forecasts WHERE run_id = $1 ORDER BY seq`, [cut.runId]);
    expect(after.slice(0, before.length)).toEqual(before);
    // Each request the resume sent left one row (calls answered before the crash came back from the journal, unsent),
    // and over both processes there is one row per forecast: nothing asked twice, nothing paid unrecorded.
    const sent = chatRequests(server) - sentBefore;
    expect(await count(`SELECT count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1`, cut.runId)).toBe(rowsBefore + sent);
    expect(rowsBefore + sent).toBe(after.length);
  });

  it("a binding daily budget: restored from llm_calls, the resumed digest is the uninterrupted one", async () => {
    model.tilt = 0.2;
    // $0.00046 a call (400 in at $1/M, 30 out at $2/M), worst case ~$0.0015: a few calls a simulated day.
    const budget = { dailyUsd: "0.004", whenExhausted: { action: "abstain" } };
    const straight = await runReplay({ config: config("budget", budget), datasetDir: SAMPLE, db });
    const refusals = await count(`SELECT count(*)::DOUBLE AS n FROM llm_calls WHERE run_id = $1 AND error_class = 'budget'`, straight.runId);
    expect(refusals).toBeGreaterThan(0);
    const cut = await runReplay({ config: config("budget", budget), datasetDir: SAMPLE, db, stopAfter: cutEv, checkpointEvery: 1_000 });
    const resumed = await runReplay({ config: config("budget", budget), datasetDir: SAMPLE, db, resumeRunId: cut.runId });
    expect(resumed.digest).toBe(straight.digest);
    const perDay = await q(`SELECT max(s)::DOUBLE AS most FROM (SELECT sum(cost_nusd) AS s FROM llm_calls WHERE run_id = $1 GROUP BY sim_ts // 86400000)`, [cut.runId]);
    expect(Number(perDay[0]?.["most"])).toBeLessThanOrEqual(4_000_000);
  });

  it("a stored fill that disagrees with the rebuilt portfolio fails the resume, naming the market and the fill", async () => {
    model.tilt = 0.2;
    const cut = await runReplay({ config: config("tampered"), datasetDir: SAMPLE, db, stopAfter: cutEv, checkpointEvery: 1_000 });
    const [fill] = await q(`SELECT fill_id, ticker FROM fills WHERE run_id = $1 ORDER BY ev DESC, rowid DESC LIMIT 1`, [cut.runId]);
    expect(fill).toBeDefined();
    await db.connection.run(`UPDATE fills SET contracts = contracts + 7 WHERE run_id = $1 AND fill_id = $2`, [cut.runId, String(fill?.["fill_id"])]);
    // The resume starts at the run's last checkpoint (the stop lands at or after the cut: events of one timestamp go together).
    const checkpoint = Number((await q(`SELECT checkpoint_ev::DOUBLE AS c FROM runs WHERE run_id = $1`, [cut.runId]))[0]?.["c"]);
    expect(checkpoint).toBeGreaterThanOrEqual(cutEv);
    let error: unknown;
    try {
      await runReplay({ config: config("tampered"), datasetDir: SAMPLE, db, resumeRunId: cut.runId });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResumeMismatchError);
    const message = (error as Error).message;
    expect(message).toContain(`market ${String(fill?.["ticker"])}`);
    expect(message).toContain(`last stored fill ${String(fill?.["fill_id"])}`);
    expect(message).toContain(`resuming at event ${checkpoint}`);
    const [run] = await q(`SELECT status, error FROM runs WHERE run_id = $1`, [cut.runId]);
    expect(run?.["status"]).not.toBe("completed");
    expect(String(run?.["error"])).toContain("stored rows and the rebuilt state disagree");
  });
});
