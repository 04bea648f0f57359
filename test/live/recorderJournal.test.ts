/**
 * The recorder's journal: each acknowledgement is a snapshot (an ack kept
 * by a caller does not change under later writes), and a damaged journal row
 * is refused with its file, line and field instead of reaching the dataset.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Recorder, type RecorderAck } from "../../harness/live/recorder.ts";
import type { LiveMarket } from "../../harness/live/marketDirectory.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const T0 = 1_767_000_000_000;
const market: LiveMarket = {
  ticker: "KXJ-26JAN01-A",
  eventTicker: "KXJ-26JAN01",
  seriesTicker: "KXJ",
  title: "Journal test",
  subtitle: null,
  rules: null,
  category: null,
  openTime: T0 - 60_000,
  closeTime: T0 + 3_600_000,
  scheduledCloseTime: T0 + 3_600_000,
  status: "active",
  result: null,
  settleTime: null,
};

describe("recorder journal", () => {
  it("hands out each ack as a snapshot of what was acknowledged then", async () => {
    const acks: RecorderAck[] = [];
    let now = T0;
    const rec = Recorder.open(join(tempDir("td-journal-"), "rec"), { series: ["KXJ"], tickers: [], feeds: [] }, { flushMs: 60_000, segmentMs: 60_000, now: () => now, onAck: (a) => acks.push(a) });
    rec.market(market);
    rec.event({ kind: "quote", ts: ++now, ticker: market.ticker, yesBid: 4000, yesAsk: 4200, lastPrice: null, volume: 10, openInterest: 5 });
    rec.flush();
    rec.event({ kind: "trade", ts: ++now, ticker: market.ticker, tradeId: "t-1", yesPrice: 4100, count: 2, takerSide: "yes" });
    rec.flush();
    const manifest = await rec.close();
    expect(acks.map((a) => a.rows)).toEqual([1, 3, 4, 5]); // session; market + quote; trade; the closing note
    expect(acks[1]!.byTable).toEqual({ session: 1, markets: 1, quotes: 1 });
    expect(acks[2]!.byTable).toEqual({ session: 1, markets: 1, quotes: 1, trades: 1 });
    expect(manifest.tables.trades?.rows).toBe(1);
  });

  it("refuses a damaged journal row, naming its file, line and field", async () => {
    const dir = join(tempDir("td-journal-"), "rec");
    mkdirSync(join(dir, "recording"), { recursive: true });
    const lines = [
      { t: "session", start: T0, series: ["KXJ"], tickers: [], feeds: [] },
      { t: "quotes", ts: T0 + 1, ticker: market.ticker, yes_bid: "0.40", yes_ask: 0.42, last_price: null, volume: 1, open_interest: 1 },
    ];
    writeFileSync(join(dir, "recording", "segment-000001.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    await expect(Recorder.finalize(dir)).rejects.toThrow(/segment-000001\.jsonl line 2: field yes_bid: .*\(the journal is damaged\)$/);
  });
});
