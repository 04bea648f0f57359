/** A report never mixes two contents of one dataset name (a re-import between runs) unless asked. */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { RunSelectionError, selectRuns } from "../../reports/selectRuns.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

describe("dataset versions in one report", () => {
  let db: Db;
  beforeAll(async () => {
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    const add = (id: string, hash: string | null, at: number) =>
      db.connection.run(
        `INSERT INTO runs (run_id, kind, label, config_hash, config_json, dataset_name, dataset_hash, status, started_at) VALUES ($1, 'replay', $1, 'c', '{}', 'sample', $2, 'completed', $3)`,
        [id, hash, at],
      );
    await add("old-1", "a".repeat(64), 1);
    await add("old-2", "a".repeat(64), 2);
    await add("new-1", "b".repeat(64), 3);
    await add("paper-1", null, 4);
  });
  afterAll(() => db.close());

  it("refuses runs of one name with different contents, naming the versions; one version (or --mix-datasets) is fine", async () => {
    await expect(selectRuns(db.connection, {})).rejects.toThrow(RunSelectionError);
    await expect(selectRuns(db.connection, {})).rejects.toThrow(/dataset sample in 2 versions \(aaaaaaaaaaaa…: 2 runs, bbbbbbbbbbbb…: 1 run\)/);
    expect((await selectRuns(db.connection, { runIds: ["old-1", "old-2", "paper-1"] })).map((r) => r.runId)).toEqual(["old-1", "old-2", "paper-1"]);
    expect(await selectRuns(db.connection, { mixDatasets: true })).toHaveLength(4);
  });
});
