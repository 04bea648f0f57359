/**
 * A result shard is merged into the results DB exactly once: a merge that
 * fails half-way (here: an error thrown inside the transaction after three
 * tables; the kill -9 case is in distributedSweep.test.ts) leaves no row and
 * no ledger entry, the next merge brings every row, and merging again adds
 * nothing.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSyntheticDataset } from "../../harness/bench/syntheticDataset.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { mergeShard } from "../../harness/queue/shardMerge.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { RUN_TABLES } from "../../harness/replay/runSweep.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

async function counts(db: Db, runId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of RUN_TABLES) out[t] = Number((await db.connection.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${t} WHERE run_id = $1`, [runId])).getRows()[0]![0]);
  return out;
}

describe("merging a result shard", () => {
  it("is all or nothing, and once", async () => {
    const dir = tempDir("tapedeck-merge-");
    const dataset = await buildSyntheticDataset(dir, { events: 1_500, markets: 3, stepMs: 60_000, tradeShare: 0.3 });
    const shardPath = join(dir, "shard.duckdb");
    const shard = await DuckDbStore.open(shardPath);
    const config = parseRunConfig({ name: "merge", strategy: { kind: "momentum" }, risk: { minVolume: 0, minConfidence: 0 }, metrics: { bootstrapSamples: 10 } });
    const run = await runReplay({ config, datasetDir: dataset, db: shard });
    const expected = await counts(shard, run.runId);
    shard.close();
    expect(expected["decisions"]).toBeGreaterThan(0);
    expect(expected["runs"]).toBe(1);

    const results = await DuckDbStore.open(join(dir, "results.duckdb"));
    try {
      const target = { shardId: "sw-x.abc", sweepId: "sw-x", runId: run.runId, path: shardPath };
      await expect(
        mergeShard(results, target, {
          afterTable: async (table, done) => {
            if (done === 3) throw new Error(`failed after ${table}`);
          },
        }),
      ).rejects.toThrow(/failed after/);
      expect(Object.values(await counts(results, run.runId)).every((n) => n === 0)).toBe(true);
      expect(Number((await results.connection.runAndReadAll(`SELECT count(*)::DOUBLE FROM merged_shards`)).getRows()[0]![0])).toBe(0);

      const merged = await mergeShard(results, target);
      expect(merged.merged).toBe(true);
      expect(merged.rows).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
      expect(await counts(results, run.runId)).toEqual(expected);

      expect((await mergeShard(results, target)).merged).toBe(false);
      expect(await counts(results, run.runId)).toEqual(expected);
    } finally {
      results.close();
    }
  });
});
