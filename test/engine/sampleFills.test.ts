/**
 * The momentum config on the bundled real Kalshi sample (trades only): with
 * the default fill model no resting fill is priced better than its limit,
 * every fill is a maker fill that came after the order's latency, and each
 * came from a print whose taker traded against the order. The legacy
 * trade-print model, run on the same data, does fill better than the limit
 * (the check can see what it is looking for).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { runReplay, type ReplayOutcome } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { loadRunConfig, parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const SAMPLE = join(ROOT, "datasets/sample");
const CONFIG = join(ROOT, "strategies/configs/momentum.json");

// Fills priced better than their order's limit: below it for buys, above it for sells.
const BETTER_THAN_LIMIT = `
  SELECT count(*)::DOUBLE AS n, coalesce(sum(f.contracts), 0)::DOUBLE AS contracts
    FROM fills f JOIN orders o ON o.run_id = f.run_id AND o.order_id = f.order_id
   WHERE f.run_id = $1 AND CASE f.action WHEN 'buy' THEN f.price_units < o.limit_units ELSE f.price_units > o.limit_units END`;

describe("momentum on the real Kalshi sample", () => {
  let db: Db;
  let now: ReplayOutcome;
  let legacy: ReplayOutcome;
  const rows = async (sql: string, runId: string) => (await db.connection.runAndReadAll(sql, [runId])).getRowObjectsJS();

  beforeAll(async () => {
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    const config = loadRunConfig(CONFIG);
    now = await runReplay({ config, datasetDir: SAMPLE, db });
    const old = parseRunConfig({ ...JSON.parse(JSON.stringify(config)), broker: { ...config.broker, fillModel: "trade-print" } }, "legacy");
    legacy = await runReplay({ config: old, datasetDir: SAMPLE, db });
  });
  afterAll(() => db?.close());

  it("has no resting fill priced better than its limit; every fill is a maker fill at the limit, after the order latency", async () => {
    expect(now.fillModel).toBe("print-maker");
    const [n] = await rows(`SELECT count(*)::DOUBLE AS n FROM fills WHERE run_id = $1`, now.runId);
    expect((n as { n: number }).n).toBeGreaterThan(10);
    expect(await rows(BETTER_THAN_LIMIT, now.runId)).toEqual([{ n: 0, contracts: 0 }]);
    const off = await rows(
      `SELECT count(*)::DOUBLE AS n FROM fills f JOIN orders o ON o.run_id = f.run_id AND o.order_id = f.order_id
        WHERE f.run_id = $1 AND (f.liquidity <> 'maker' OR f.price_units <> o.limit_units OR f.ts < o.ts + 500)`,
      now.runId,
    );
    expect(off).toEqual([{ n: 0 }]);
  });

  it("fills only on prints whose taker traded against the order, at or through its price", async () => {
    const trades = join(SAMPLE, "trades.parquet").replaceAll("'", "''");
    // Each fill must have a print at its ts on its ticker that sold into a YES bid / bought from a YES ask at or through our price.
    const unmatched = await rows(
      `SELECT count(*)::DOUBLE AS n FROM fills f
        WHERE f.run_id = $1 AND NOT EXISTS (
          SELECT 1 FROM read_parquet('${trades}') t
           WHERE t.ticker = f.ticker AND t.ts = f.ts AND (
             (((f.side = 'yes') = (f.action = 'buy')) AND t.taker_side = 'no'
               AND round(t.yes_price * 10000) <= CASE f.side WHEN 'yes' THEN f.price_units ELSE 10000 - f.price_units END)
             OR (((f.side = 'yes') <> (f.action = 'buy')) AND t.taker_side = 'yes'
               AND round(t.yes_price * 10000) >= CASE f.side WHEN 'yes' THEN f.price_units ELSE 10000 - f.price_units END)))`,
      now.runId,
    );
    expect(unmatched).toEqual([{ n: 0 }]);
  });

  it("the legacy trade-print model does fill better than the limit on the same data", async () => {
    expect(legacy.fillModel).toBe("trade-print");
    const [better] = (await rows(BETTER_THAN_LIMIT, legacy.runId)) as Array<{ n: number; contracts: number }>;
    expect(better!.contracts).toBeGreaterThan(100);
  });

  it("stores the fill model with the run", async () => {
    expect(await rows(`SELECT fill_model FROM runs WHERE run_id = $1`, now.runId)).toEqual([{ fill_model: "print-maker" }]);
    expect(await rows(`SELECT fill_model FROM runs WHERE run_id = $1`, legacy.runId)).toEqual([{ fill_model: "trade-print" }]);
  });
});
