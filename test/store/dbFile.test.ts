/**
 * Issue 14, finding 9: clear words for locks and corruption. A busy
 * results database names the process and the run writing it and says what
 * to do; readers read a snapshot copy instead of failing; a damaged or
 * foreign cache or results file is refused at open with its path and a
 * repair hint, never "unexpected error" at the first lookup.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { DuckDbCache } from "../../harness/cache/backends/duckdbCache.ts";
import { DbFileError, openDbForReading } from "../../harness/db/dbFile.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const CLI = join(ROOT, "bin/tapedeck.js");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("a results database another process is writing", () => {
  const dir = tempDir();
  const path = join(dir, "busy.duckdb");
  let holder: ChildProcess;
  let runId = "";

  beforeAll(async () => {
    holder = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/fixtures/holdResultsDb.ts"), path], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    runId = await new Promise<string>((resolve, reject) => {
      holder.stdout?.on("data", (d: Buffer) => {
        const m = /ready (\S+)/.exec(d.toString());
        if (m?.[1]) resolve(m[1]);
      });
      holder.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
    });
  }, 20_000);
  afterAll(() => {
    if (holder.pid !== undefined) process.kill(holder.pid, "SIGKILL");
  });

  it("a second writer is refused with the holder's PID, the run it writes, and what to do", async () => {
    const error = await rejection(DuckDbStore.open(path));
    expect(error).toBeInstanceOf(DbFileError);
    expect(error.message).toContain(path);
    expect(error.message).toContain(`process ${holder.pid}`);
    expect(error.message).toContain(`run ${runId}`);
    expect(error.message).toContain(`kill ${holder.pid}`);
    expect(error.message).toContain(`--resume ${runId}`);
    expect(error.message).toContain("holdResultsDb.ts"); // the holder's command line
  });

  it("a reader reads a snapshot copy and says so", async () => {
    const notices: string[] = [];
    const db = await openDbForReading(path, "results", (line) => notices.push(line));
    try {
      expect(db.snapshot?.pid).toBe(holder.pid);
      const rows = (await db.connection.runAndReadAll("SELECT run_id, status FROM runs")).getRowObjectsJS();
      expect(rows).toEqual([{ run_id: runId, status: "running" }]);
    } finally {
      db.close();
    }
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`being written by process ${holder.pid}.*reading a snapshot copy taken at 20`));
  });

  it("the CLI prints one line, never 'unexpected error'", async () => {
    const out = await run(["compare", "run-a", "run-b", "--db", path]);
    expect(out.stderr).not.toContain("unexpected error");
    expect(out.stderr).toContain(`being written by process ${holder.pid}`);
  }, 20_000);
});

describe("damaged and foreign files are refused at open", () => {
  const dir = tempDir();
  const entry = (i: number) => ({
    key: `k${i}`,
    task: "forecast",
    scope: "s",
    createdAt: i,
    embedding: null,
    outcome: { answer: { p: i }, result: { text: "x".repeat(50_000), usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 }, latencyMs: 1, ttftMs: 1, finishReason: "stop" as const }, provider: "p", model: "m", tier: "cheap" as const, costNusd: 1 },
  });

  it("a truncated cache file: path, 'damaged', and how to repair", async () => {
    const good = join(dir, "good-cache.duckdb");
    const cache = await DuckDbCache.open(good);
    for (let i = 0; i < 40; i++) await cache.put(entry(i));
    await cache.close();
    const cut = join(dir, "cut-cache.duckdb");
    copyFileSync(good, cut);
    truncateSync(cut, Math.floor(statSync(good).size / 2));
    const error = await rejection(DuckDbCache.open(cut));
    expect(error).toBeInstanceOf(DbFileError);
    expect(error.message).toContain(cut);
    expect(error.message).toMatch(/response cache is damaged \(truncated/);
    expect(error.message).toContain(`mv ${cut} ${cut}.damaged`);
    // The intact file still opens and answers.
    const again = await DuckDbCache.open(good);
    expect(await again.count()).toBe(40);
    await again.close();
  });

  it("a cache file cut on a block boundary is refused at open too, not at the first lookup", async () => {
    const good = join(dir, "good-cache-2.duckdb");
    const cache = await DuckDbCache.open(good);
    for (let i = 0; i < 40; i++) await cache.put(entry(i));
    await cache.close();
    const block = 262_144;
    const blocks = Math.floor((statSync(good).size - 3 * 4096) / block);
    expect(blocks).toBeGreaterThan(4);
    for (const kept of [1, Math.floor(blocks / 2)]) {
      const cut = join(dir, `cut-aligned-${kept}.duckdb`);
      copyFileSync(good, cut);
      truncateSync(cut, 3 * 4096 + kept * block);
      const error = await rejection(DuckDbCache.open(cut));
      expect(error).toBeInstanceOf(DbFileError);
      expect(error.message).toContain(cut);
      expect(error.message).toMatch(/response cache is damaged \(truncated/);
    }
  });

  it("a file that is not DuckDB gets no advice about writing processes", async () => {
    const foreign = join(dir, "notes.duckdb");
    writeFileSync(foreign, "these are my notes, not a database\n".repeat(200));
    const error = await rejection(DuckDbCache.open(foreign));
    expect(error.message).toContain(foreign);
    expect(error.message).toMatch(/not a DuckDB response cache/);
    expect(error.message).not.toMatch(/one writing process/);
  });

  it("a truncated results database is refused at open, for writers and readers", async () => {
    const good = join(dir, "results.duckdb");
    const db = await DuckDbStore.open(good);
    await db.connection.run("CREATE TABLE filler AS SELECT range AS x, repeat('r', 200) AS s FROM range(5000)");
    await db.connection.run("CHECKPOINT");
    db.close();
    const cut = join(dir, "results-cut.duckdb");
    copyFileSync(good, cut);
    truncateSync(cut, Math.floor(statSync(good).size / 2));
    const error = await rejection(DuckDbStore.open(cut));
    expect(error).toBeInstanceOf(DbFileError); // the CLI prints it as one line (main.ts), like the busy case above
    expect(error.message).toContain(`${cut}: the results database is damaged`);
    expect((await rejection(openDbForReading(cut, "results"))).message).toContain(`${cut}: the results database is damaged`);
  });
});
