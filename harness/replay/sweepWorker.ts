/**
 * One sweep variant that re-decides its group leader's forecasts, in a
 * worker thread. DuckDB files take one writer at a time, so the worker runs
 * into a results DB of its own, seeded with the leader's forecasts; the
 * sweep merges its rows into the main DB afterwards.
 */
import { parentPort, workerData } from "node:worker_threads";
import { sqlString } from "../db/duckdb.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { runReplay } from "./runReplay.ts";

export interface SweepWorkerInput {
  configJson: unknown;
  datasetDir: string;
  leaderRunId: string;
  forecastsParquet: string;
  dbPath: string;
  label: string;
}

const input = workerData as SweepWorkerInput;
const db = await DuckDbStore.open(input.dbPath);
try {
  await db.connection.run(`INSERT INTO forecasts SELECT * FROM read_parquet(${sqlString(input.forecastsParquet)})`);
  const outcome = await runReplay({
    config: parseRunConfig(input.configJson),
    datasetDir: input.datasetDir,
    db,
    kind: "sweep",
    label: input.label,
    parentRunId: input.leaderRunId,
    redecideFrom: input.leaderRunId,
    onProgress: (p) => parentPort?.postMessage({ type: "progress", events: p.events }),
  });
  // The leader's forecasts were only borrowed: they stay under the leader's run id in the main DB.
  await db.connection.run(`DELETE FROM forecasts WHERE run_id = $1`, [input.leaderRunId]);
  parentPort?.postMessage({ type: "done", outcome });
} finally {
  db.close();
}
