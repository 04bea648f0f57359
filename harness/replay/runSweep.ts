/**
 * `tapedeck sweep`: runs every variant of a grid as its own run. Group
 * leaders (one per distinct forecasting setup) replay in this process,
 * concurrently, sharing one model stack per router and cache config
 * (modelStack.ts SharedModels: one router, so each endpoint's concurrency
 * and rate limits hold across the sweep; one budget; one cache, or a
 * sweep-lifetime in-memory exact memo when the config has none, so a
 * prompt several leaders make goes to the provider once); the other variants of a
 * group re-decide their leader's stored forecasts in worker threads, in
 * parallel up to the number of cores, each into a scratch results DB that
 * is merged into the main one. So a model is asked once per forecast, not
 * once per variant.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import PQueue from "p-queue";
import { sqlString, type Db } from "../db/duckdb.ts";
import type { CacheMode } from "../cache/cacheMode.ts";
import { buildSharedModels, sharedModelsKey, type SharedModels } from "./modelStack.ts";
import { runReplay, type ReplayOutcome } from "./runReplay.ts";
import { groupByForecasts, type Variant } from "./sweepPlan.ts";
import type { SweepWorkerInput } from "./sweepWorker.ts";

/** Tables holding a run's rows, merged from a worker's scratch DB. */
export const RUN_TABLES = ["runs", "prompts", "forecasts", "decisions", "orders", "fills", "settlements", "open_positions", "outcomes", "market_events", "equity", "metrics", "calibration_bins", "llm_calls", "llm_transcripts"] as const;

export interface SweepOptions {
  variants: readonly Variant[];
  datasetDir: string;
  db: Db;
  concurrency?: number;
  onProgress?: (events: number) => void;
  /** `--cache`: how the leaders use the configs' response cache (cacheMode.ts). */
  cacheMode?: CacheMode;
}

export interface SweepOutcome {
  sweepId: string;
  wallMs: number;
  variants: Array<{ variant: Variant; outcome: ReplayOutcome; reusedFrom: string | null }>;
}

export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const started = performance.now();
  const sweepId = `sweep-${randomBytes(3).toString("hex")}`;
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const groups = groupByForecasts(options.variants);
  const scratch = mkdtempSync(join(tmpdir(), "tapedeck-sweep-"));
  const progress = new Map<number, number>();
  const report = (index: number, events: number) => {
    progress.set(index, events);
    options.onProgress?.([...progress.values()].reduce((a, b) => a + b, 0));
  };
  const results: SweepOutcome["variants"] = [];
  const forecastsFile = (runId: string) => join(scratch, `${runId}-forecasts.parquet`);
  /** One model stack per distinct router + cache config among the leaders; null where it could not be built. */
  const stacks = new Map<string, Promise<SharedModels | null>>();
  const sharedFor = (config: Variant["config"]): Promise<SharedModels | null> => {
    let key: string | null;
    try {
      key = sharedModelsKey(config);
    } catch {
      key = null; // an unreadable router file: the leader's own run reports it
    }
    if (key === null) return Promise.resolve(null);
    let stack = stacks.get(key);
    if (!stack) {
      // A stack that cannot be built (a missing key, a bad cache path): the leader builds its own and its run records the error, as it would alone.
      stack = buildSharedModels(config, options.cacheMode ? { cacheMode: options.cacheMode } : {}).catch(() => null);
      stacks.set(key, stack);
    }
    return stack;
  };
  try {
    // Phase 1: leaders call the models (concurrently: their time goes into model calls and DuckDB, not this thread).
    const leaders = new PQueue({ concurrency });
    const leaderOutcomes = new Map<number, ReplayOutcome>();
    // Settled, not raced: the shared stacks close only once no leader can still be using them.
    const ran = await Promise.allSettled(
      groups.map((group) =>
        leaders.add(async () => {
          const leader = group[0]!;
          // A connection per concurrent run: one DuckDB connection runs one statement at a time.
          const connection = await options.db.instance.connect();
          const db: Db = { instance: options.db.instance, connection, close: () => connection.closeSync() };
          let outcome: ReplayOutcome;
          try {
            const models = await sharedFor(leader.config);
            outcome = await runReplay({
              ...(models ? { models } : {}),
              config: leader.config,
              datasetDir: options.datasetDir,
              db,
              kind: "sweep",
              label: `${sweepId}:${leader.label || "base"}`,
              ...(options.cacheMode ? { cacheMode: options.cacheMode } : {}),
              onProgress: (p) => report(leader.index, p.events),
            });
          } finally {
            db.close();
          }
          leaderOutcomes.set(leader.index, outcome);
          results.push({ variant: leader, outcome, reusedFrom: null });
          if (group.length > 1) {
            await options.db.connection.run(
              `COPY (SELECT * FROM forecasts WHERE run_id = ${sqlString(outcome.runId)} ORDER BY seq) TO ${sqlString(forecastsFile(outcome.runId))} (FORMAT parquet)`,
            );
          }
        }),
      ),
    );
    await closeStacks(stacks.values());
    const failed = ran.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;

    // Phase 2: the rest re-decide their leader's forecasts in worker threads.
    const workers = new PQueue({ concurrency });
    const merges = new PQueue({ concurrency: 1 });
    await Promise.all(
      groups.flatMap((group) => {
        const leaderRun = leaderOutcomes.get(group[0]!.index)!.runId;
        return group.slice(1).map((variant) =>
          workers.add(async () => {
            const dbPath = join(scratch, `variant-${variant.index}.duckdb`);
            const outcome = await inWorker(
              {
                configJson: variant.config,
                datasetDir: options.datasetDir,
                leaderRunId: leaderRun,
                forecastsParquet: forecastsFile(leaderRun),
                dbPath,
                label: `${sweepId}:${variant.label || "base"}`,
              },
              (events) => report(variant.index, events),
            );
            // One merge at a time: each ATTACHes a scratch DB under the same name.
            await merges.add(() => mergeRun(options.db, dbPath, outcome.runId));
            results.push({ variant, outcome, reusedFrom: leaderRun });
          }),
        );
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  results.sort((a, b) => a.variant.index - b.variant.index);
  return { sweepId, wallMs: performance.now() - started, variants: results };
}

/** Closes every shared stack, each even when another fails to close; the first failure is thrown. */
async function closeStacks(stacks: Iterable<Promise<SharedModels | null>>): Promise<void> {
  const closed = await Promise.allSettled([...stacks].map(async (s) => (await s)?.close()));
  const failed = closed.find((c): c is PromiseRejectedResult => c.status === "rejected");
  if (failed) throw failed.reason;
}

function inWorker(input: SweepWorkerInput, onEvents: (events: number) => void): Promise<ReplayOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./sweepWorker.mjs", import.meta.url), { workerData: input });
    worker.on("message", (m: { type: "progress"; events: number } | { type: "done"; outcome: ReplayOutcome }) => {
      if (m.type === "progress") onEvents(m.events);
      else resolve(m.outcome);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`sweep worker for ${input.label} exited with code ${code}`));
    });
  });
}

async function mergeRun(db: Db, scratchDb: string, runId: string): Promise<void> {
  const c = db.connection;
  await c.run(`ATTACH ${sqlString(scratchDb)} AS variant_db (READ_ONLY)`);
  try {
    // All tables or none: a merge that fails half-way must not leave a completed run row with some of its rows.
    await c.run("BEGIN TRANSACTION");
    try {
      for (const table of RUN_TABLES) {
        await c.run(`INSERT INTO ${table} SELECT * FROM variant_db.${table} WHERE run_id = ${sqlString(runId)}`);
      }
      await c.run("COMMIT");
    } catch (error) {
      await c.run("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await c.run(`DETACH variant_db`);
  }
}
