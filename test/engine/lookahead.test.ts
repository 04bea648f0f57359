/**
 * No lookahead: plant rows that give the answer away (a later quote at 0.99
 * and a later headline announcing the outcome) and prove that no strategy
 * ever sees them before their time, nor any market's result before its
 * settle event.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { createReplayExecution } from "../../harness/portfolio/createReplayExecution.ts";
import type { MarketView } from "../../harness/state/marketState.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { IntervalFilter } from "../../harness/filter/eventFilter.ts";
import { Pipeline } from "../../harness/pipeline.ts";
import { KellySizer } from "../../harness/sizing/sizer.ts";
import { RiskLimitsSchema } from "../../harness/sizing/riskLimits.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import type { Strategy, StrategyContext } from "../../strategies/strategy.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";

const H = 3_600_000;

interface Sighting {
  now: number;
  ticker: string;
  quoteTs: number | null;
  quoteBid: number | null;
  tradeTs: number | null;
  newsTs: number[];
  newsTitles: string[];
  result: unknown;
  settled: boolean;
}

/**
 * A strategy that forecasts nothing useful but writes down everything it can
 * see. As a model strategy (`readsAhead`) it is asked by the read-ahead
 * cursor, which runs ahead of the commit cursor, and answers late.
 */
function spyStrategy(seen: Sighting[], readsAhead: boolean): Strategy {
  const look = (ticker: string, view: MarketView, ctx: StrategyContext) => {
      const m = view.market(ticker)!;
      const news = view.recentNews(1000);
      seen.push({
        now: ctx.now,
        ticker,
        quoteTs: m.quote?.ts ?? null,
        quoteBid: m.quote?.yesBid ?? null,
        tradeTs: m.lastTrade?.ts ?? null,
        newsTs: news.map((n) => n.ts),
        newsTitles: news.map((n) => n.title),
        result: m.result,
        settled: m.settled,
      });
      return [{ ticker, model: "spy", probability: 0.5, confidence: 0 }];
  };
  if (!readsAhead) return { name: "spy", forecast: look };
  return {
    name: "spy",
    forecast: look,
    prepare: (ticker, view, ctx) => {
      const answer = look(ticker, view, ctx);
      return () => new Promise((resolve) => setTimeout(() => resolve(answer), 5));
    },
  };
}

describe.each([
  { mode: "serial", readsAhead: false },
  { mode: "read-ahead, 4 forecasts in flight", readsAhead: true },
])("replay has no lookahead ($mode)", ({ readsAhead }) => {
  let dir: string;
  let db: Db;
  const seen: Sighting[] = [];

  beforeAll(async () => {
    dir = tempDir();
    const quotes = [];
    for (let h = 1; h <= 8; h++) {
      quotes.push({ ts: h * H, ticker: "WIN", yes_bid: 0.4, yes_ask: 0.42, last_price: null, volume: 1000, open_interest: null });
      quotes.push({ ts: h * H, ticker: "LOSE", yes_bid: 0.3, yes_ask: 0.32, last_price: null, volume: 1000, open_interest: null });
    }
    // The planted give-aways: after hour 8, WIN trades at 0.99 and the news announces it.
    quotes.push({ ts: 9 * H, ticker: "WIN", yes_bid: 0.99, yes_ask: 0.999, last_price: null, volume: 5000, open_interest: null });
    await writeTinyDataset(join(dir, "ds"), {
      markets: [market("WIN", { close_time: 10 * H, result: "yes" }), market("LOSE", { close_time: 10 * H, settle_time: 11 * H, result: "no" })],
      quotes,
      trades: [
        { ts: 9 * H + 1, ticker: "WIN", trade_id: "late", yes_price: 0.99, count: 100, taker_side: "yes" },
        { ts: 9 * H + 3, ticker: "WIN", trade_id: "later", yes_price: 0.99, count: 10, taker_side: "yes" },
      ],
      news: [
        { ts: 2 * H, id: "n1", source: "wire", title: "Early headline about nothing", summary: null, url: null, tickers: null },
        { ts: 9 * H + 2, id: "n2", source: "wire", title: "WIN RESOLVED YES, officials confirm", summary: null, url: null, tickers: ["WIN"] },
      ],
    });
    db = await DuckDbStore.open(join(dir, "results.duckdb"));
    const { store } = await DuckDbStore.forRun(
      db,
      { runId: "spy", parentRunId: null, kind: "replay", label: null, configHash: "x", configJson: "{}", datasetName: "tiny", datasetHash: null, datasetPath: null, codeVersion: "test" },
      false,
    );
    const clock = new SimulatedClock();
    const source = await ReplaySource.open(join(dir, "ds"));
    const pipeline = new Pipeline({
      clock,
      source,
      filter: new IntervalFilter(0),
      strategy: spyStrategy(seen, readsAhead),
      sizer: new KellySizer(RiskLimitsSchema.parse({})),
      execution: createReplayExecution({ runId: "spy", config: PaperBrokerConfig.parse({}), store, dataset: { hasBidAsk: true, hasOrderbook: false } }),
      store,
    });
    await pipeline.run({ maxInFlight: 4 });
    await store.flush();
    await source.close();
  });

  afterAll(() => db?.close());

  it("asks the strategy often enough for the test to mean something", () => {
    expect(seen.length).toBeGreaterThanOrEqual(16);
    expect(seen.some((s) => s.ticker === "WIN" && s.now === 9 * H)).toBe(true);
  });

  it("never shows a row stamped later than now", () => {
    for (const s of seen) {
      if (s.quoteTs !== null) expect(s.quoteTs).toBeLessThanOrEqual(s.now);
      if (s.tradeTs !== null) expect(s.tradeTs).toBeLessThanOrEqual(s.now);
      for (const t of s.newsTs) expect(t).toBeLessThanOrEqual(s.now);
    }
  });

  it("shows the planted 0.99 quote and the outcome headline only from their own time on", () => {
    const before = seen.filter((s) => s.now < 9 * H);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((s) => s.quoteBid !== 9900)).toBe(true);
    expect(before.every((s) => !s.newsTitles.some((t) => t.includes("RESOLVED")))).toBe(true);
    // ...and the rows are really in the stream: once their time comes, they are visible.
    const after = seen.filter((s) => s.ticker === "WIN" && s.now >= 9 * H + 2);
    expect(after.some((s) => s.newsTitles.some((t) => t.includes("RESOLVED")))).toBe(true);
  });

  it("never reveals a result to a strategy, and never asks about a settled market", () => {
    for (const s of seen) {
      expect(s.result).toBeUndefined();
      expect(s.settled).toBe(false);
    }
  });

  it("records each market's outcome only at its settle event", async () => {
    const rows = (await db.connection.runAndReadAll(`SELECT ticker, settle_ts::DOUBLE AS ts, result FROM outcomes WHERE run_id = 'spy' ORDER BY ticker`)).getRowObjectsJS();
    expect(rows).toEqual([
      { ticker: "LOSE", ts: 11 * H, result: "no" },
      { ticker: "WIN", ts: 10 * H, result: "yes" },
    ]);
    const last = (await db.connection.runAndReadAll(`SELECT max(ts)::DOUBLE AS ts FROM forecasts WHERE run_id = 'spy'`)).getRowObjectsJS()[0] as { ts: number };
    expect(last.ts).toBeLessThan(10 * H);
  });
});
