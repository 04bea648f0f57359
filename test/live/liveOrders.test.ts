/**
 * `trade --live` end to end on the fake exchange (demo): a promoted LLM
 * config's orders go out through the Kalshi broker as V2 orders, the
 * exchange fills them against its maker, and the fills come back on the
 * private WebSocket channels through the live source to the broker and the
 * engine: the live run's fills are the exchange's fills for the account.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { setUpScriptedMarkets, runScriptedSession } from "../../harness/live/fakeKalshi/scriptedSession.ts";
import { LiveRun } from "../../harness/live/liveNode.ts";
import { authorizeLive, loadPromotionGates } from "../../harness/live/promotionGates.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { configHash, parseRunConfig } from "../../strategies/runConfig.ts";
import { loopbackRouter, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";
import type { OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startFakeVenue, waitFor, venueFeed, type FakeVenue } from "./fakeMarket.ts";

let venue: FakeVenue | null = null;
let model: OpenAiLoopback | null = null;
afterAll(async () => {
  await venue?.close();
  await model?.close();
});

describe("trade --live on the fake exchange", () => {
  it("places the promoted config's orders on the exchange and books the fills the private channel reports", async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-live";
    const dir = tempDir("td-live-");
    model = await startScriptedForecaster({ "bull-1": 0.15 });
    const router = { ...loopbackRouter(model.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.1, output: 0.1 } }), budget: { dailyUsd: 5 } };
    const config = parseRunConfig({
      name: "bull-live",
      strategy: { kind: "llm", task: "forecast", newsItems: 0 },
      filter: { minIntervalMs: 0 },
      router,
      risk: { minConfidence: 0.5, minVolume: 0, minEdge: 0 },
      models: { "scripted/bull-1": { trainingCutoff: "2025-01-01T00:00:00Z" } },
    });
    const db = await DuckDbStore.open(join(dir, "results.duckdb"));
    try {
      const q = async (sql: string, params: string[] = []) => (await db.connection.runAndReadAll(sql, params)).getRowObjectsJson();
      // Its replay: a completed run of this exact config, judged under gates it passes.
      const ds = await writeTinyDataset(join(dir, "ds"), {
        markets: [market("KXT-A", { result: "yes" })],
        quotes: [{ ts: 1_000, ticker: "KXT-A", yes_bid: 0.4, yes_ask: 0.42, last_price: null, volume: 1000, open_interest: null }],
      });
      expect((await runReplay({ config, datasetDir: ds, db })).status).toBe("completed");
      const gatesFile = join(dir, "gates.json");
      writeFileSync(gatesFile, JSON.stringify({ minScoredForecasts: 1, minBrierSkillLowerBound: -1, minNetPnlUsd: -1000, maxDrawdownFraction: 1 }));
      const auth = await authorizeLive(db.connection, { configHash: configHash(config), environment: "demo", hasCredentials: true, confirmedRealMoney: false, gates: loadPromotionGates(gatesFile) });
      expect(auth.allowed, auth.reason ?? "").toBe(true);

      venue = await startFakeVenue({ balanceDollars: 1000 });
      const v = venue;
      const markets = setUpScriptedMarkets(v.exchange, { series: "KXLIVE", markets: 2 });
      const feed = venueFeed(v, [markets.series]);
      const run = new LiveRun({ config, db, feed, mode: "live", reconcile: { mode: "report", everyMs: 60_000 } });
      const done = run.run();
      await waitFor("the account's first fill", () => v.exchange.fills(v.keyId).length > 0, 8_000);
      const script = runScriptedSession(v.exchange, markets, { steps: 4, stepMs: 150, settle: false });
      await script.done;
      await new Promise((r) => setTimeout(r, 300));
      await run.stop("test over");
      const out = await done;
      expect(out.mode).toBe("live");
      expect(out.fillModel).toBe("exchange");

      const exchangeFills = v.exchange.fills(v.keyId);
      expect(exchangeFills.length).toBeGreaterThan(0);
      const runFills = await q(`SELECT ticker, side, action, price_units::DOUBLE AS p, contracts::DOUBLE AS n FROM fills WHERE run_id = $1 ORDER BY ticker, p`, [out.runId]);
      const fromExchange = exchangeFills
        .map((f) => ({ ticker: f.ticker, side: f.side, action: f.action, p: Math.round(Number(f.side === "yes" ? f.yes_price_dollars : f.no_price_dollars) * 10_000), n: Number(f.count_fp) }))
        .sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : a.p - b.p));
      expect(runFills).toEqual(fromExchange);
      // Every order the run placed carries the engine's client order id, and the exchange knows it by that id.
      const orders = await q(`SELECT client_order_id FROM orders WHERE run_id = $1`, [out.runId]);
      const onExchange = new Set(v.exchange.orders(v.keyId).map((o) => o.client_order_id));
      expect(orders.length).toBeGreaterThan(0);
      for (const o of orders) expect(onExchange.has(String(o["client_order_id"]))).toBe(true);
      // No reconciliation discrepancy: the engine's books agree with the exchange's.
      const [rec] = await q(`SELECT count(*)::DOUBLE AS n FROM reconciliations WHERE run_id = $1`, [out.runId]);
      expect(rec!["n"]).toBe(0);
    } finally {
      db.close();
    }
  }, 40_000);
});
