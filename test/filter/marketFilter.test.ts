import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MarketEvent } from "../../harness/events/types.ts";
import { buildEventFilter, filterReasonCounts } from "../../harness/filter/buildEventFilter.ts";
import { IntervalFilter } from "../../harness/filter/eventFilter.ts";
import { ablationFilterConfig, MarketFilterConfig } from "../../harness/filter/filterConfig.ts";
import { MarketFilter } from "../../harness/filter/marketFilter.ts";
import { Bench, close, info, MIN, news, open, quietConfig, quote, SEC, T0, trade } from "./filterHarness.ts";

const A = info("KXA-1", "Bitcoin above 100k");
const B = info("KXB-1", "Tampa Bay at New England");

/** Only the price triggers can fire. */
const priceOnly = { triggers: { volatility: 10, volumeSpike: 1e9 } };

function bench(over: Record<string, unknown> = {}): Bench {
  return new Bench(new MarketFilter(quietConfig(over)));
}

describe("triggers", () => {
  it("price change of 2% since the last call passes (medium); 10% is a large move (high)", () => {
    const b = bench(priceOnly);
    b.feed(open(T0, A));
    expect(b.feed(quote(T0, A.ticker, 0.5))).toEqual([]); // reference price
    expect(b.feed(quote(T0 + SEC, A.ticker, 0.509))).toEqual([]); // 1.8%
    const v = b.feed(quote(T0 + 2 * SEC, A.ticker, 0.51));
    expect(v.map((x) => [x.ticker, x.reason, x.trigger, x.priority])).toEqual([[A.ticker, "price_change", "price_change", "medium"]]);
    // 0.5 from the 2% move, a little more from volatility (std 0.0045 against a scale of 10).
    expect(v[0]!.preScore).toBeCloseTo(0.5, 3);
    // The reference is now the price at that call: 0.519 is 1.8% from 0.51.
    expect(b.feed(quote(T0 + 3 * SEC, A.ticker, 0.519))).toEqual([]);
    const big = b.feed(quote(T0 + 4 * SEC, A.ticker, 0.57));
    expect(big.map((v) => [v.reason, v.priority])).toEqual([["large_move", "high"]]);
    expect(b.filter.dropped()).toEqual({ no_trigger: 3 });
    expect(b.filter.passed?.()).toEqual({ price_change: 1, large_move: 1 });
  });

  it("volume spike: a window with 3x the rolling mean of earlier windows", () => {
    const b = bench({ triggers: { volatility: 10, priceChangePct: 50, largeMovePct: 90, volumeWindowMs: MIN, volumeLookback: 5 } });
    b.feed(open(T0, A));
    // The first print is the baseline the volume is counted from; then 10 a minute.
    for (let k = 0; k <= 5; k++) expect(b.feed(trade(T0 + k * MIN, A.ticker, 0.5, 10))).toEqual([]);
    expect(b.feed(trade(T0 + 6 * MIN, A.ticker, 0.5, 29))).toEqual([]); // 2.9x
    expect(b.feed(trade(T0 + 6 * MIN + SEC, A.ticker, 0.5, 1)).map((v) => v.reason)).toEqual(["volume_spike"]); // 30 = 3x
  });

  it("volume spike also reads the cumulative volume quotes carry", () => {
    const b = bench({ triggers: { volatility: 10, priceChangePct: 50, largeMovePct: 90, volumeWindowMs: MIN, volumeLookback: 5 } });
    b.feed(open(T0, A));
    let cum = 100;
    b.feed(quote(T0, A.ticker, 0.5, cum));
    for (let k = 1; k <= 3; k++) expect(b.feed(quote(T0 + k * MIN, A.ticker, 0.5, (cum += 10)))).toEqual([]);
    expect(b.feed(quote(T0 + 4 * MIN, A.ticker, 0.5, (cum += 40))).map((v) => v.reason)).toEqual(["volume_spike"]); // 40 / mean(0, 10, 10, 10)
  });

  it("volatility: std of the price over the window at or above the threshold", () => {
    const b = bench({ triggers: { priceChangePct: 50, largeMovePct: 90, volumeSpike: 1e9, volatility: 0.02, volatilityWindowMs: 10 * MIN } });
    b.feed(open(T0, A));
    expect(b.feed(quote(T0, A.ticker, 0.5))).toEqual([]);
    expect(b.feed(quote(T0 + MIN, A.ticker, 0.53))).toEqual([]); // std 0.015
    expect(b.feed(quote(T0 + 2 * MIN, A.ticker, 0.46)).map((v) => [v.reason, v.priority])).toEqual([["volatility", "low"]]); // std 0.0287
    // Ten minutes on, only the last two samples remain (0.46 and 0.46): calm.
    expect(b.feed(quote(T0 + 11 * MIN, A.ticker, 0.46))).toEqual([]);
  });

  it("first look: a market never called gets one look, at low priority", () => {
    const b = bench({ triggers: { firstLook: true, ...priceOnly.triggers } });
    b.feed(open(T0, A));
    expect(b.feed(quote(T0, A.ticker, 0.5)).map((v) => [v.reason, v.priority])).toEqual([["first_look", "low"]]);
    expect(b.feed(quote(T0 + SEC, A.ticker, 0.5))).toEqual([]);
  });

  it("news matched to an open market is critical and passes inside the minimum interval", () => {
    const b = bench({ minIntervalMs: 10 * MIN, triggers: { firstLook: true, ...priceOnly.triggers } });
    b.feed(open(T0, A));
    b.feed(open(T0, B));
    expect(b.feed(quote(T0, A.ticker, 0.5)).map((v) => v.reason)).toEqual(["first_look"]);
    const v = b.feed(news(T0 + MIN, "n1", "Bitcoin tumbles as miners sell"));
    expect(v.map((x) => [x.ticker, x.reason, x.priority])).toEqual([[A.ticker, "news", "critical"]]);
    expect(b.feed(news(T0 + 2 * MIN, "n2", "Flights cancelled over shutdown"))).toEqual([]);
    expect(b.feed(news(T0 + 3 * MIN, "n3", "Official feed", [B.ticker])).map((x) => x.ticker)).toEqual([B.ticker]);
    expect(b.filter.dropped()).toEqual({ news_unmatched: 1 });
  });

  it("a closed market is dropped as market_closed", () => {
    const b = bench();
    b.feed(open(T0, A));
    b.feed(close(T0 + MIN, A.ticker));
    expect(b.feed(quote(T0 + 2 * MIN, A.ticker, 0.9))).toEqual([]);
    expect(b.filter.dropped()).toEqual({ market_closed: 1 });
  });
});

describe("minimum interval, pre-score, sampling", () => {
  it('"none": every market event passes, held back only by the minimum interval', () => {
    const b = new Bench(new MarketFilter(ablationFilterConfig("none", { minIntervalMs: MIN })));
    b.feed(open(T0, A));
    const passedAt: number[] = [];
    for (let k = 0; k <= 12; k++) if (b.feed(quote(T0 + k * 10 * SEC, A.ticker, 0.5)).length > 0) passedAt.push(k * 10);
    expect(passedAt).toEqual([0, 60, 120]);
    expect(b.filter.passed?.()).toEqual({ event: 3 });
    expect(b.filter.dropped()).toEqual({ min_interval: 10 });
  });

  it("pre-score below the threshold drops; a 2% move scores 0.5 and passes", () => {
    // Volatility's scale set high so the score is the price signal alone.
    const b = bench({ triggers: { enabled: false, volatility: 10 }, preScore: { enabled: true, threshold: 0.2 } });
    b.feed(open(T0, A));
    expect(b.feed(quote(T0, A.ticker, 0.5))).toEqual([]);
    expect(b.feed(quote(T0 + SEC, A.ticker, 0.5))).toEqual([]);
    const v = b.feed(quote(T0 + 2 * SEC, A.ticker, 0.51));
    expect(v.map((x) => x.reason)).toEqual(["event"]);
    expect(v[0]!.preScore).toBeCloseTo(0.5, 3);
    expect(b.filter.dropped()).toEqual({ pre_score: 2 });
  });

  it("a stricter pre-score threshold drops first looks that show nothing else", () => {
    const lenient = bench({ triggers: { firstLook: true }, preScore: { enabled: true, threshold: 0.2 } });
    const strict = bench({ triggers: { firstLook: true }, preScore: { enabled: true, threshold: 0.3 } });
    for (const b of [lenient, strict]) b.feed(open(T0, A));
    expect(lenient.feed(quote(T0, A.ticker, 0.5)).map((v) => v.reason)).toEqual(["first_look"]);
    expect(strict.feed(quote(T0, A.ticker, 0.5))).toEqual([]);
    expect(strict.filter.dropped()).toEqual({ pre_score: 1 });
  });

  it("periodic sampling thins medium events to one per period; critical news skips the gate", () => {
    const b = bench({ triggers: { enabled: false }, sampling: { enabled: true, strategy: "periodic", periodMs: 5 * MIN } });
    b.feed(open(T0, A));
    const passedAt: number[] = [];
    for (let k = 0; k <= 10; k++) if (b.feed(quote(T0 + k * MIN, A.ticker, 0.5)).length > 0) passedAt.push(k);
    expect(passedAt).toEqual([0, 5, 10]);
    expect(b.filter.dropped()).toEqual({ sampling_periodic: 8 });
  });

  it("change-based sampling passes only when the price moved minChange since the last call", () => {
    const b = bench({ triggers: { enabled: false }, sampling: { enabled: true, strategy: "change", minChange: 0.02 } });
    b.feed(open(T0, A));
    const prices = [0.5, 0.51, 0.519, 0.52, 0.53, 0.5];
    const passed = prices.filter((p, k) => b.feed(quote(T0 + k * MIN, A.ticker, p)).length > 0);
    expect(passed).toEqual([0.5, 0.52, 0.5]);
  });

  it("threshold sampling passes when the price crosses a level", () => {
    const b = bench({ triggers: { enabled: false }, sampling: { enabled: true, strategy: "threshold", levels: [0.5, 0.75] } });
    b.feed(open(T0, A));
    const prices = [0.45, 0.49, 0.5, 0.7, 0.76, 0.74];
    const passed = prices.filter((p, k) => b.feed(quote(T0 + k * MIN, A.ticker, p)).length > 0);
    expect(passed).toEqual([0.45, 0.5, 0.76, 0.74]);
  });

  it("adaptive sampling looks more often at a volatile market", () => {
    const sampling = { enabled: true, strategy: "adaptive", baseMs: 10 * MIN, minMs: MIN, maxMs: 60 * MIN, targetVolatility: 0.02 };
    const run = (swing: number) => {
      const b = bench({ triggers: { enabled: false, volatilityWindowMs: 30 * MIN }, sampling });
      b.feed(open(T0, A));
      let n = 0;
      for (let k = 0; k < 120; k++) n += b.feed(quote(T0 + k * MIN, A.ticker, k % 2 === 0 ? 0.5 : 0.5 + swing)).length;
      return n;
    };
    const calm = run(0.002); // std 0.001 -> period capped at 60 min
    const wild = run(0.08); // std 0.04 -> period 5 min
    expect(calm).toBe(2);
    expect(wild).toBe(24);
  });
});

describe("batching of low priority", () => {
  const batching = (over: Record<string, unknown> = {}) => ({ triggers: { firstLook: true, ...priceOnly.triggers }, batching: { enabled: true, ...over } });
  const markets = Array.from({ length: 12 }, (_, k) => info(`KXM-${String(k).padStart(2, "0")}`, `Market ${k}`));

  it("holds low-priority markets until 10 gather, then releases all with the 10th event", () => {
    const b = bench(batching());
    for (const m of markets) b.feed(open(T0, m));
    for (let k = 0; k < 9; k++) expect(b.feed(quote(T0 + k * SEC, markets[k]!.ticker, 0.5))).toEqual([]);
    expect(b.filter.dropped()).toEqual({ batch_pending: 9 });
    const out = b.feed(quote(T0 + 9 * SEC, markets[9]!.ticker, 0.5));
    expect(out.map((v) => v.ticker)).toEqual(markets.slice(0, 10).map((m) => m.ticker));
    expect(new Set(out.map((v) => `${v.reason}/${v.trigger}/${v.priority}`))).toEqual(new Set(["batch_size/first_look/low"]));
    expect(b.filter.passed?.()).toEqual({ batch_size: 10 });
    expect(b.filter.dropped()).toEqual({});
  });

  it("releases a batch 300 s of simulated time after the first one, with whatever event comes next", () => {
    const b = bench(batching());
    for (const m of markets) b.feed(open(T0, m));
    b.feed(quote(T0, markets[0]!.ticker, 0.5));
    b.feed(quote(T0 + 100 * SEC, markets[1]!.ticker, 0.5));
    expect(b.feed(quote(T0 + 299_999, markets[0]!.ticker, 0.5))).toEqual([]);
    const out = b.feed(news(T0 + 300 * SEC, "n", "Nothing to do with any market"));
    expect(out.map((v) => [v.ticker, v.reason])).toEqual([
      [markets[0]!.ticker, "batch_timeout"],
      [markets[1]!.ticker, "batch_timeout"],
    ]);
    expect(b.filter.dropped()).toEqual({ batch_duplicate: 1, news_unmatched: 1 });
  });

  it("size and timeout are configurable", () => {
    const b = bench(batching({ size: 2, timeoutMs: 10 * SEC }));
    for (const m of markets) b.feed(open(T0, m));
    expect(b.feed(quote(T0, markets[0]!.ticker, 0.5))).toEqual([]);
    expect(b.feed(quote(T0 + SEC, markets[1]!.ticker, 0.5)).map((v) => v.reason)).toEqual(["batch_size", "batch_size"]);
    b.feed(quote(T0 + 2 * SEC, markets[2]!.ticker, 0.5));
    expect(b.feed(quote(T0 + 12 * SEC, markets[2]!.ticker, 0.5)).map((v) => v.reason)).toEqual(["batch_timeout"]);
  });

  it("a batched market that passes at higher priority leaves the batch; one that closes is dropped", () => {
    const b = bench(batching());
    for (const m of markets) b.feed(open(T0, m));
    b.feed(quote(T0, markets[0]!.ticker, 0.5));
    b.feed(quote(T0, markets[1]!.ticker, 0.5));
    expect(b.feed(quote(T0 + SEC, markets[0]!.ticker, 0.6)).map((v) => v.reason)).toEqual(["large_move"]);
    b.feed(close(T0 + 2 * SEC, markets[1]!.ticker));
    expect(b.filter.dropped()).toEqual({ batch_superseded: 1, batch_market_closed: 1 });
    expect((b.filter as MarketFilter).pending).toBe(0);
  });

  it("with batching off low priority passes at once", () => {
    const b = bench({ triggers: { firstLook: true, ...priceOnly.triggers } });
    b.feed(open(T0, A));
    expect(b.feed(quote(T0, A.ticker, 0.5)).map((v) => v.reason)).toEqual(["first_look"]);
  });
});

/** A random stream over three markets: quotes and trades, now and then news and a close. */
const streams = fc.array(
  fc.record({
    dt: fc.integer({ min: 0, max: 120_000 }),
    m: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom("quote", "quote", "trade", "news", "close"),
    price: fc.integer({ min: 100, max: 9_900 }),
    count: fc.integer({ min: 1, max: 500 }),
  }),
  { maxLength: 200 },
);
const M3 = [info("KXA-1", "Bitcoin above 100k"), info("KXB-1", "Ethereum above 4k"), info("KXC-1", "Tampa Bay wins")];

function toEvents(steps: ReadonlyArray<{ dt: number; m: number; kind: string; price: number; count: number }>): MarketEvent[] {
  const out: MarketEvent[] = M3.map((m) => open(T0, m));
  let ts = T0;
  steps.forEach((s, k) => {
    ts += s.dt;
    const t = M3[s.m]!.ticker;
    if (s.kind === "quote") out.push(quote(ts, t, s.price / 10_000, null));
    else if (s.kind === "trade") out.push({ kind: "trade", ts, ticker: t, tradeId: `r${k}`, yesPrice: s.price, count: s.count, takerSide: "no" });
    else if (s.kind === "news") out.push(news(ts, `n${k}`, s.count % 2 ? "Bitcoin jumps" : "Weather", s.count % 3 === 0 ? [t] : null));
    else if (s.price < 500) out.push(close(ts, t));
  });
  return out;
}

describe("records why, deterministically", () => {
  it("every market event ends in exactly one counter (or the pending batch), and the sink sees each verdict", () => {
    // News as a trigger off, so each considered item is exactly one market event.
    const config = MarketFilterConfig.parse({ kind: "market", sampling: { enabled: true }, triggers: { news: false } });
    fc.assert(
      fc.property(streams, (steps) => {
        const rows: Array<[number, string, boolean, string]> = [];
        const filter = new MarketFilter(config, { onVerdict: (ts, ticker, passed, reason) => rows.push([ts, ticker, passed, reason]) });
        const b = new Bench(filter);
        const events = toEvents(steps);
        let passedOut = 0;
        for (const e of events) passedOut += b.feed(e).length;
        const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, n) => a + n, 0);
        const passed = sum(filter.passed());
        const dropped = sum(filter.dropped()) - filter.pending;
        const marketEvents = events.filter((e) => e.kind === "quote" || e.kind === "trade" || e.kind === "book").length;
        expect(passed).toBe(passedOut);
        expect(passed + dropped + filter.pending).toBe(marketEvents);
        expect(rows.length).toBe(passed + dropped);
        expect(rows.filter((r) => r[2]).length).toBe(passed);
      }),
      { numRuns: 60 },
    );
  });

  it("the same stream gives the same verdicts and counters", () => {
    fc.assert(
      fc.property(streams, (steps) => {
        const run = () => {
          const b = new Bench(buildEventFilter({ kind: "market", sampling: { enabled: true } }));
          const verdicts = b.feedAll(toEvents(steps));
          return { verdicts, counts: filterReasonCounts(b.filter) };
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 40 },
    );
  });
});

describe("buildEventFilter", () => {
  it("interval (or no kind) builds the plain IntervalFilter; market builds the full filter", () => {
    expect(buildEventFilter({ minIntervalMs: 5 })).toBeInstanceOf(IntervalFilter);
    expect(buildEventFilter({ kind: "interval", minIntervalMs: 5 })).toBeInstanceOf(IntervalFilter);
    const f = buildEventFilter({ kind: "market" });
    expect(f).toBeInstanceOf(MarketFilter);
    const c = (f as MarketFilter).config;
    expect([c.minIntervalMs, c.triggers.priceChangePct, c.triggers.volumeSpike, c.preScore.threshold, c.batching.size, c.batching.timeoutMs]).toEqual([
      60_000, 2, 3, 0.2, 10, 300_000,
    ]);
  });

  it("the interval filter counts passes and tells the sink", () => {
    const rows: string[] = [];
    const b = new Bench(buildEventFilter({ minIntervalMs: MIN }, { onVerdict: (ts, t, p, r) => rows.push(`${ts - T0}:${t}:${p}:${r}`) }));
    b.feed(open(T0, A));
    b.feed(quote(T0, A.ticker, 0.5));
    b.feed(quote(T0 + SEC, A.ticker, 0.5));
    expect(filterReasonCounts(b.filter)).toEqual({ "dropped:min_interval": 1, "passed:interval": 1 });
    expect(rows).toEqual([`0:${A.ticker}:true:interval`, `1000:${A.ticker}:false:min_interval`]);
  });

  it("rejects a bad config naming the field", () => {
    expect(() => buildEventFilter({ kind: "market", triggers: { priceChangePct: -1 } } as never)).toThrow(/priceChangePct/);
  });

  it("ablation layers switch sampling and batching independently of the base filter", () => {
    const on = (l: "none" | "filter" | "sampling" | "batching") => {
      const c = ablationFilterConfig(l);
      return [c.triggers.enabled, c.preScore.enabled, c.sampling.enabled, c.batching.enabled];
    };
    expect(on("none")).toEqual([false, false, false, false]);
    expect(on("filter")).toEqual([true, true, false, false]);
    expect(on("sampling")).toEqual([true, true, true, false]);
    expect(on("batching")).toEqual([true, true, true, true]);
  });
});
