/**
 * Intervals resample whole events: the markets of one Kalshi event are
 * mutually exclusive (one YES, the rest NO), so a model that reads an event
 * well is right on all its markets at once. Resampling markets as if they
 * were independent draws understates the spread; by event it does not.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { computeRunMetrics } from "../../harness/results/runMetrics.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { compareRuns } from "../../reports/compareRuns.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const EVENTS = 12;
const MARKETS = 4;

describe("bootstrap by event on mutually exclusive markets", () => {
  let db: Db;
  beforeAll(async () => {
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    const c = db.connection;
    const forecasts: string[] = [];
    const outcomes: string[] = [];
    const events: string[] = [];
    for (let e = 0; e < EVENTS; e++) {
      for (let m = 0; m < MARKETS; m++) {
        const ticker = `EV${e}-M${m}`;
        const yes = m === e % MARKETS; // exactly one market of each event resolves YES
        // Run A reads even events well (0.1 off on every market) and odd events badly (0.9 off); run B is 0.4 off everywhere.
        const good = e % 2 === 0;
        const pa = good ? (yes ? 0.9 : 0.1) : yes ? 0.1 : 0.9;
        const pb = yes ? 0.6 : 0.4;
        forecasts.push(`('A', ${e * MARKETS + m}, 0, '${ticker}', 'm', ${pa}, false)`, `('B', ${e * MARKETS + m}, 0, '${ticker}', 'm', ${pb}, false)`);
        for (const run of ["A", "B"]) outcomes.push(`('${run}', '${ticker}', 0, 1, '${yes ? "yes" : "no"}')`);
        events.push(`('A', '${ticker}', 'EV${e}')`);
      }
    }
    for (const run of ["A", "B"]) {
      await c.run(`INSERT INTO runs (run_id, kind, config_hash, config_json, status, started_at) VALUES ('${run}', 'replay', 'h', '{}', 'completed', 0)`);
    }
    await c.run(`INSERT INTO forecasts (run_id, seq, ts, ticker, model, probability, abstained) VALUES ${forecasts.join(", ")}`);
    await c.run(`INSERT INTO outcomes (run_id, ticker, close_time, settle_ts, result) VALUES ${outcomes.join(", ")}`);
    await c.run(`INSERT INTO market_events VALUES ${events.join(", ")}`);
  });
  afterAll(() => db?.close());

  const width = (i: { lower: number; upper: number }) => i.upper - i.lower;
  const withoutEvents = async <T>(f: () => Promise<T>): Promise<T> => {
    await db.connection.run(`CREATE OR REPLACE TEMP TABLE saved AS SELECT * FROM market_events`);
    await db.connection.run(`DELETE FROM market_events`);
    try {
      return await f();
    } finally {
      await db.connection.run(`INSERT INTO market_events SELECT * FROM saved`);
    }
  };

  it("compare: the paired interval over 12 events is wider than the one over 48 markets taken as independent", async () => {
    const opts = { runA: "A", runB: "B", samples: 2000, seed: 7 };
    const byEvent = await compareRuns(db.connection, opts);
    const byMarket = await withoutEvents(() => compareRuns(db.connection, opts));
    expect(byEvent.events).toBe(EVENTS);
    expect(byMarket.events).toBe(EVENTS * MARKETS); // no event recorded: each ticker is its own event
    expect(byEvent.brierDiff.estimate).toBeCloseTo(byMarket.brierDiff.estimate, 15);
    // Four markets per event that move together: about √4 = 2× wider (checked at 1.5× to leave room for resampling noise).
    expect(width(byEvent.brierDiff)).toBeGreaterThan(1.5 * width(byMarket.brierDiff));
  });

  it("run metrics: the Brier interval resamples events too", async () => {
    const options = { bins: 10, bootstrap: { samples: 2000, seed: 7 }, bankrollUnits: 10_000_000 };
    const brier = (m: Awaited<ReturnType<typeof computeRunMetrics>>) => m.metrics.find((r) => r.model === "m" && r.metric === "brier")!;
    const byEvent = brier(await computeRunMetrics(db.connection, "A", options));
    const byMarket = brier(await withoutEvents(() => computeRunMetrics(db.connection, "A", options)));
    expect(byEvent.value).toBeCloseTo(byMarket.value!, 15);
    expect(byEvent.hi! - byEvent.lo!).toBeGreaterThan(1.5 * (byMarket.hi! - byMarket.lo!));
  });
});
