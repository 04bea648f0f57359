/**
 * Notebooks on the command line (issue 13, friction 9): --help explains,
 * bad arguments get one line and exit 2 (no stack trace), and only completed
 * runs are pooled unless --runs names some.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { bestModelPerCategory } from "../../notebooks/bestModelPerCategory.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";

const run = promisify(execFile);
let dir: string;
let dbPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-nb-cli-"));
  dbPath = join(dir, "r.duckdb");
  await buildResultsDb(dbPath, { runs: 3, markets: 12, seed: 4, ablation: false });
  // A run that failed half way: its forecasts are in the DB, every one of them nonsense (probability 1 on every market).
  const db = await openDb(dbPath);
  await db.connection.run(`INSERT INTO runs (run_id, kind, label, config_hash, config_json, dataset_name, status, started_at) VALUES ('run-broken', 'replay', 'broken', 'x', '{}', 'sample', 'failed', 5)`);
  await db.connection.run(`INSERT INTO outcomes SELECT 'run-broken' AS run_id, * EXCLUDE (run_id) FROM outcomes WHERE run_id = 'run-001'`);
  await db.connection.run(
    `INSERT INTO forecasts (run_id, seq, ts, ticker, model, probability, confidence, market_price, abstained) SELECT 'run-broken', row_number() OVER (), ts, ticker, 'broken/model', 1.0, 1, market_price, false FROM forecasts WHERE run_id = 'run-001'`,
  );
  db.close();
});

async function notebook(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ["--import", "tsx", "notebooks/bestModelPerCategory.ts", ...args], { encoding: "utf8" });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("notebooks on the command line", () => {
  it("pool completed runs only by default, and exactly the named runs with --runs", async () => {
    const all = await bestModelPerCategory({ dbPath, outDir: join(dir, "all") });
    expect(all.rows.some((r) => r["model"] === "broken/model")).toBe(false);
    const named = await bestModelPerCategory({ dbPath, outDir: join(dir, "named"), runs: ["run-broken"] });
    expect(new Set(named.rows.map((r) => r["model"]))).toEqual(new Set(["broken/model"]));
    await expect(bestModelPerCategory({ dbPath, outDir: join(dir, "x"), runs: ["run-nope"] })).rejects.toThrow(/--runs: no such run in .*: run-nope/);
  });

  it("explain themselves on --help and refuse bad arguments in one line, exit 2, no stack trace", async () => {
    const [help, bad] = await Promise.all([notebook(["--help"]), notebook(["--bogus", "--db", join(dir, "nope.duckdb")])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npx tsx notebooks\/bestModelPerCategory\.ts .*--runs/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain("    at ");
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringMatching(/Unknown option '--bogus'/), "Run with --help for usage."]);
    await expect(bestModelPerCategory({ dbPath: join(dir, "nope.duckdb"), outDir: join(dir, "y") })).rejects.toThrow(/nope\.duckdb: no results DB there/);
  });
});
