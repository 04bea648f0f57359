/**
 * The live feed against the loopback fake exchange: a book kept from
 * snapshot + deltas, a `seq` gap that marks it stale, resubscribes and takes
 * a fresh snapshot, a dropped socket that reconnects, a silent server that
 * trips the heartbeat timeout. The client is the code that talks to Kalshi.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BookEvent, MarketEvent } from "../../harness/events/types.ts";
import { kalshiWebSocketHeaders } from "../../harness/live/kalshi/signing.ts";
import { LiveSource, type FeedGap } from "../../harness/live/liveSource.ts";
import { RestMarketDirectory } from "../../harness/live/restDirectory.ts";
import { dollarsToUnits } from "../../harness/money/money.ts";
import { setUpScriptedMarkets } from "../../harness/live/fakeKalshi/scriptedSession.ts";
import { startFakeVenue, waitFor, type FakeVenue } from "./fakeMarket.ts";

const T = "KXGAP-26JAN01-A";

let venue: FakeVenue | null = null;
let source: LiveSource | null = null;
afterEach(async () => {
  await source?.close();
  await venue?.close();
  source = null;
  venue = null;
});

async function connect(heartbeatTimeoutMs = 5_000, poll: { pollAfterMs?: number; pollMs?: number } = {}): Promise<{ events: MarketEvent[]; gaps: FeedGap[]; src: LiveSource; v: FakeVenue }> {
  const v = await startFakeVenue();
  venue = v;
  v.exchange.addMarket({ ticker: T, title: "Gap test market" });
  v.exchange.seedLiquidity(T, "bid", 0.4, 10);
  // The ask is a maker account's, so a house taker can trade with it (no self-trades).
  setUpScriptedMarkets(v.exchange, { series: "KXOTHER", markets: 1 });
  v.exchange.placeOrder("scripted-maker", { ticker: T, side: "ask", count: 7, price: 4500, timeInForce: "good_till_canceled", clientOrderId: null, postOnly: false, reduceOnly: false });
  const src = new LiveSource({
    wsUrl: v.started.wsUrl,
    authHeaders: () => kalshiWebSocketHeaders(v.credentials),
    directory: new RestMarketDirectory(v.started.restBase),
    series: ["KXGAP"],
    heartbeatTimeoutMs,
    backoff: { baseMs: 20, capMs: 100 },
    ...poll,
  });
  source = src;
  const events: MarketEvent[] = [];
  const gaps: FeedGap[] = [];
  src.onGap((g) => gaps.push(g));
  await src.start();
  void (async () => {
    for await (const batch of src.events()) events.push(...batch);
  })();
  return { events, gaps, src, v };
}

/** The exchange's book as the engine's BookEvent holds it (bids per side, best first, units). */
function exchangeBook(v: FakeVenue): Pick<BookEvent, "yes" | "no"> {
  const snap = v.exchange.bookSnapshot(T).msg;
  const conv = (levels: Array<[string, string]>): Array<[number, number]> => levels.map(([p, q]) => [dollarsToUnits(p), Number(q)]);
  return { yes: conv(snap.yes_dollars_fp), no: conv(snap.no_dollars_fp) };
}

function lastBook(events: MarketEvent[]): BookEvent | undefined {
  return events.filter((e): e is BookEvent => e.kind === "book").at(-1);
}

describe("live source on the fake exchange", () => {
  it("keeps the book from snapshot plus deltas, with open first and ordered times", async () => {
    const { events, v } = await connect();
    await waitFor("the first snapshot", () => lastBook(events) !== undefined);
    expect(events[0]).toMatchObject({ kind: "open", ticker: T, market: { title: "Gap test market" } });
    expect(lastBook(events)).toMatchObject({ yes: [[4000, 10]], no: [[5500, 7]] });
    v.exchange.seedLiquidity(T, "bid", 0.41, 5);
    await waitFor("the delta", () => lastBook(events)?.yes.length === 2);
    expect(lastBook(events)).toMatchObject(exchangeBook(v));
    expect(lastBook(events)!.yes).toEqual([[4100, 5], [4000, 10]]);
    // A house taker lifts the ask: a trade print, a ticker and the book shrinks.
    v.exchange.houseTakes(T, "bid", 0.45, 3);
    await waitFor("the trade", () => events.some((e) => e.kind === "trade"));
    await waitFor("the book after the trade", () => lastBook(events)?.no[0]?.[1] === 4);
    expect(events.find((e) => e.kind === "trade")).toMatchObject({ ticker: T, yesPrice: 4500, count: 3 });
    const ts = events.map((e) => e.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it("a seq gap marks the book stale, resubscribes and takes a fresh snapshot", async () => {
    const { events, gaps, src, v } = await connect();
    await waitFor("the first snapshot", () => lastBook(events) !== undefined);
    const snapshotsBefore = v.ws.stats.snapshots;
    v.exchange.skipBookSeq(T);
    // This delta arrives with seq + 2: it must not be applied; the fresh snapshot carries it instead.
    v.exchange.seedLiquidity(T, "bid", 0.42, 3);
    await waitFor("the resubscription's snapshot", () => v.ws.stats.snapshots === snapshotsBefore + 1);
    await waitFor("the fresh book", () => lastBook(events)?.yes[0]?.[0] === 4200);
    expect(src.ws!.stats.gaps).toBe(1);
    expect(src.ws!.stats.resubscribes).toBe(1);
    expect(lastBook(events)).toMatchObject(exchangeBook(v));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.ticker).toBe(T);
    expect(gaps[0]!.reason).toMatch(/seq gap on orderbook_delta .*expected \d+, got \d+/);
    expect(gaps[0]!.end).toBeGreaterThanOrEqual(gaps[0]!.start);
    expect(src.staleTickers()).toEqual([]);
    // Deltas after the resubscription apply on the fresh book.
    v.exchange.seedLiquidity(T, "bid", 0.43, 2);
    await waitFor("a delta on the new subscription", () => lastBook(events)?.yes[0]?.[0] === 4300);
    expect(lastBook(events)).toMatchObject(exchangeBook(v));
  });

  it("a dropped socket reconnects with backoff; a silent one trips the heartbeat timeout", async () => {
    const { events, gaps, src, v } = await connect(400);
    await waitFor("the first snapshot", () => lastBook(events) !== undefined);
    v.exchange.dropSockets();
    await waitFor("the reconnect", () => src.ws!.stats.connects === 2);
    v.exchange.seedLiquidity(T, "bid", 0.39, 1);
    await waitFor("the book after reconnecting", () => lastBook(events)?.yes.length === 2);
    expect(lastBook(events)).toMatchObject(exchangeBook(v));
    expect(gaps.some((g) => g.reason === "connection dropped" && g.ticker === T)).toBe(true);
    v.ws.silence(900);
    await waitFor("the heartbeat timeout", () => src.ws!.stats.heartbeatTimeouts >= 1, 2_000);
    await waitFor("the reconnect after silence", () => src.ws!.stats.connects >= 3 && src.ws!.isOpen, 3_000);
  });

  it("polls books and quotes over REST while the WebSocket is down; the stretch is a gap until the socket's snapshot", async () => {
    const { events, gaps, src, v } = await connect(5_000, { pollAfterMs: 60, pollMs: 50 });
    await waitFor("the first snapshot", () => lastBook(events) !== undefined);
    v.ws.refuse(700);
    await waitFor("the drop", () => !src.ws!.isOpen);
    const atDrop = events.length;
    // The book changes while no socket can tell: only REST can.
    v.exchange.seedLiquidity(T, "bid", 0.38, 4);
    await waitFor("a polled book", () => lastBook(events)?.yes.some(([p]) => p === 3800) === true, 2_000);
    expect(src.stats.polls).toBeGreaterThan(0);
    // Polled quotes come with polled books (the best bid is still the 0.40 one).
    expect(events.slice(atDrop).some((e) => e.kind === "quote" && e.yesBid === 4000 && e.yesAsk === 4500)).toBe(true);
    expect(src.staleTickers()).toEqual([T]);
    await waitFor("the reconnect", () => src.ws!.isOpen && src.staleTickers().length === 0, 3_000);
    const gap = gaps.find((g) => g.reason === "connection dropped")!;
    expect(gap.ticker).toBe(T);
    expect(gap.end - gap.start).toBeGreaterThan(300);
    expect(lastBook(events)).toMatchObject(exchangeBook(v));
  });

  it("follows a market the series lists later: its open, then its book", async () => {
    const { events, src, v } = await connect();
    await waitFor("the first snapshot", () => lastBook(events) !== undefined);
    const later = "KXGAP-26JAN02-B";
    v.exchange.addMarket({ ticker: later, title: "A later market" });
    v.exchange.seedLiquidity(later, "bid", 0.2, 3);
    expect(await src.discover()).toEqual([later]);
    await waitFor("the new market's book", () => events.some((e) => e.kind === "book" && e.ticker === later));
    const open = events.findIndex((e) => e.kind === "open" && e.ticker === later);
    expect(open).toBeGreaterThan(0);
    expect(events.findIndex((e) => e.kind === "book" && e.ticker === later)).toBeGreaterThan(open);
    expect(events.filter((e): e is BookEvent => e.kind === "book" && e.ticker === later).at(-1)!.yes).toEqual([[2000, 3]]);
    // The first market keeps flowing on the new subscription.
    v.exchange.seedLiquidity(T, "bid", 0.44, 1);
    await waitFor("the first market's delta", () => lastBook(events)?.ticker === T && lastBook(events)!.yes[0]![0] === 4400);
    expect(await src.discover()).toEqual([]);
  });

  it("refuses an unsigned handshake; start() gives up naming the refusal", async () => {
    const v = await startFakeVenue();
    venue = v;
    v.exchange.addMarket({ ticker: T });
    const src = new LiveSource({ wsUrl: v.started.wsUrl, directory: new RestMarketDirectory(v.started.restBase), series: ["KXGAP"], backoff: { baseMs: 20, capMs: 50 }, connectTimeoutMs: 400 });
    source = src;
    await expect(src.start()).rejects.toThrow(/no WebSocket connection to ws:\/\/127\.0\.0\.1:\d+\/trade-api\/ws\/v2 within 400 ms \(last: Unexpected server response: 401\)/);
    expect(v.ws.stats.refused).toBeGreaterThanOrEqual(2);
    expect(v.ws.connections).toBe(0);
  });
});
