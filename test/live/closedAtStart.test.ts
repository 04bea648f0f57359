/**
 * A followed market that already closed (not yet settled) when the feed
 * starts: Kalshi lists it, and a series' day-old market is in that state
 * until it settles. The feed opens it and closes it at once, so no strategy
 * takes it for a tradable market.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MarketEvent } from "../../harness/events/types.ts";
import { kalshiWebSocketHeaders } from "../../harness/live/kalshi/signing.ts";
import { LiveSource } from "../../harness/live/liveSource.ts";
import { RestMarketDirectory } from "../../harness/live/restDirectory.ts";
import { startFakeVenue, waitFor, type FakeVenue } from "./fakeMarket.ts";

let venue: FakeVenue | null = null;
let source: LiveSource | null = null;
afterEach(async () => {
  await source?.close();
  await venue?.close();
  source = null;
  venue = null;
});

describe("live feed start-up", () => {
  it("opens and at once closes a market that closed before the feed started; an open one stays open", async () => {
    const v = await startFakeVenue();
    venue = v;
    v.exchange.addMarket({ ticker: "KXCLS-26JAN01-A" });
    v.exchange.addMarket({ ticker: "KXCLS-26JAN01-B" });
    v.exchange.closeMarket("KXCLS-26JAN01-A");
    const src = new LiveSource({
      wsUrl: v.started.wsUrl,
      authHeaders: () => kalshiWebSocketHeaders(v.credentials),
      directory: new RestMarketDirectory(v.started.restBase),
      series: ["KXCLS"],
      discoverMs: 0,
    });
    source = src;
    const events: MarketEvent[] = [];
    await src.start();
    void (async () => {
      for await (const batch of src.events()) events.push(...batch);
    })();
    await waitFor("both books", () => events.filter((e) => e.kind === "book").length >= 1 && events.some((e) => e.kind === "open"));
    const lifecycle = (t: string) => events.flatMap((e) => ((e.kind === "open" || e.kind === "close") && e.ticker === t ? [e.kind] : []));
    expect(lifecycle("KXCLS-26JAN01-A")).toEqual(["open", "close"]);
    expect(lifecycle("KXCLS-26JAN01-B")).toEqual(["open"]);
    expect(src.markets().find((m) => m.ticker === "KXCLS-26JAN01-A")?.status).toBe("closed");
  });
});
