/**
 * Scheduled versus actual close (issue 10): the dataset keeps close_time
 * (the actual close, for the close event) apart from scheduled_close_time
 * (what a trader could see in advance, the only close strategies see).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importKalshi } from "../../datasets/importers/kalshi.ts";
import { splitCsvLine } from "../../datasets/importers/staging.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { FIXTURES, copyFixture, tempDir } from "./helpers.ts";
import { readTable } from "./readTable.ts";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function csvColumn(file: string, column: string): Promise<Map<string, string>> {
  const [header, ...rows] = (await readFile(file, "utf8")).split("\n").filter((l) => l !== "");
  const cols = splitCsvLine(header!);
  return new Map(rows.map(splitCsvLine).map((r) => [r[0]!, r[cols.indexOf(column)]!]));
}

describe("scheduled close", () => {
  it("a recording with only the actual close: no close time for strategies, and the notes say so", async () => {
    const out = join(tmp.dir, "ds");
    const manifest = await importKalshi(join(FIXTURES, "kalshi-csv"), out);
    const markets = await readTable(out, "markets");
    expect(markets.every((m) => m["scheduled_close_time"] === null)).toBe(true);
    const closes = await csvColumn(join(FIXTURES, "kalshi-csv", "enriched_markets.csv"), "close_time");
    for (const m of markets) expect(m["close_time"]).toBe(Math.floor(Date.parse(closes.get(String(m["ticker"]))!.replace(/(\.\d{3})\d+/, "$1"))));
    expect(manifest.source.notes.some((n) => n.startsWith("The input holds only the actual close") && n.includes("--scheduled-close-from"))).toBe(true);
    const source = await ReplaySource.open(out);
    try {
      expect((await source.markets()).every((m) => m.scheduledCloseTime === null)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it("maps a field the user names, and says the user vouched for it", async () => {
    const out = join(tmp.dir, "ds");
    const manifest = await importKalshi(join(FIXTURES, "kalshi-csv"), out, { scheduledCloseFrom: "event_time" });
    const times = await csvColumn(join(FIXTURES, "kalshi-csv", "enriched_markets.csv"), "event_time");
    for (const m of await readTable(out, "markets")) {
      expect(m["scheduled_close_time"]).toBe(Date.parse(times.get(String(m["ticker"]))!.replace(/(\.\d{3})\d+/, "$1")));
    }
    expect(manifest.source.notes.some((n) => n.includes("event_time, as mapped by the user (--scheduled-close-from event_time)"))).toBe(true);
  });

  it("refuses to map a field the input lacks, naming it", async () => {
    const error = await importKalshi(join(FIXTURES, "kalshi-csv"), join(tmp.dir, "ds"), { scheduledCloseFrom: "kickoff" }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`${join(FIXTURES, "kalshi-csv", "enriched_markets.csv")} row 0 (header) field kickoff: missing column (named by --scheduled-close-from)`);
  });

  it("takes expected_expiration_time from API records where present, and says how many markets have none", async () => {
    const src = await copyFixture("kalshi-api", tmp.dir);
    const file = join(src, "markets-page1.json");
    const page = JSON.parse(await readFile(file, "utf8")) as { markets: Array<Record<string, unknown>> };
    page.markets[0]!["expected_expiration_time"] = "2025-11-09T21:00:00Z";
    await writeFile(file, JSON.stringify(page));
    const out = join(tmp.dir, "ds");
    const manifest = await importKalshi(src, out);
    const markets = await readTable(out, "markets", "WHERE scheduled_close_time IS NOT NULL ORDER BY ticker");
    expect(markets.map((m) => [m["ticker"], m["scheduled_close_time"]])).toEqual([[page.markets[0]!["ticker"], Date.parse("2025-11-09T21:00:00Z")]]);
    const total = (await readTable(out, "markets")).length;
    expect(manifest.source.notes.some((n) => n.startsWith("scheduled_close_time (what strategies see as the close) from expected_expiration_time") && n.includes(`${total - 1} of ${total} markets have none`))).toBe(true);
  });

  it("a market recorded while still active carries its scheduled close; a finalized one does not", async () => {
    const out = join(tmp.dir, "ds");
    await importKalshi(join(FIXTURES, "kalshi-snapshot"), out);
    const rows = await readTable(out, "markets", "ORDER BY ticker");
    expect(rows.map((m) => [m["ticker"], m["scheduled_close_time"]])).toEqual([
      ["AAAGASMIN-24DEC31-2.25", Date.parse("2024-12-31T14:55:00Z")],
      ["AAAGASMIN-24DEC31-2.50", Date.parse("2024-12-31T14:55:00Z")],
      // Placeholder markets for history tickers absent from market_data.json (kept by default): no record, so no scheduled close.
      ["APRPOTUS-24JUL19-T40.8", null],
      ["HIGHNY-24JUL14-B92.5", null],
      ["OPENAISUIT", null],
    ]);
  });
});
