/**
 * The WebSocket wire schemas: a message's time from `ts_ms`, `ts` seconds
 * or an ISO `ts`; Kalshi's current fixed-point fields parse; a renamed field
 * is an error naming it (the bot that traded on a renamed field for 160
 * trades never noticed), never a silent null.
 */
import { describe, expect, it } from "vitest";
import { messageTime, OrderbookDeltaMsg, OrderbookSnapshotMsg, TickerMsg, TradeMsg } from "../../harness/live/kalshiMessages.ts";

describe("Kalshi WebSocket messages", () => {
  it("take the exchange's time: ts_ms first, then ts in seconds or ISO-8601", () => {
    expect(messageTime({ ts_ms: 1_700_000_000_123, ts: 1 })).toBe(1_700_000_000_123);
    expect(messageTime({ ts: 1_700_000_000 })).toBe(1_700_000_000_000);
    expect(messageTime({ ts: "2023-11-14T22:13:20Z" })).toBe(1_700_000_000_000);
    expect(messageTime({ ts: "not a time" })).toBeNull();
    expect(messageTime({})).toBeNull();
  });

  it("parse the fixed-point fields and refuse a renamed one by name", () => {
    const delta = OrderbookDeltaMsg.parse({ market_ticker: "T", price_dollars: "0.9600", delta_fp: "-54.00", side: "yes", ts: "2022-11-22T20:44:01Z", extra: 1 });
    expect(delta).toEqual({ market_ticker: "T", price_dollars: "0.9600", delta_fp: "-54.00", side: "yes", ts: "2022-11-22T20:44:01Z" });
    const trade = TradeMsg.safeParse({ trade_id: "t1", market_ticker: "T", yes_price: 36, count_fp: "136.00", taker_side: "no", ts: 1669149841 });
    expect(trade.success).toBe(false);
    expect(trade.error!.issues[0]!.path).toEqual(["yes_price_dollars"]);
    expect(TickerMsg.parse({ market_ticker: "T", yes_bid_dollars: null, yes_ask_dollars: "0.5300", volume_fp: "10.00" })).toMatchObject({ yes_bid_dollars: null, yes_ask_dollars: "0.5300" });
  });

  it("read a snapshot in either spelling; an absent side is empty", () => {
    expect(OrderbookSnapshotMsg.parse({ market_ticker: "T", yes_dollars_fp: [["0.0800", "300.00"]] })).toEqual({ market_ticker: "T", yes_dollars_fp: [["0.0800", "300.00"]], no_dollars_fp: [] });
    expect(OrderbookSnapshotMsg.parse({ market_ticker: "T", yes_dollars: [["0.08", 300]], no_dollars: [["0.54", 20.5]], ts_ms: 5 })).toEqual({
      market_ticker: "T",
      yes_dollars_fp: [["0.08", "300.00"]],
      no_dollars_fp: [["0.54", "20.50"]],
      ts_ms: 5,
    });
    expect(OrderbookSnapshotMsg.safeParse({ market_ticker: "T", yes_dollars_fp: [[0.08, "1.00"]] }).success).toBe(false);
  });
});
