import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { compareRuns, comparisonMarkdown } from "../../reports/compareRuns.ts";
import { queryRows } from "../../reports/query.ts";
import { buildResultsDb, type Fixture } from "../fixtures/resultsDb.ts";

let dir: string;
let db: Db;
let fixture: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-compare-"));
  fixture = await buildResultsDb(join(dir, "r.duckdb"), { runs: 6, markets: 60, seed: 5 });
  db = await openDb(join(dir, "r.duckdb"), { readOnly: true });
});
afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("compare two runs", () => {
  it("pairs forecasts on the same market and time and matches SQL for both Brier scores and the P&L difference", async () => {
    const c = await compareRuns(db.connection, { runA: "run-002", runB: "run-003", samples: 500, seed: 1 });
    const [sql] = await queryRows(
      db.connection,
      `SELECT count(*) AS n, avg((a.probability - o.y) ^ 2) AS ba, avg((b.probability - o.y) ^ 2) AS bb
       FROM forecasts a JOIN forecasts b USING (ticker, ts)
       JOIN (SELECT DISTINCT ticker, CASE result WHEN 'yes' THEN 1 ELSE 0 END AS y FROM outcomes) o USING (ticker)
       WHERE a.run_id = 'run-002' AND b.run_id = 'run-003' AND NOT a.abstained AND NOT b.abstained`,
    );
    expect(c.pairs).toBe(sql!["n"]);
    expect(c.brierA).toBeCloseTo(sql!["ba"] as number, 12);
    expect(c.brierB).toBeCloseTo(sql!["bb"] as number, 12);
    expect(c.brierDiff.estimate).toBeCloseTo(c.brierA - c.brierB, 12);
    expect(c.brierDiff.lower).toBeLessThanOrEqual(c.brierDiff.estimate);
    expect(c.brierDiff.upper).toBeGreaterThanOrEqual(c.brierDiff.estimate);
    const pnl = await queryRows(db.connection, "SELECT run_id, value FROM metrics WHERE model = '*' AND metric = 'pnl_usd' AND run_id IN ('run-002', 'run-003') ORDER BY run_id");
    expect(c.pnlDiff).toBeCloseTo((pnl[0]!["value"] as number) - (pnl[1]!["value"] as number), 9);
    expect(comparisonMarkdown(c)).toMatch(/\| Brier \| /);
  });

  it("is deterministic in its seed and finds the sharper model better than the noisy one", async () => {
    // run-002 is deepseek (noise 0.12), run-004 the tiny local model (noise 0.30).
    const a = await compareRuns(db.connection, { runA: "run-002", runB: "run-004", samples: 1000, seed: 9 });
    const b = await compareRuns(db.connection, { runA: "run-002", runB: "run-004", samples: 1000, seed: 9 });
    expect(a).toEqual(b);
    expect(a.brierDiff.upper).toBeLessThan(0);
  });

  it("refuses a run with several models unless one is named, and names the models", async () => {
    // The consensus run holds three members and their pool: consensus is the default.
    const c = await compareRuns(db.connection, { runA: fixture.consensusRunId, runB: "run-002", samples: 200, seed: 1 });
    expect(c.modelA).toBe("consensus");
    await expect(compareRuns(db.connection, { runA: "run-002", runB: "run-003", modelA: "gpt-9", samples: 10, seed: 1 })).rejects.toThrow(
      /run run-002 has no forecasts by model gpt-9; it has: openrouter\/deepseek-chat/,
    );
    await expect(compareRuns(db.connection, { runA: "nope", runB: "run-003", samples: 10, seed: 1 })).rejects.toThrow(/run nope has no forecasts/);
  });
});
