/**
 * The market baseline's Brier score from a replay of the bundled real Kalshi
 * sample agrees with an independent computation: DuckDB SQL over the
 * dataset's own Parquet files (the last print at or before each decision
 * time, by ASOF join, against the market's recorded result).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlString, type Db } from "../../harness/db/duckdb.ts";
import { runReplay, type ReplayOutcome } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { loadRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const SAMPLE = join(ROOT, "datasets/sample");

describe("market Brier on the real Kalshi sample", () => {
  let db: Db;
  let outcome: ReplayOutcome;

  beforeAll(async () => {
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    outcome = await runReplay({ config: loadRunConfig(join(ROOT, "strategies/configs/market.json")), datasetDir: SAMPLE, db });
  });
  afterAll(() => db?.close());

  it("matches SQL over the dataset to 1e-12", async () => {
    const engine = outcome.metrics.find((m) => m.model === "market" && m.metric === "brier")!.value!;
    const trades = sqlString(join(SAMPLE, "trades.parquet"));
    const markets = sqlString(join(SAMPLE, "markets.parquet"));
    const reader = await db.connection.runAndReadAll(
      `WITH last_at_ts AS (
         -- several prints can share a millisecond: replay order is (ts, ticker, trade_id), so the last is the max trade_id
         SELECT ticker, ts, arg_max(yes_price, trade_id) AS price FROM read_parquet(${trades}) GROUP BY ticker, ts
       ),
       priced AS (
         SELECT f.ticker, round(p.price * 10000) / 10000 AS price, m.result
           FROM forecasts f
           ASOF JOIN last_at_ts p ON p.ticker = f.ticker AND f.ts >= p.ts
           JOIN read_parquet(${markets}) m ON m.ticker = f.ticker
          WHERE f.run_id = $1 AND m.result IN ('yes', 'no')
       )
       SELECT avg(power(price - CASE result WHEN 'yes' THEN 1 ELSE 0 END, 2)) AS brier, count(*)::DOUBLE AS n FROM priced`,
      [outcome.runId],
    );
    const sql = reader.getRowObjectsJS()[0] as { brier: number; n: number };
    const scored = outcome.metrics.find((m) => m.model === "market" && m.metric === "scored")!.value!;
    expect(sql.n).toBe(scored);
    expect(scored).toBeGreaterThan(100);
    expect(Math.abs(engine - sql.brier)).toBeLessThan(1e-12);
    // The market is scored against itself: skill 0 exactly, and it never trades after fees.
    expect(outcome.metrics.find((m) => m.model === "market" && m.metric === "brier_skill")!.value).toBe(0);
    expect(outcome.metrics.find((m) => m.model === "*" && m.metric === "trades")!.value).toBe(0);
  });
});
