import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { queryRows, type Row } from "../../reports/query.ts";
import { bestModelPerCategory } from "../../notebooks/bestModelPerCategory.ts";
import { calibrationByTimeToClose } from "../../notebooks/calibrationByTimeToClose.ts";
import { costPerSignalVsEdge } from "../../notebooks/costPerSignalVsEdge.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";

let dir: string;
let dbPath: string;

async function sql(q: string): Promise<Row[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await queryRows(db.connection, q);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-notebooks-"));
  dbPath = join(dir, "r.duckdb");
  await buildResultsDb(dbPath, { runs: 5, markets: 30, forecastsPerMarket: 30, seed: 2 });
  // A position still open when run-002's data ended: its marked P&L counts as the run's pnl_usd counts it.
  const db = await openDb(dbPath);
  await db.connection.run(`INSERT INTO open_positions (run_id, ts, ticker, yes_contracts, no_contracts, cost_units, mark_units, pnl_units, ev)
    VALUES ('run-002', 1, 'OPEN-1', 10, 0, 50000, 20000, -30000, 1)`);
  db.close();
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("notebooks", () => {
  it("best model per category: arquero's Brier per category and model equals SQL, one best per category", async () => {
    const out = await bestModelPerCategory({ dbPath, outDir: join(dir, "a") });
    const expected = await sql(`SELECT o.category, f.model, avg((f.probability - CASE o.result WHEN 'yes' THEN 1 ELSE 0 END) ^ 2) AS brier
      FROM forecasts f JOIN outcomes o USING (run_id, ticker) WHERE NOT f.abstained GROUP BY ALL`);
    expect(out.rows).toHaveLength(expected.length);
    for (const e of expected) {
      const got = out.rows.find((r) => r["category"] === e["category"] && r["model"] === e["model"])!;
      expect(got["brier"] as number).toBeCloseTo(e["brier"] as number, 12);
    }
    expect(out.rows.filter((r) => r["best"]).map((r) => r["category"]).sort()).toEqual(["Crypto", "Politics", "Sports"]);
    for (const f of out.chartFiles) expect(existsSync(f)).toBe(true);
  });

  it("calibration by time to close: buckets hold every forecast exactly once", async () => {
    const out = await calibrationByTimeToClose({ dbPath, outDir: join(dir, "b") });
    const [n] = await sql("SELECT count(*) AS n FROM forecasts WHERE NOT abstained");
    expect(out.rows.reduce((s, r) => s + (r["n"] as number), 0)).toBe(n!["n"]);
    // 30 hourly forecasts per market, 30 h down to 1 h before close: nothing falls under an hour.
    expect(new Set(out.rows.map((r) => r["bucket_label"]))).toEqual(new Set(["1–6 h", "6–24 h", "≥ 24 h"]));
  });

  it("cost per signal vs edge: one row per run that signalled, figures from the raw tables", async () => {
    const out = await costPerSignalVsEdge({ dbPath, outDir: join(dir, "c") });
    const expected = await sql(`SELECT d.run_id, count(*) AS signals FROM decisions d WHERE action <> 'hold' GROUP BY ALL ORDER BY run_id`);
    expect(out.rows.map((r) => r["run_id"]).sort()).toEqual(expected.map((e) => e["run_id"]));
    const row = out.rows.find((r) => r["run_id"] === "run-002")!;
    const [calc] = await sql(`SELECT (SELECT sum(cost_nusd) FROM llm_calls WHERE run_id = 'run-002') / 1e9 / (SELECT count(*) FROM decisions WHERE run_id = 'run-002' AND action <> 'hold') AS c`);
    expect(row["cost_per_signal_usd"] as number).toBeCloseTo(calc!["c"] as number, 12);
    const [pnl] = await sql(`SELECT ((SELECT coalesce(sum(pnl_units), 0) FROM settlements WHERE run_id = 'run-002') - 30000) / 1e4
      / (SELECT count(*) FROM decisions WHERE run_id = 'run-002' AND action <> 'hold') AS p`);
    expect(row["pnl_per_signal_usd"] as number).toBeCloseTo(pnl!["p"] as number, 12);
  });
});
