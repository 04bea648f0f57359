/**
 * Parity, live → tape → replay. An LLM strategy paper-trades the fake
 * exchange's scripted session (model answers from a loopback model server,
 * kept in a response cache) while a second client records the same session
 * into a dataset, as `tapedeck record` does. Replaying the recording with
 * the same config answers every model request from that session's cache
 * (no provider call) and produces the paper session's forecasts and
 * decisions, row for row.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScriptedSession, setUpScriptedMarkets } from "../../harness/live/fakeKalshi/scriptedSession.ts";
import { LiveRun } from "../../harness/live/liveNode.ts";
import { RecordSession } from "../../harness/live/recordSession.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { loopbackRouter, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { chatRequests, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startFakeVenue, waitFor, venueFeed, type FakeVenue } from "./fakeMarket.ts";

let venue: FakeVenue | null = null;
let model: OpenAiLoopback | null = null;
afterAll(async () => {
  await venue?.close();
  await model?.close();
});

describe("live → tape → replay", () => {
  it("replaying the recording of a paper session gives its forecasts and decisions, from its cache", async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-parity";
    const dir = tempDir("td-parity-");
    venue = await startFakeVenue();
    const v = venue;
    model = await startScriptedForecaster({ "par-1": 0.06 });
    const markets = setUpScriptedMarkets(v.exchange, { series: "KXPAR", markets: 2 });
    const config = parseRunConfig({
      name: "parity",
      strategy: { kind: "llm", task: "forecast", newsItems: 0 },
      filter: { minIntervalMs: 0 },
      router: loopbackRouter(model.baseURL, { forecast: "par-1" }, { "par-1": { input: 0.1, output: 0.1 } }),
      cache: { backend: "duckdb", path: join(dir, "cache.duckdb") },
      // A decision takes effect 1.25 s after its time, in both: live, the forecast is in by then (the first model
      // call included) and the engine's timer takes it then, so orders reach the paper broker when replay has them
      // arrive. The market moves every 500 ms, so that moment falls midway between two moves: the engine's own lag
      // (up to 250 ms on a loaded machine) cannot put a market event between the two.
      modelLatency: { kind: "fixed", ms: 1250 },
      broker: { latencyMs: 0 },
      risk: { minConfidence: 0.5, minVolume: 0, minEdge: 0 },
      models: { "scripted/par-1": { trainingCutoff: "2025-01-01T00:00:00Z" } },
    });
    const feed = venueFeed(v, [markets.series]);
    const db = await DuckDbStore.open(join(dir, "results.duckdb"));
    try {
      const q = async (sql: string, params: string[] = []) => (await db.connection.runAndReadAll(sql, params)).getRowObjectsJson();
      // The recorder: its own connection to the exchange, as `tapedeck record` would have.
      const recording = new RecordSession({ feed, out: join(dir, "tape"), segmentMs: 60_000 });
      const { done: recorded } = await recording.start();
      const paper = new LiveRun({ config, db, feed, mode: "paper" });
      const traded = paper.run();
      // Both clients subscribed and hold both books before anything moves.
      await waitFor("both clients' snapshots", () => v.ws.stats.snapshots >= 4);
      const script = runScriptedSession(v.exchange, markets, { steps: 8, stepMs: 500, settle: false });
      await script.done;
      await new Promise((r) => setTimeout(r, 400));
      await paper.stop("session over");
      recording.stop();
      const live = await traded;
      const manifest = await recorded;
      expect(live.status).toBe("completed");
      expect((await validateDataset(join(dir, "tape"))).problems).toEqual([]);
      expect(manifest.recording!.coverage).toBe(1);

      const callsBefore = chatRequests(model);
      expect(callsBefore).toBeGreaterThan(0);
      const replay = await runReplay({ config, datasetDir: join(dir, "tape"), db });
      expect(replay.status).toBe("completed");
      // Every model request of the replay was answered from the session's cache.
      expect(chatRequests(model)).toBe(callsBefore);
      const [calls] = await q(`SELECT count(*)::DOUBLE AS n, count(*) FILTER (WHERE cache = 'miss')::DOUBLE AS misses FROM llm_calls WHERE run_id = $1`, [replay.runId]);
      expect(calls!["misses"]).toBe(0);

      const forecasts = (run: string) =>
        q(`SELECT ts, ticker, model, probability, confidence, market_price, abstained, abstain_reason FROM forecasts WHERE run_id = $1 ORDER BY seq`, [run]);
      // A decision row's ts is when the engine took it: its due time in replay; live, whenever the engine got to it
      // (later when the first model call is slow, earlier for decisions still pending when the session stops).
      // What was decided is compared, not that wall time.
      const decisions = (run: string) =>
        q(`SELECT ticker, action, probability, confidence, price_units, edge, kelly_fraction, contracts, reason FROM decisions WHERE run_id = $1 ORDER BY seq`, [run]);
      const liveForecasts = await forecasts(live.runId);
      const liveDecisions = await decisions(live.runId);
      expect(liveForecasts.length).toBeGreaterThan(10);
      expect(liveForecasts.filter((f) => f["abstained"] === false).length).toBeGreaterThan(10);
      expect(liveDecisions.length).toBeGreaterThan(10);
      expect(await forecasts(replay.runId)).toEqual(liveForecasts);
      expect(await decisions(replay.runId)).toEqual(liveDecisions);
      // Orders and fills followed the same decisions at the same prices.
      const fills = (run: string) => q(`SELECT ticker, side, action, price_units, contracts, fee_units FROM fills WHERE run_id = $1 ORDER BY ts, ticker`, [run]);
      const liveFills = await fills(live.runId);
      expect(liveFills.length).toBeGreaterThan(0);
      expect(await fills(replay.runId)).toEqual(liveFills);
    } finally {
      db.close();
    }
  }, 40_000);
});
