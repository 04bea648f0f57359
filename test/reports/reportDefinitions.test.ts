/**
 * The report's raw-row figures (used under --category/--series, and for runs
 * without stored metrics) follow the same definitions as the run's own
 * metrics: accuracy counts a forecast of exactly 0.5 half right, reliability
 * bins follow binIndex's exact edges, and P&L counts positions still open at
 * the end of the data at their mark, as runMetrics does.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../harness/db/duckdb.ts";
import { binIndex } from "../../harness/metrics/calibration.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { queryRows } from "../../reports/query.ts";
import { binSql, loadReportData } from "../../reports/reportData.ts";
import type { SelectedRun } from "../../reports/selectRuns.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

let db: Db;
const run: SelectedRun = {
  runId: "r1",
  label: "r1",
  kind: "replay",
  status: "completed",
  parentRunId: null,
  configJson: "{}",
  startedAt: 1,
  execution: null,
  datasetName: "tiny",
};

beforeAll(async () => {
  db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  const c = db.connection;
  await c.run(`INSERT INTO runs (run_id, kind, label, config_hash, config_json, dataset_name, status, started_at) VALUES ('r1', 'replay', 'r1', 'x', '{}', 'tiny', 'completed', 1)`);
  // Two settled Sports markets: a 0.5 forecast on a NO market, a 0.8999999999999999 one on a YES market.
  await c.run(`INSERT INTO outcomes (run_id, ticker, category, close_time, settle_ts, result, ev) VALUES
      ('r1', 'KXA-1', 'Sports', 10, 10, 'no', 1), ('r1', 'KXB-1', 'Sports', 10, 10, 'yes', 2)`);
  await c.run(`INSERT INTO forecasts (run_id, seq, ts, ticker, model, probability, confidence, market_price, abstained, ev) VALUES
      ('r1', 0, 1, 'KXA-1', 'm', 0.5, 0, 0.4, false, 0), ('r1', 1, 1, 'KXB-1', 'm', 0.8999999999999999, 0, 0.6, false, 0)`);
  // One settled position (+$1.00) and one still open at the end of the data (marked: −$0.25).
  await c.run(`INSERT INTO settlements (run_id, ts, ticker, result, yes_contracts, no_contracts, cost_units, payout_units, pnl_units, ev) VALUES
      ('r1', 10, 'KXB-1', 'yes', 2, 0, 10000, 20000, 10000, 2)`);
  await c.run(`INSERT INTO open_positions (run_id, ts, ticker, yes_contracts, no_contracts, cost_units, mark_units, pnl_units, ev) VALUES
      ('r1', 10, 'KXC-1', 1, 0, 5000, 2500, -2500, 3)`);
});

afterAll(() => db?.close());

describe("the report's raw-row definitions", () => {
  it("bins as binIndex does, at the double edges (0.8999999999999999 is in bin 8, 0.9 in 9, 1 in 9)", async () => {
    const ps = [0, 0.1, 0.29999999999999993, 0.3, 0.8999999999999999, 0.9, 0.95, 0.9999999999999999, 1];
    const [row] = await queryRows(db.connection, `SELECT ${ps.map((p, i) => `${binSql(`${p}::DOUBLE`, 10)} AS b${i}`).join(", ")}`);
    expect(ps.map((_, i) => row![`b${i}`])).toEqual(ps.map((p) => binIndex(p, 10)));
    expect(binIndex(0.8999999999999999, 10)).toBe(8);
  });

  it("under a category filter: accuracy counts 0.5 half right and the reliability bins use the exact edges", async () => {
    const data = await loadReportData(db.connection, [run], { markets: { category: "Sports" } });
    const board = data.leaderboard.find((r) => r.model === "m")!;
    // 0.5 on NO: half right; 0.9 on YES: right → 0.75 (>= 0.5 as a YES call would give 0.5).
    expect(board.values["accuracy"]).toBe(0.75);
    expect(data.reliability.map((r) => [r["bin"], Number(r["n"])])).toEqual([
      [5, 1],
      [8, 1],
    ]);
  });

  it("without stored metrics, P&L counts open positions at their mark as well as settlements", async () => {
    const data = await loadReportData(db.connection, [run]);
    const row = data.leaderboard.find((r) => r.model === "m")!;
    expect(row.values["pnl_usd"]).toBe(0.75);
  });
});
