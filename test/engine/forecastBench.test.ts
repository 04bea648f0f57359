/**
 * ForecastBench questions replay like markets: the market baseline is the
 * freeze value (the quote's last price), scored on exactly the resolved
 * questions, and agrees with SQL over the imported dataset.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlString, type Db } from "../../harness/db/duckdb.ts";
import { runReplay, type ReplayOutcome } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { importForecastBench } from "../../datasets/importers/forecastbench.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/datasets/forecastbench");

describe("a ForecastBench question set as a dataset", () => {
  let db: Db;
  let out: ReplayOutcome;
  let dataset: string;
  beforeAll(async () => {
    const dir = tempDir();
    dataset = join(dir, "fb");
    await importForecastBench(join(FIXTURES, "2025-10-26-llm.json"), join(FIXTURES, "2025-10-26_resolution_set.json"), dataset);
    db = await DuckDbStore.open(join(dir, "results.duckdb"));
    out = await runReplay({ config: parseRunConfig({ strategy: { kind: "market" } }), datasetDir: dataset, db });
  });
  afterAll(() => db?.close());

  it("scores the freeze value on the resolved questions only, as SQL does", async () => {
    const reader = await db.connection.runAndReadAll(
      `SELECT count(*)::DOUBLE AS n, avg(power(q.last_price - CASE m.result WHEN 'yes' THEN 1 ELSE 0 END, 2)) AS brier
         FROM read_parquet(${sqlString(join(dataset, "quotes.parquet"))}) q JOIN read_parquet(${sqlString(join(dataset, "markets.parquet"))}) m USING (ticker)
        WHERE m.result IN ('yes', 'no')`,
    );
    const sql = reader.getRowObjectsJS()[0] as { n: number; brier: number };
    const metric = (name: string) => out.metrics.find((m) => m.model === "market" && m.metric === name)!.value!;
    expect(sql.n).toBeGreaterThan(0);
    expect(metric("scored")).toBe(sql.n);
    expect(Math.abs(metric("brier") - sql.brier)).toBeLessThan(1e-12);
  });
});
