/**
 * No lookahead: plant rows that give the answer away (a later quote at 0.99
 * and a later headline announcing the outcome) and prove that no strategy
 * ever sees them before their time, nor any market's result before its
 * settle event; and plant an early close (below) that nothing a strategy,
 * a prompt or the event filter reads may reveal before its close event.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { createReplayExecution } from "../../harness/portfolio/createReplayExecution.ts";
import type { MarketView } from "../../harness/state/marketState.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { IntervalFilter, type EventFilter } from "../../harness/filter/eventFilter.ts";
import { buildEventFilter } from "../../harness/filter/buildEventFilter.ts";
import { FORECAST_COMPACT_V1, FORECAST_V1, buildMessages } from "../../strategies/prompts/forecastPrompt.ts";
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

/**
 * A planted early close. EARLY is scheduled to close at 10:00 but really
 * closes at 09:00 (a match that ended, a threshold hit), and a give-away
 * 0.99 print follows right after. A trader at 08:30 knows the 10:00 schedule,
 * not the 09:00 close. The test replays it against a twin dataset, identical
 * except that EARLY closes on schedule, and proves that everything a
 * strategy can read (every market snapshot with its info, open markets,
 * prices, news, both prompt templates' text) and everything the event filter
 * decides (verdicts and pre-scores) is identical in both runs before 09:00:
 * nothing tells the early close apart before its close event.
 */
const T0 = Date.UTC(2025, 10, 9, 0, 0, 0);
const EARLY_CLOSE = T0 + 9 * H;
const SCHEDULED_CLOSE = T0 + 10 * H;

interface Look {
  now: number;
  ticker: string;
  /** JSON of everything the view shows: every market's snapshot, open markets, prices, news. */
  world: string;
  prompts: string[];
}

function worldSpy(looks: Look[], readsAhead: boolean): Strategy {
  const look = (ticker: string, view: MarketView, ctx: StrategyContext) => {
    const tickers = ["EARLY", "OTHER"];
    const world = JSON.stringify({
      now: view.now(),
      markets: tickers.map((t) => view.market(t) ?? null),
      open: [...view.openTickers()].sort(),
      isOpen: tickers.map((t) => view.isOpen(t)),
      prices: tickers.map((t) => view.marketPrice(t)),
      news: view.recentNews(1000),
    });
    const m = view.market(ticker)!;
    const price = view.marketPrice(ticker);
    const inputs = { now: ctx.now, market: m, marketPrice: price === null ? null : price / 10_000, news: view.recentNews(5), recentTrades: 10 };
    const prompts = [FORECAST_V1, FORECAST_COMPACT_V1].map((t) => buildMessages(t, inputs).map((msg) => msg.content).join("\n"));
    looks.push({ now: ctx.now, ticker, world, prompts });
    return [{ ticker, model: "spy", probability: 0.5, confidence: 0 }];
  };
  if (!readsAhead) return { name: "world-spy", forecast: look };
  return {
    name: "world-spy",
    forecast: look,
    prepare: (ticker, view, ctx) => {
      const answer = look(ticker, view, ctx);
      return () => new Promise((resolve) => setTimeout(() => resolve(answer), 2));
    },
  };
}

/** Records what the filter let through and with which pre-score, at which time. */
function recordingFilter(inner: EventFilter, verdicts: string[]): EventFilter {
  return {
    select(event, view) {
      const out = inner.select(event, view);
      for (const v of out) verdicts.push(JSON.stringify({ now: view.now(), ...v }));
      return out;
    },
    dropped: () => inner.dropped(),
  };
}

async function earlyCloseDataset(dir: string, closesEarly: boolean): Promise<string> {
  const quotes = [];
  for (let q = 1; q <= 17; q++) {
    const ts = T0 + q * 30 * 60_000; // every half hour, 00:30 .. 08:30
    quotes.push({ ts, ticker: "EARLY", yes_bid: 0.4, yes_ask: 0.44, last_price: null, volume: 1000, open_interest: null });
    quotes.push({ ts, ticker: "OTHER", yes_bid: 0.3, yes_ask: 0.34, last_price: null, volume: 1000, open_interest: null });
  }
  // OTHER keeps trading after 09:00, so strategies are still being asked (and can look at EARLY).
  for (let q = 19; q <= 22; q++) quotes.push({ ts: T0 + q * 30 * 60_000, ticker: "OTHER", yes_bid: 0.3, yes_ask: 0.34, last_price: null, volume: 1000, open_interest: null });
  const trades = [
    { ts: T0 + 8 * H, ticker: "EARLY", trade_id: "e-1", yes_price: 0.42, count: 10, taker_side: "yes" as const },
    // The give-away, right after the early close: the result is known.
    { ts: EARLY_CLOSE + 1, ticker: "EARLY", trade_id: "e-late", yes_price: 0.99, count: 500, taker_side: "yes" as const },
  ];
  const out = join(dir, closesEarly ? "early" : "twin");
  await writeTinyDataset(out, {
    markets: [
      market("EARLY", { open_time: T0, close_time: closesEarly ? EARLY_CLOSE : SCHEDULED_CLOSE, scheduled_close_time: SCHEDULED_CLOSE, result: "yes" }),
      market("OTHER", { open_time: T0, close_time: T0 + 12 * H, scheduled_close_time: T0 + 12 * H, result: "no" }),
    ],
    quotes,
    trades: closesEarly ? trades : trades.slice(0, 1),
  });
  return out;
}

async function replayWithSpy(datasetDir: string, readsAhead: boolean): Promise<{ looks: Look[]; verdicts: string[] }> {
  const looks: Look[] = [];
  const verdicts: string[] = [];
  const db = await DuckDbStore.open(":memory:");
  try {
    const { store } = await DuckDbStore.forRun(
      db,
      { runId: "early", parentRunId: null, kind: "replay", label: null, configHash: "x", configJson: "{}", datasetName: "tiny", datasetHash: null, datasetPath: null, codeVersion: "test" },
      false,
    );
    const source = await ReplaySource.open(datasetDir);
    // The full filter with its pre-score on and a closing-soon window (4 h) that reaches back before 09:00.
    const filter = buildEventFilter({
      kind: "market",
      minIntervalMs: 0,
      triggers: { enabled: false },
      preScore: { enabled: true, threshold: 0, closingSoonMs: 4 * H },
      sampling: { enabled: false },
      batching: { enabled: false },
    });
    const pipeline = new Pipeline({
      clock: new SimulatedClock(),
      source,
      filter: recordingFilter(filter, verdicts),
      strategy: worldSpy(looks, readsAhead),
      sizer: new KellySizer(RiskLimitsSchema.parse({})),
      execution: createReplayExecution({ runId: "early", config: PaperBrokerConfig.parse({}), store, dataset: { hasBidAsk: true, hasOrderbook: false } }),
      store,
    });
    await pipeline.run({ maxInFlight: 4 });
    await store.flush();
    await source.close();
  } finally {
    db.close();
  }
  return { looks, verdicts };
}

describe.each([
  { mode: "serial", readsAhead: false },
  { mode: "read-ahead", readsAhead: true },
])("a planted early close is invisible before its close event ($mode)", ({ readsAhead }) => {
  let early: { looks: Look[]; verdicts: string[] };
  let twin: { looks: Look[]; verdicts: string[] };

  beforeAll(async () => {
    const dir = tempDir();
    early = await replayWithSpy(await earlyCloseDataset(dir, true), readsAhead);
    twin = await replayWithSpy(await earlyCloseDataset(dir, false), readsAhead);
  });

  const before = (run: { looks: Look[]; verdicts: string[] }) => ({
    looks: run.looks.filter((l) => l.now < EARLY_CLOSE),
    verdicts: run.verdicts.filter((v) => (JSON.parse(v) as { now: number }).now < EARLY_CLOSE),
  });

  it("asks about EARLY up to its close and about OTHER after it", () => {
    expect(early.looks.filter((l) => l.ticker === "EARLY").length).toBeGreaterThanOrEqual(17);
    expect(early.looks.some((l) => l.ticker === "OTHER" && l.now > EARLY_CLOSE)).toBe(true);
    expect(before(early).verdicts.length).toBeGreaterThanOrEqual(34);
  });

  it("shows a strategy exactly the same world, prompts included, before 09:00 whether or not EARLY closes early", () => {
    const a = before(early);
    const b = before(twin);
    expect(a.looks.length).toBe(b.looks.length);
    for (const [i, look] of a.looks.entries()) expect(look).toEqual(b.looks[i]);
  });

  it("gives the event filter the same verdicts and pre-scores before 09:00", () => {
    expect(before(early).verdicts).toEqual(before(twin).verdicts);
  });

  it("never names the actual close, nor the time left to it, before the close event", () => {
    const iso = new Date(EARLY_CLOSE).toISOString();
    for (const look of before(early).looks) {
      expect(look.world).not.toContain(String(EARLY_CLOSE));
      for (const p of look.prompts) expect(p).not.toContain(iso.replace(/\.000Z$/, "Z"));
    }
    // The schedule is what the prompt shows: at 08:30 EARLY closes "in 1.5 hours", not 0.5.
    const at0830 = before(early).looks.find((l) => l.ticker === "EARLY" && l.now === T0 + 17 * 30 * 60_000);
    expect(at0830?.prompts[0]).toContain("Closes: 2025-11-09T10:00:00Z (in 1.5 hours)");
  });

  it("never asks about EARLY after its close, and no look before 09:00 shows the give-away print", () => {
    expect(early.looks.filter((l) => l.ticker === "EARLY").every((l) => l.now < EARLY_CLOSE)).toBe(true);
    for (const look of before(early).looks) expect(look.world).not.toContain("e-late");
    // ...but it is in the stream: a look at OTHER after the close sees it, and sees EARLY closed.
    const after = early.looks.find((l) => l.ticker === "OTHER" && l.now > EARLY_CLOSE + 1);
    expect(after?.world).toContain("e-late");
  });
});
