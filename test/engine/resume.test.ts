/**
 * A run killed with SIGKILL mid-way resumes from its last checkpoint and
 * ends with exactly the results of a run that was never interrupted (same
 * digest, same rows); and the same config on the same dataset always gives
 * the same digest. Runs go through the real CLI in child processes.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSyntheticDataset } from "../../harness/bench/syntheticDataset.ts";
import { openDb } from "../../harness/db/duckdb.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const CLI = join(import.meta.dirname, "../../bin/tapedeck.js");
const CONFIG = join(import.meta.dirname, "../../strategies/configs/momentum.json");

interface Outcome {
  runId: string;
  status: string;
  digest: string;
  events: number;
}

function replayToEnd(args: string[]): Outcome {
  const r = spawnSync(process.execPath, [CLI, "replay", ...args, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`replay failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Outcome;
}

/** Starts a replay and SIGKILLs it right after its second durable checkpoint. */
function replayAndKill(args: string[]): Promise<{ runId: string; checkpoint: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "replay", ...args, "--verbose", "--checkpoint-every", "50000"], { stdio: ["ignore", "pipe", "pipe"] });
    let runId = "";
    let seen = 0;
    let buffer = "";
    let killedAt = 0;
    child.stderr.on("data", (data: Buffer) => {
      buffer += data.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("run ")) runId = line.slice(4);
        const m = /^checkpoint (\d+)$/.exec(line);
        if (m && ++seen === 2) {
          killedAt = Number(m[1]);
          child.kill("SIGKILL");
        }
      }
    });
    // Resolve only once the process is gone, so its lock on the DB file is released.
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ runId, checkpoint: killedAt });
      else reject(new Error(`replay ended before it could be killed (code ${code})`));
    });
  });
}

async function rows(dbPath: string, runId: string) {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const q = async (sql: string) => (await db.connection.runAndReadAll(sql, [runId])).getRowObjectsJson();
    return {
      run: (await q(`SELECT status, events, digest FROM runs WHERE run_id = $1`))[0],
      forecasts: await q(`SELECT seq, ts, ticker, probability, confidence FROM forecasts WHERE run_id = $1 ORDER BY seq`),
      decisions: await q(`SELECT seq, ts, ticker, action, contracts, reason FROM decisions WHERE run_id = $1 ORDER BY seq`),
      fills: await q(`SELECT fill_id, ts, ticker, price_units, contracts, fee_units FROM fills WHERE run_id = $1 ORDER BY fill_id`),
      settlements: await q(`SELECT ts, ticker, pnl_units FROM settlements WHERE run_id = $1 ORDER BY ts, ticker`),
      metrics: await q(`SELECT model, metric, value FROM metrics WHERE run_id = $1 ORDER BY model, metric`),
    };
  } finally {
    db.close();
  }
}

describe("kill -9 and resume", () => {
  let dataset: string;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    dataset = await buildSyntheticDataset(dir, { events: 250_000, markets: 100, stepMs: 1000, tradeShare: 0.25 });
  });

  it("resumes a SIGKILLed run to exactly the results of an uninterrupted one", async () => {
    const killedDb = join(dir, "killed.duckdb");
    const { runId, checkpoint } = await replayAndKill(["-c", CONFIG, "-d", dataset, "--db", killedDb]);
    expect(runId).not.toBe("");
    expect(checkpoint).toBeGreaterThanOrEqual(100_000);

    const before = await rows(killedDb, runId);
    expect(before.run).toMatchObject({ status: "running" });
    expect(Number(before.run!["events"])).toBeGreaterThanOrEqual(100_000);

    const resumed = replayToEnd(["--resume", runId, "--db", killedDb]);
    expect(resumed.status).toBe("completed");
    expect(resumed.runId).toBe(runId);

    const straightDb = join(dir, "straight.duckdb");
    const straight = replayToEnd(["-c", CONFIG, "-d", dataset, "--db", straightDb]);
    expect(resumed.digest).toBe(straight.digest);
    expect(resumed.events).toBe(straight.events);

    const a = await rows(killedDb, runId);
    const b = await rows(straightDb, straight.runId);
    expect(a.decisions.length).toBeGreaterThan(0);
    expect(a.fills.length).toBeGreaterThan(0);
    expect(a.forecasts).toEqual(b.forecasts);
    expect(a.decisions).toEqual(b.decisions);
    expect(a.fills).toEqual(b.fills);
    expect(a.settlements).toEqual(b.settlements);
    expect(a.metrics).toEqual(b.metrics);
  });

  it("gives the same digest for the same config and dataset, and refuses to resume a completed run", async () => {
    const dbPath = join(dir, "twice.duckdb");
    const one = replayToEnd(["-c", CONFIG, "-d", dataset, "--db", dbPath]);
    const two = replayToEnd(["-c", CONFIG, "-d", dataset, "--db", dbPath]);
    expect(one.runId).not.toBe(two.runId);
    expect(one.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(two.digest).toBe(one.digest);
    const again = spawnSync(process.execPath, [CLI, "replay", "--resume", one.runId, "--db", dbPath], { encoding: "utf8" });
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("already completed");
  });
});
