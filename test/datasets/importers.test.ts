import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { importKalshi, detectKalshiLayout } from "../../datasets/importers/kalshi.ts";
import { importNews } from "../../datasets/importers/news.ts";
import { importForecastBench } from "../../datasets/importers/forecastbench.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { datasetHash, readManifest } from "../../datasets/manifest.ts";
import { FIXTURES, listing, tempDir } from "./helpers.ts";
import { readTable } from "./readTable.ts";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

describe("import kalshi: CSV recording (markets CSV + trades/<TICKER>.csv)", () => {
  it("imports every market and trade, infers open_time from the first trade, records that there is no bid/ask", async () => {
    const out = join(tmp.dir, "k");
    expect(detectKalshiLayout(join(FIXTURES, "kalshi-csv"))).toBe("csv");
    const m = await importKalshi(join(FIXTURES, "kalshi-csv"), out);
    expect(m.tables.markets.rows).toBe(6);
    expect(m.tables.trades?.rows).toBe(84);
    expect(m.capabilities).toEqual({ hasBidAsk: false, hasTrades: true, hasOrderbook: false, hasNews: false });
    expect(m.source.notes.join(" ")).toMatch(/open_time is inferred/);
    const markets = await readTable(out, "markets", "ORDER BY ticker");
    const fur = markets.find((r) => r["ticker"] === "KXCSGOGAME-FALFUR25-FUR");
    expect(fur).toMatchObject({
      event_ticker: "KXCSGOGAME-FALFUR25",
      series_ticker: "KXCSGOGAME",
      title: "IEM Chengdu 2025: Falcons vs. FURIA",
      category: "Sports",
      result: "yes",
      open_time: Date.parse("2025-11-08T12:51:51.222Z"), // earliest trade in the fixture
      close_time: Date.parse("2025-11-08T17:16:29.804Z"),
      settle_time: null,
    });
    // A market without trades opens at its close.
    const untraded = markets.find((r) => r["ticker"] === "KXNFLANYTD-25NOV09NETB-NOTD");
    expect(untraded?.["open_time"]).toBe(untraded?.["close_time"]);
    expect(markets.map((r) => r["result"]).sort()).toEqual(["no", "no", "no", "yes", "yes", "yes"]);
    const trades = await readTable(out, "trades", "WHERE trade_id = '5302854f-b4ff-6305-06a9-02c9ec9da328'");
    // seq (source order) has its own test (tradeOrder.test.ts).
    expect(trades.map(({ seq: _seq, ...rest }) => rest)).toEqual([
      { ts: Date.parse("2025-11-09T13:58:48.016Z"), ticker: "KXBTCD-25NOV0909-T102749.99", trade_id: "5302854f-b4ff-6305-06a9-02c9ec9da328", yes_price: 0.99, count: 197, taker_side: "yes" },
    ]);
    expect((await validateDataset(out)).ok).toBe(true);
  });

  it("is idempotent: a rerun replaces the output atomically with byte-identical tables", async () => {
    const out = join(tmp.dir, "k");
    const first = await importKalshi(join(FIXTURES, "kalshi-csv"), out);
    const second = await importKalshi(join(FIXTURES, "kalshi-csv"), out);
    expect(second.tables).toEqual(first.tables);
    expect(datasetHash(out, second)).toBe(datasetHash(out, first));
    expect(await listing(tmp.dir)).toEqual(["k"]);
  });

  it("cuts to requested tickers and a time window", async () => {
    const out = join(tmp.dir, "k");
    const m = await importKalshi(join(FIXTURES, "kalshi-csv"), out, {
      tickers: ["KXCSGOGAME-FALFUR25-FUR", "KXCSGOGAME-FALFUR25-FAL"],
      from: Date.parse("2025-11-08T15:00:00Z"),
    });
    expect(m.tables.markets.rows).toBe(2);
    const trades = await readTable(out, "trades");
    expect(trades.length).toBe(m.tables.trades?.rows);
    expect(trades.every((t) => (t["ts"] as number) >= Date.parse("2025-11-08T15:00:00Z"))).toBe(true);
    expect(new Set(trades.map((t) => t["ticker"]))).toEqual(new Set(["KXCSGOGAME-FALFUR25-FUR", "KXCSGOGAME-FALFUR25-FAL"]));
  });
});

describe("import kalshi: saved REST responses (JSON / JSONL)", () => {
  it("reads market pages, trades, candlesticks and order books with current and legacy fields", async () => {
    const out = join(tmp.dir, "api");
    expect(detectKalshiLayout(join(FIXTURES, "kalshi-api"))).toBe("api");
    const m = await importKalshi(join(FIXTURES, "kalshi-api"), out);
    expect(m.tables.markets.rows).toBe(7);
    expect(m.tables.trades?.rows).toBe(39);
    expect(m.tables.quotes?.rows).toBe(7); // 6 candles + 1 market snapshot with a fetch time
    expect(m.tables.orderbook?.rows).toBe(2);
    expect(m.capabilities.hasBidAsk).toBe(true);
    const quotes = await readTable(out, "quotes", "ORDER BY ts");
    // First candle: bid 28¢ (cents object), ask 100¢ = no ask → null; price 0 = never traded → null.
    expect(quotes[0]).toMatchObject({ ts: 1720885157000, ticker: "HIGHNY-24JUL14-B92.5", yes_bid: 0.28, yes_ask: null, last_price: null });
    // Second candle carries yes_bid.close_dollars.
    expect(quotes[1]).toMatchObject({ yes_bid: 0.28, yes_ask: 0.34 });
    const books = await readTable(out, "orderbook", "ORDER BY ts");
    // Cents book and `_dollars` book of the same levels agree; best bid first.
    expect(books[0]?.["yes"]).toEqual([[0.31, 45], [0.28, 150], [0.27, 150]]);
    expect(books[0]?.["no"]).toEqual([[0.64, 30], [0.62, 150], [0.6, 150]]);
    expect(books[1]?.["yes"]).toEqual(books[0]?.["yes"]);
    expect(books[1]?.["ts"]).toBe(Date.parse("2024-07-13T22:05:00Z"));
    const trade = await readTable(out, "trades", "WHERE trade_id = '5302854f-b4ff-6305-06a9-02c9ec9da328'");
    expect(trade[0]).toMatchObject({ yes_price: 0.99, count: 197, taker_side: "yes" });
    const hi = await readTable(out, "markets", "WHERE ticker = 'HIGHNY-24JUL14-B92.5'");
    expect(hi[0]).toMatchObject({ subtitle: "92° to 93°", open_time: Date.parse("2024-07-12T14:00:00Z"), result: null });
  });
});

describe("import kalshi: 2024 snapshot layout (underscore fields, cents, epoch seconds)", () => {
  it("drops rows of tickers absent from market_data.json when asked, and says so", async () => {
    const out = join(tmp.dir, "snap");
    const m = await importKalshi(join(FIXTURES, "kalshi-snapshot"), out, { unlisted: "drop" });
    expect(m.tables.markets.rows).toBe(3);
    expect(m.tables.quotes?.rows).toBe(0);
    expect(m.source.notes).toContain("quotes: dropped 16 rows whose ticker is absent from market_data.json (--unlisted drop).");
    const markets = await readTable(out, "markets", "ORDER BY ticker");
    const openai = markets.find((r) => r["ticker"] === "OPENAISUIT");
    expect(openai).toMatchObject({
      result: "no",
      open_time: Date.parse("2024-03-05T13:00:00Z"),
      close_time: Date.parse("2024-06-12T20:07:57.847Z"),
      series_ticker: "OPENAISUIT",
    });
    expect(markets.find((r) => r["ticker"] === "AAAGASMIN-24DEC31-2.25")?.["title"]).toBe("How low will gas prices in the US get in 2024?");
  });

  it("by default keeps quotes and books under placeholder markets, says so, books stamped with the last history time", async () => {
    const out = join(tmp.dir, "snap");
    const m = await importKalshi(join(FIXTURES, "kalshi-snapshot"), out);
    expect(m.source.notes).toContain(
      "quotes: 16 rows for tickers absent from market_data.json kept under placeholder markets (no result, title = ticker); --unlisted drop drops them.",
    );
    expect(m.tables.markets.rows).toBe(5);
    expect(m.tables.quotes?.rows).toBe(16);
    expect(m.tables.orderbook?.rows).toBe(2);
    const quotes = await readTable(out, "quotes", "WHERE ticker = 'HIGHNY-24JUL14-B92.5' ORDER BY ts");
    expect(quotes[0]?.["ts"]).toBe(1720885157 * 1000);
    const books = await readTable(out, "orderbook", "ORDER BY ticker");
    const lastTs = Math.max(...(await readTable(out, "quotes")).map((q) => q["ts"] as number));
    expect(books.every((b) => b["ts"] === lastTs)).toBe(true);
    const stub = (await readTable(out, "markets", "WHERE ticker = 'HIGHNY-24JUL14-B92.5'"))[0];
    expect(stub).toMatchObject({ result: null, title: "HIGHNY-24JUL14-B92.5", event_ticker: "HIGHNY-24JUL14" });
  });
});

describe("import news: headline snapshots", () => {
  it("a headline repeated across snapshots is one row at its first sighting; zone-less times are UTC", async () => {
    const out = join(tmp.dir, "news");
    const m = await importNews(join(FIXTURES, "news"), out);
    expect(m.tables.news?.rows).toBe(26); // 36 raw rows in 3 snapshots
    const rows = await readTable(out, "news", "WHERE title LIKE '%Four Months in a Salvadoran Prison'");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: "New York Times", ts: Date.parse("2025-11-08T18:19:43.850Z") });
    const all = await readTable(out, "news", "ORDER BY ts");
    expect(all[0]?.["ts"]).toBe(Date.parse("2025-11-08T06:19:26.000Z") + (all[0]?.["ts"] as number) % 1000);
    expect(new Set(all.map((r) => r["id"])).size).toBe(26);
  });

  it("merges into an existing dataset, keeping its tables byte-for-byte", async () => {
    const base = join(tmp.dir, "k");
    const before = await importKalshi(join(FIXTURES, "kalshi-csv"), base);
    const merged = await importNews(join(FIXTURES, "news"), base, { into: base });
    expect(merged.tables.markets).toEqual(before.tables.markets);
    expect(merged.tables.trades).toEqual(before.tables.trades);
    expect(merged.tables.news?.rows).toBe(26);
    expect(merged.capabilities).toEqual({ hasBidAsk: false, hasTrades: true, hasOrderbook: false, hasNews: true });
    expect((await validateDataset(base)).ok).toBe(true);
  });
});

describe("import forecastbench", () => {
  it("one market per market question with its freeze quote and result; dataset questions skipped", async () => {
    const out = join(tmp.dir, "fb");
    const m = await importForecastBench(
      join(FIXTURES, "forecastbench", "2025-10-26-llm.json"),
      join(FIXTURES, "forecastbench", "2025-10-26_resolution_set.json"),
      out,
    );
    expect(m.tables.markets.rows).toBe(8); // 2 each of polymarket, manifold, metaculus, infer; 2 acled skipped
    expect(m.tables.quotes?.rows).toBe(8);
    expect(m.license).toMatch(/CC BY-SA 4.0/);
    const markets = await readTable(out, "markets", "ORDER BY ticker");
    const byTicker = new Map(markets.map((r) => [r["ticker"] as string, r]));
    expect(byTicker.get("manifold:K8qazyZJ3tXyuLlzkkyk")).toMatchObject({
      title: "Will San Diego FC make the playoffs in 2025?",
      result: "yes",
      settle_time: Date.parse("2026-01-01T00:00:00Z"),
      open_time: Date.parse("2023-11-16T18:37:14Z"),
    });
    expect(byTicker.get("manifold:K8qazyZJ3tXyuLlzkkyk")?.["rules"]).toMatch(/^Resolves to the outcome of the question/);
    expect(byTicker.get("metaculus:2937")?.["result"]).toBe("no");
    expect(byTicker.get("manifold:YDHR6tZPck2B5Z406tph")?.["result"]).toBeNull(); // resolved: false
    expect(byTicker.get("infer:1401")?.["result"]).toBeNull(); // no resolution row
    const quotes = await readTable(out, "quotes", "ORDER BY ticker");
    const q = new Map(quotes.map((r) => [r["ticker"] as string, r]));
    expect(q.get("manifold:K8qazyZJ3tXyuLlzkkyk")).toMatchObject({ ts: Date.parse("2025-10-16T00:00:00Z"), last_price: 0.9799, yes_bid: null, yes_ask: null });
    expect(q.get("polymarket:0xe06c8e9546be61e4ba8b03ad431dfff590fc6b21a5b746e71f62ae85f1dcad6a")?.["last_price"]).toBe(0.0045);
    const manifest = JSON.parse(await readFile(join(out, "dataset.json"), "utf8")) as unknown;
    expect(await readManifest(out)).toEqual(manifest);
  });
});
