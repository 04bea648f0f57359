/**
 * kill -9 in the middle of an LLM replay with no response cache, then
 * `--resume`: the provider answers exactly as many requests over both
 * processes as for an uninterrupted run, llm_calls holds one row per
 * answered request, and the digest is the uninterrupted run's. Requests the
 * provider had received but not answered when the process died (never
 * paid) are the only ones sent again.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const CLI = join(import.meta.dirname, "../../bin/tapedeck.js");
const SAMPLE = join(import.meta.dirname, "../../datasets/sample");
const KEY = "sk-test-not-a-real-key";

function cli(args: string[], onStderrLine?: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TAPEDECK_TEST_KEY: KEY }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let buffer = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onStderrLine?.(buffer.slice(0, nl), () => child.kill("SIGKILL"));
        buffer = buffer.slice(nl + 1);
      }
    });
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("kill -9 in an LLM replay without a cache, then --resume", () => {
  let server: OpenAiLoopback;
  let dir: string;
  const answer = scriptedAnswer({ "bull-1": 0.05 });
  /** Requests answered, and requests received and left hanging, since the last reset. */
  const counts = { answered: 0, hung: 0, holdAfter: Number.POSITIVE_INFINITY };

  beforeAll(async () => {
    dir = tempDir();
    server = await startOpenAiServer((request) => {
      if (counts.answered >= counts.holdAfter) {
        counts.hung++;
        return { kind: "hang" };
      }
      counts.answered++;
      return { ...answer(request), delayMs: 5 };
    });
  });
  afterAll(async () => server?.close());

  it("answers each request once over both processes, logs each once, and ends with the uninterrupted digest", async () => {
    const router = loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 1, output: 2 } });
    (router.endpoints.scripted as Record<string, unknown>).concurrency = 4;
    const config = parseRunConfig({ name: "llm-kill", strategy: { kind: "llm", task: "forecast" }, filter: { minIntervalMs: 6 * 3_600_000 }, router });
    const configPath = join(dir, "llm-kill.json");
    writeFileSync(configPath, JSON.stringify(config));

    // The uninterrupted run, in this process.
    process.env.TAPEDECK_TEST_KEY = KEY;
    const straightDb = await DuckDbStore.open(join(dir, "straight.duckdb"));
    const straight = await runReplay({ config, datasetDir: SAMPLE, db: straightDb });
    straightDb.close();
    const straightAnswered = counts.answered;
    expect(straightAnswered).toBeGreaterThan(60);

    // The same run in a child process: after 40 answers the server stops answering; once a request hangs, kill -9.
    Object.assign(counts, { answered: 0, hung: 0, holdAfter: 40 });
    const dbPath = join(dir, "killed.duckdb");
    let runId = "";
    const killed = await cli(["replay", "-c", configPath, "-d", SAMPLE, "--db", dbPath, "--verbose"], (line, kill) => {
      if (line.startsWith("run ")) {
        runId = line.slice(4);
        const wait = setInterval(() => {
          // Leave the call log's timer (200 ms) time to make the answered calls durable, as it would in any real crash a moment later.
          if (counts.hung > 0) {
            clearInterval(wait);
            setTimeout(kill, 600);
          }
        }, 20);
      }
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(runId).not.toBe("");
    const answeredBeforeKill = counts.answered;
    const hungAtKill = counts.hung;
    expect(answeredBeforeKill).toBe(40);

    Object.assign(counts, { answered: 0, hung: 0, holdAfter: Number.POSITIVE_INFINITY });
    const resumed = await cli(["replay", "--resume", runId, "--db", dbPath, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const outcome = JSON.parse(resumed.stdout) as { status: string; digest: string };
    expect(outcome.status).toBe("completed");
    expect(outcome.digest).toBe(straight.digest);
    // The provider answered exactly as many requests as for the uninterrupted run.
    expect(answeredBeforeKill + counts.answered).toBe(straightAnswered);
    // Only the requests left hanging at the kill were sent again, at most one per slot in flight.
    expect(hungAtKill).toBeGreaterThanOrEqual(1);
    expect(hungAtKill).toBeLessThanOrEqual(4);

    const db = await openDb(dbPath, { readOnly: true });
    try {
      const rows = (await db.connection.runAndReadAll(
        `SELECT (SELECT count(*) FROM llm_calls WHERE run_id = $1)::DOUBLE AS calls,
                (SELECT count(DISTINCT call_id) FROM llm_calls WHERE run_id = $1)::DOUBLE AS distinct_calls,
                (SELECT count(*) FROM forecasts WHERE run_id = $1)::DOUBLE AS forecasts,
                (SELECT count(DISTINCT llm_call_id) FROM forecasts WHERE run_id = $1)::DOUBLE AS forecast_calls`,
        [runId],
      )).getRowObjectsJS()[0] as Record<string, number>;
      // One llm_calls row per answered request, and every forecast points at its own one.
      expect(rows.calls).toBe(straightAnswered);
      expect(rows.distinct_calls).toBe(straightAnswered);
      expect(rows.forecasts).toBe(straightAnswered);
      expect(rows.forecast_calls).toBe(straightAnswered);
    } finally {
      db.close();
    }
  }, 120_000);
});
