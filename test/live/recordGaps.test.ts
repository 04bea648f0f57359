/**
 * Gap markers and coverage of a recording: a seq gap is written down from
 * the moment the book went stale to its fresh snapshot; a socket still down
 * when the session stops is written down up to the stop; coverage is
 * 1 − stale market-time / market-time over the recording's window.
 */
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RecordSession } from "../../harness/live/recordSession.ts";
import { coverageRatio } from "../../harness/live/recorder.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { startFakeVenue, waitFor, venueFeed, type FakeVenue } from "./fakeMarket.ts";

let venue: FakeVenue | null = null;
afterAll(async () => venue?.close());

describe("recording gaps", () => {
  it("marks a seq gap and a socket down at the stop, and measures coverage from them", async () => {
    venue = await startFakeVenue();
    const v = venue;
    const T = "KXREC-26JAN01-A";
    v.exchange.addMarket({ ticker: T });
    v.exchange.seedLiquidity(T, "bid", 0.5, 10);
    const feed = venueFeed(v, ["KXREC"]);
    const out = join(tempDir("td-gaps-"), "rec");
    const session = new RecordSession({ feed, out, segmentMs: 60_000 });
    const { done } = await session.start();
    await waitFor("the snapshot", () => session.source.staleTickers().length === 0);
    await new Promise((r) => setTimeout(r, 150));
    v.exchange.skipBookSeq(T);
    v.exchange.seedLiquidity(T, "bid", 0.51, 1);
    await waitFor("the fresh snapshot", () => session.source.ws!.stats.resubscribes === 1 && session.source.staleTickers().length === 0);
    await new Promise((r) => setTimeout(r, 150));
    v.ws.refuse(10_000);
    await waitFor("the drop", () => !session.source.ws!.isOpen);
    await new Promise((r) => setTimeout(r, 200));
    session.stop();
    const manifest = await done;
    expect((await validateDataset(out)).problems).toEqual([]);
    const rec = manifest.recording!;
    expect(rec.gaps.map((g) => [g.ticker, g.reason.replace(/\(sid \d+\): expected \d+, got \d+/, "…")])).toEqual([
      [T, "seq gap on orderbook_delta …"],
      [T, "connection dropped (still stale when the session stopped)"],
    ]);
    const [seq, down] = rec.gaps;
    expect(seq!.end).toBeGreaterThanOrEqual(seq!.start);
    expect(down!.end - down!.start).toBeGreaterThanOrEqual(150);
    // One market: coverage = 1 − (stale time) / window.
    const stale = rec.gaps.reduce((s, g) => s + (g.end - g.start), 0);
    expect(rec.coverage).toBeCloseTo(1 - stale / (rec.end - rec.start), 10);
    expect(rec.coverage).toBeLessThan(1);
    expect(rec.coverage).toBeGreaterThan(0);
  });

  it("coverage counts every market's stale time once, a market-wide gap for all", () => {
    // Two markets over [0, 100): A stale 10..30 and 20..40 (overlap counted once: 30), a market-wide gap 90..100 (10 each).
    const gaps = [
      { ticker: "A", start: 10, end: 30, reason: "x" },
      { ticker: "A", start: 20, end: 40, reason: "y" },
      { ticker: null, start: 90, end: 100, reason: "down" },
    ];
    expect(coverageRatio(["A", "B"], gaps, 0, 100)).toBeCloseTo(1 - (30 + 10 + 10) / 200, 12);
    expect(coverageRatio(["A"], [], 0, 100)).toBe(1);
    expect(coverageRatio([], gaps, 0, 100)).toBe(1);
  });

  it("coverage is the share of whole market-milliseconds on a grid, and a further gap never raises it (property)", () => {
    const gap = fc.record({ ticker: fc.constantFrom<string | null>("A", "B", null), start: fc.integer({ min: -10, max: 60 }), len: fc.integer({ min: 0, max: 30 }) });
    fc.assert(
      fc.property(fc.array(gap, { maxLength: 8 }), gap, (raw, extra) => {
        const gaps = raw.map((g) => ({ ticker: g.ticker, start: g.start, end: g.start + g.len, reason: "r" }));
        const c = coverageRatio(["A", "B"], gaps, 0, 50);
        // Brute force: count stale (market, ms) cells.
        let stale = 0;
        for (const t of ["A", "B"]) for (let ms = 0; ms < 50; ms++) if (gaps.some((g) => (g.ticker === null || g.ticker === t) && g.start <= ms && ms < g.end)) stale++;
        expect(c).toBeCloseTo(1 - stale / 100, 12);
        const more = coverageRatio(["A", "B"], [...gaps, { ticker: extra.ticker, start: extra.start, end: extra.start + extra.len, reason: "r" }], 0, 50);
        expect(more).toBeLessThanOrEqual(c + 1e-12);
      }),
    );
  });
});
