/**
 * Prices persist (issue 10): a candlestick of an hour without trades has
 * volume 0 and no price. The importer keeps its price null ("no new
 * price"), the dataset notes say so, and MarketState keeps the last known
 * price in place instead of erasing it. Fixture: real hourly history of a
 * Kalshi weather market (one trade at 0.15, then no-trade hours with a
 * one-sided book), in the candlesticks endpoint's shape.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importKalshi } from "../../datasets/importers/kalshi.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import type { MarketEvent } from "../../harness/events/types.ts";
import { MarketState } from "../../harness/state/marketState.ts";
import { FIXTURES, tempDir } from "./helpers.ts";
import { readTable } from "./readTable.ts";

const TICKER = "HIGHCHI-24JUL13-B88.5";

interface Candle {
  end_period_ts: number;
  yes_bid: { close: number };
  yes_ask: { close: number };
  price: { close: number | null };
  volume: number;
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

function event(ts: number, lastPrice: number | null, bid: number | null = null, ask: number | null = null): MarketEvent {
  return { kind: "quote", ts, ticker: "M", yesBid: bid, yesAsk: ask, lastPrice, volume: null, openInterest: null };
}

describe("a bar or quote without a price leaves the last known price in place", () => {
  it("MarketState: a price-less quote after a priced one keeps the price (and its time)", () => {
    const clock = new SimulatedClock();
    const state = new MarketState(clock);
    state.apply({ kind: "open", ts: 0, ticker: "M", market: { ticker: "M", eventTicker: "E", seriesTicker: "S", title: "M?", subtitle: null, rules: null, background: null, category: null, openTime: 0, scheduledCloseTime: null } });
    state.apply(event(1000, 4200));
    state.apply(event(2000, null)); // an hour without trades: empty book, no price
    expect(state.marketPrice("M")).toBe(4200);
    expect(state.market("M")?.quote).toMatchObject({ ts: 2000, lastPrice: 4200, lastPriceTs: 1000, yesBid: null, yesAsk: null });
    // A trade after the last priced quote is the newer price, even though a price-less quote came later still.
    state.apply({ kind: "trade", ts: 1500, ticker: "M", tradeId: "t", yesPrice: 4500, count: 1, takerSide: "yes" });
    expect(state.marketPrice("M")).toBe(4500);
  });

  it("real no-trade hours: the importer leaves their price null, notes how, and replay keeps the last traded price", async () => {
    const src = join(FIXTURES, "kalshi-candles");
    const out = join(tmp.dir, "ds");
    const manifest = await importKalshi(src, out);
    expect(manifest.source.notes.join("\n")).toContain("A period without trades (volume 0, price 0.00 or null) has no price: its last_price is null");

    const candles = (JSON.parse(await readFile(join(src, "candlesticks", `${TICKER}.json`), "utf8")) as { candlesticks: Candle[] }).candlesticks;
    const noTrade = candles.filter((c) => c.volume === 0);
    expect(noTrade.length).toBeGreaterThan(0);
    const quotes = await readTable(out, "quotes", "ORDER BY ts");
    expect(quotes.filter((q) => q["last_price"] === null).length).toBe(candles.filter((c) => c.price.close === null).length);

    // Reference from the raw candles: mid when both sides are quoted (a 0¢ bid or a 100¢ ask is an
    // empty side), else the last traded price so far, else the one quoted side, else nothing.
    const expected: Array<[number, number | null]> = [];
    let traded: number | null = null;
    for (const c of candles) {
      if (c.price.close !== null) traded = c.price.close * 100;
      const bid = c.yes_bid.close > 0 ? c.yes_bid.close * 100 : null;
      const ask = c.yes_ask.close < 100 ? c.yes_ask.close * 100 : null;
      expected.push([c.end_period_ts * 1000, bid !== null && ask !== null ? Math.round((bid + ask) / 2) : (traded ?? bid ?? ask)]);
    }

    const clock = new SimulatedClock();
    const state = new MarketState(clock);
    const seen: Array<[number, number | null]> = [];
    const source = await ReplaySource.open(out);
    try {
      for await (const batch of source.events()) {
        for (const e of batch) {
          clock.observe(e.ts);
          state.apply(e);
          if (e.kind === "quote") seen.push([e.ts, state.marketPrice(TICKER)]);
        }
      }
    } finally {
      await source.close();
    }
    expect(seen).toEqual(expected);
    // The hour after the trade (13:00-14:00 UTC) had no trade and no bid: the price stays at the trade's 0.15.
    expect(seen.find(([ts]) => ts === Date.parse("2024-07-13T14:00:00Z"))).toEqual([Date.parse("2024-07-13T14:00:00Z"), 1500]);
  });
});
