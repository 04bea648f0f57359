/**
 * Merging a result shard into the results DB exactly once. The shard's rows
 * (every run table, filtered to its run) and a merged_shards ledger row go in
 * one DuckDB transaction: a merge killed half-way (kill -9) leaves nothing
 * (the transaction never committed), and a merge of a shard already in the
 * ledger adds nothing. So a coordinator restarted at any point merges every
 * shard once: no duplicate row, no missing one.
 */
import { sqlString, type Db } from "../db/duckdb.ts";
import { RUN_TABLES } from "../replay/runSweep.ts";

export interface ShardToMerge {
  /** The ledger key: the sweep job id. */
  shardId: string;
  sweepId: string;
  runId: string;
  /** The shard's DuckDB file. */
  path: string;
}

export interface MergeOutcome {
  /** False when the ledger already had it (nothing was written). */
  merged: boolean;
  rows: number;
  ms: number;
}

export interface MergeHooks {
  /** Fault injection for tests: runs inside the transaction after each table's rows are in. */
  afterTable?: (table: string, tablesDone: number) => Promise<void>;
}

export async function isMerged(db: Db, shardId: string): Promise<boolean> {
  const reader = await db.connection.runAndReadAll(`SELECT 1 FROM merged_shards WHERE shard_id = $1`, [shardId]);
  return reader.currentRowCount > 0;
}

/** Merges one shard; the caller merges one at a time per connection (each ATTACHes under one name). */
export async function mergeShard(db: Db, shard: ShardToMerge, hooks: MergeHooks = {}): Promise<MergeOutcome> {
  const started = performance.now();
  const c = db.connection;
  if (await isMerged(db, shard.shardId)) return { merged: false, rows: 0, ms: performance.now() - started };
  await c.run(`ATTACH ${sqlString(shard.path)} AS shard_db (READ_ONLY)`);
  try {
    await c.run("BEGIN TRANSACTION");
    try {
      // Checked again inside the transaction: another coordinator may have merged it meanwhile (the commit would then conflict on the key).
      if (await isMerged(db, shard.shardId)) {
        await c.run("ROLLBACK");
        return { merged: false, rows: 0, ms: performance.now() - started };
      }
      let rows = 0;
      let done = 0;
      for (const table of RUN_TABLES) {
        const reader = await c.runAndReadAll(`INSERT INTO ${table} SELECT * FROM shard_db.${table} WHERE run_id = $1`, [shard.runId]);
        rows += Number(reader.getRows()[0]?.[0] ?? 0);
        done += 1;
        await hooks.afterTable?.(table, done);
      }
      await c.run(`INSERT INTO merged_shards VALUES ($1, $2, $3, $4, $5)`, [shard.shardId, shard.sweepId, shard.runId, rows, Date.now()]);
      await c.run("COMMIT");
      return { merged: true, rows, ms: performance.now() - started };
    } catch (error) {
      await c.run("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await c.run(`DETACH shard_db`);
  }
}
