/**
 * A decision-only variant's job borrows its leader's forecasts into its
 * shard. An earlier attempt that failed before writing its run row leaves
 * them there; the next attempt must not borrow them a second time (each
 * forecast would be re-decided twice): its run is the same as a clean one's.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSyntheticDataset } from "../../harness/bench/syntheticDataset.ts";
import { sqlString } from "../../harness/db/duckdb.ts";
import { runShard } from "../../harness/queue/shardRun.ts";
import type { ReplayJobData } from "../../harness/queue/sweepJobs.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

describe("a variant job's shard", () => {
  it("borrows the leader's forecasts once, even over what a failed attempt left", async () => {
    const dir = tempDir("tapedeck-variant-shard-");
    const dataset = await buildSyntheticDataset(dir, { events: 1_200, markets: 3, stepMs: 60_000, tradeShare: 0.3 });
    const base = { name: "v", strategy: { kind: "momentum" }, risk: { minVolume: 0, minConfidence: 0 }, metrics: { bootstrapSamples: 10 } };
    const leaderDb = await DuckDbStore.open(join(dir, "leader.duckdb"));
    const leader = await runReplay({ config: parseRunConfig(base), datasetDir: dataset, db: leaderDb });
    const parquet = join(dir, "leader.forecasts.parquet");
    await leaderDb.connection.run(`COPY (SELECT * FROM forecasts WHERE run_id = ${sqlString(leader.runId)} ORDER BY seq) TO ${sqlString(parquet)} (FORMAT parquet)`);
    const leaderForecasts = Number((await leaderDb.connection.runAndReadAll(`SELECT count(*) FROM forecasts WHERE run_id = $1`, [leader.runId])).getRows()[0]![0]);
    leaderDb.close();
    expect(leaderForecasts).toBeGreaterThan(0);

    const job: ReplayJobData = {
      kind: "replay",
      sweepId: "sw-variant",
      index: 1,
      label: "risk.kellyFraction=0.1",
      role: "variant",
      config: { ...base, risk: { ...base.risk, kellyFraction: 0.1 } },
      datasetDir: dataset,
      checkpointEvery: 500,
      exportForecasts: false,
      leader: { runId: leader.runId, forecastsParquet: parquet },
      sweepNusd: null,
      cacheMode: "on",
    };
    const input = (shard: string) => ({ job, shard, queueUrl: "redis://127.0.0.1:1", worker: "t" });
    const clean = await runShard(input(join(dir, "clean.duckdb")), () => {});

    // A failed attempt: the leader's forecasts borrowed, no run row written.
    const leftover = join(dir, "retried.duckdb");
    const failed = await DuckDbStore.open(leftover);
    await failed.connection.run(`INSERT INTO forecasts SELECT * FROM read_parquet(${sqlString(parquet)})`);
    failed.close();
    const retried = await runShard(input(leftover), () => {});

    expect(retried.status).toBe("completed");
    expect(retried.digest).toBe(clean.digest);
    const shard = await DuckDbStore.open(leftover);
    try {
      const count = async (sql: string, id: string) => Number((await shard.connection.runAndReadAll(sql, [id])).getRows()[0]![0]);
      expect(await count(`SELECT count(*) FROM forecasts WHERE run_id = $1`, leader.runId)).toBe(0);
      expect(await count(`SELECT count(*) FROM forecasts WHERE run_id = $1`, retried.runId)).toBe(leaderForecasts);
    } finally {
      shard.close();
    }
  });
});
