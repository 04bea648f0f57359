/**
 * A sweep on the queue, end to end with real processes: a real redis-server,
 * two `tapedeck worker` processes and a `tapedeck sweep --queue` coordinator,
 * against a loopback model server. Six variants of an LLM config (three
 * forecasting leaders that ask the same prompts, each with a decision-only
 * variant): every run's digest is the in-process sweep's, each distinct
 * prompt reaches the provider once, and the results DB holds each run once.
 * Then the same with one worker SIGKILLed in the middle of a leader and the
 * coordinator SIGKILLed in the middle of a merge: the job resumes on the
 * other worker from its shard's checkpoint, no answered prompt is paid again,
 * `sweep --attach` finishes the merges, and the digests and row counts are
 * the same.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { buildSyntheticDataset } from "../../harness/bench/syntheticDataset.ts";
import { runSweep } from "../../harness/replay/runSweep.ts";
import { parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { startServer, type LoopbackServer } from "../loopback/httpServer.ts";
import { delay } from "../loopback/script.ts";
import { chatCompletionJson } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { redisForTests, type RedisHandle } from "../cache/helpers.ts";
import { onDatabase, startCli, stop, type CliProcess } from "./processes.ts";
import { coordinateSweep } from "../../harness/queue/coordinator.ts";
import { enqueueSweep } from "../../harness/queue/enqueueSweep.ts";
import { openRedis } from "../../harness/queue/redisConnection.ts";

const KEY = "sk-test-queue-not-a-real-key";
/** Sweep ids of this test run (a Redis kept between runs must not find them finished already). */
const sweepA = `sw-test-a-${Date.now()}`;
const sweepB = `sw-test-b-${Date.now()}`;
const VARIES = ['modelLatency={"kind":"none"},{"kind":"fixed","ms":60000},{"kind":"fixed","ms":900000}', "risk.kellyFraction=0.1,0.25"];
/** Tables whose rows say what a run decided and traded (llm_calls differ by design: who missed and who hit). */
const RUN_ROWS = ["forecasts", "decisions", "orders", "fills", "settlements", "metrics"] as const;

interface Prompt {
  key: string;
  answered: boolean;
  /** When the server finished sending the answer (Date.now()). */
  answeredAt?: number;
}

/** The scripted forecaster (answer from the prompt's price), a little slow, logging each prompt and whether its answer was sent. */
async function promptLoggingModel(): Promise<LoopbackServer & { prompts: Prompt[] }> {
  const answer = scriptedAnswer({ "bull-1": 0.08 });
  const prompts: Prompt[] = [];
  const server = await startServer(async (request, res) => {
    if (request.path === "/v1/models") {
      // A run's pre-flight check (providers/preflight.ts): not a prompt.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [] }));
      return;
    }
    const prompt: Prompt = { key: JSON.stringify([request.body["model"], request.body["messages"]]), answered: false };
    prompts.push(prompt);
    await delay(15);
    const step = answer(request);
    if (step.kind !== "reply") throw new Error("unexpected step");
    res.on("finish", () => {
      prompt.answered = true;
      prompt.answeredAt = Date.now();
    });
    res.writeHead(200, { "content-type": "application/json" }).end(chatCompletionJson(String(request.body["model"]), step.content, { prompt_tokens: 400, completion_tokens: 30, total_tokens: 430 }));
  });
  return Object.assign(server, { prompts });
}

interface SweepJson {
  sweepId: string;
  runs: Array<{ label: string; role: string; runId: string; digest: string | null; status: string; worker: string; resumed: boolean; mergedRows: number }>;
}

/** Per variant label: rows of each run table, and how many runs carry that label. */
async function rowCounts(dbPath: string): Promise<Record<string, Record<string, number>>> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const out: Record<string, Record<string, number>> = {};
    for (const table of ["runs", ...RUN_ROWS]) {
      const reader = await db.connection.runAndReadAll(
        `SELECT regexp_replace(r.label, '^[^:]*:', '') AS label, count(t.run_id)::DOUBLE AS n FROM runs r JOIN ${table} t ON t.run_id = r.run_id GROUP BY 1`,
      );
      for (const row of reader.getRowObjectsJS() as Array<{ label: string; n: number }>) (out[row.label] ??= {})[table] = row.n;
    }
    return out;
  } finally {
    db.close();
  }
}

describe("sweep --queue with a coordinator and two worker processes", () => {
  let redis: RedisHandle;
  /** The queue's Redis: a database of its own on the test server. */
  let url: string;
  let model: Awaited<ReturnType<typeof promptLoggingModel>>;
  let dir: string;
  let dataset: string;
  let configPath: string;
  let base: Record<string, unknown>;
  /** The in-process sweep: digest per variant label, row counts, and the prompts it sent. */
  const reference = { digests: new Map<string, string | null>(), rows: {} as Record<string, Record<string, number>>, prompts: new Set<string>() };
  const running: CliProcess[] = [];
  const env = { TAPEDECK_TEST_KEY: KEY };

  /** Two workers for both tests, started with the in-process reference sweep (the second test kills one). */
  const workers: Record<string, CliProcess> = {};
  const worker = (name: string, resultsDir: string) => {
    const p = startCli(["worker", "--queue", url, "--results", resultsDir, "--concurrency", "1", "--name", name, "--lock-ms", "1500", "--stalled-ms", "500", "--json"], env);
    running.push(p);
    return p;
  };
  const coordinator = (args: string[], extraEnv: Record<string, string> = {}) => {
    const p = startCli(["sweep", ...args, "--queue", url, "--json"], { ...env, ...extraEnv });
    running.push(p);
    return p;
  };
  const sweepArgs = (db: string, sweepId: string) => ["-c", configPath, "-d", dataset, ...VARIES.flatMap((v) => ["--vary", v]), "--db", db, "--sweep-id", sweepId, "--checkpoint-every", "300"];

  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = KEY;
    dir = tempDir("tapedeck-queue-");
    [redis, model, dataset] = await Promise.all([redisForTests(), promptLoggingModel(), buildSyntheticDataset(dir, { events: 2_000, markets: 5, stepMs: 60_000, tradeShare: 0.2 })]);
    url = onDatabase(redis.url, 4);
    const router = loopbackRouter(`${model.origin}/v1`, { forecast: "bull-1" }, { "bull-1": { input: 1, output: 2 } });
    (router.endpoints.scripted as Record<string, unknown>)["concurrency"] = 2;
    base = {
      name: "queued",
      strategy: { kind: "llm", task: "forecast" },
      filter: { minIntervalMs: 3 * 3_600_000 },
      risk: { minConfidence: 0.5, minVolume: 0 },
      metrics: { bootstrapSamples: 20 },
      router,
    };
    configPath = join(dir, "queued.json");
    writeFileSync(configPath, JSON.stringify(base));

    const refDb = join(dir, "in-process.duckdb");
    const shards = join(dir, "shards");
    for (const name of ["wa", "wb"]) workers[name] = worker(name, shards);
    const db = await DuckDbStore.open(refDb);
    const variants = planSweep(base, VARIES.map(parseVary));
    const out = await runSweep({ variants, datasetDir: dataset, db, concurrency: 2 });
    db.close();
    for (const v of out.variants) reference.digests.set(v.variant.label, v.outcome.digest);
    reference.rows = await rowCounts(refDb);
    for (const p of model.prompts) reference.prompts.add(p.key);
    expect(model.prompts.length).toBe(reference.prompts.size); // the in-process sweep sends each prompt once too
    expect(reference.prompts.size).toBeGreaterThan(20);
    expect(reference.digests.size).toBe(6);
    await Promise.all(Object.values(workers).map((w) => w.line((l) => l.includes("waiting for jobs"))));
  }, 60_000);

  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await model?.close();
    await redis?.stop();
  });

  it("runs each variant once with the in-process digests, each prompt sent once, each run merged once", async () => {
    const from = model.prompts.length;
    const db = join(dir, "queued-a.duckdb");
    const sweep = coordinator(sweepArgs(db, sweepA));
    const { code } = await sweep.exited;
    expect(code, sweep.stderr).toBe(0);

    const out = JSON.parse(sweep.stdout) as SweepJson;
    expect(out.runs).toHaveLength(6);
    for (const run of out.runs) {
      expect(run.status).toBe("completed");
      expect(run.digest, run.label).toBe(reference.digests.get(run.label));
    }
    expect(new Set(out.runs.map((r) => r.worker))).toEqual(new Set(["wa", "wb"]));

    const sent = model.prompts.slice(from).map((p) => p.key);
    expect(sent.length).toBe(new Set(sent).size);
    expect(new Set(sent)).toEqual(reference.prompts);

    expect(await rowCounts(db)).toEqual(reference.rows);

    // Resubmitting the same sweep adds no job, runs nothing again and merges nothing again (in this process: no need for another CLI start).
    const connection = await openRedis(url);
    const resubmitted = await enqueueSweep({ url, redis: connection, sweepId: sweepA, variants: planSweep(base, VARIES.map(parseVary)), datasetDir: dataset, eventsPerRun: null, checkpointEvery: 300 }).finally(() => connection.quit());
    expect(resubmitted.added).toBe(0);
    const resultsDb = await DuckDbStore.open(db);
    const again = await coordinateSweep({ url, sweepId: sweepA, db: resultsDb }).finally(() => resultsDb.close());
    expect(again.runs.map((r) => r.rows)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(model.prompts.length - from).toBe(sent.length);
    expect(await rowCounts(db)).toEqual(reference.rows);
  }, 90_000);

  it("survives a worker SIGKILLed in a leader and a coordinator SIGKILLed in a merge: same digests, no paid prompt again, no duplicate row", async () => {
    const from = model.prompts.length;
    const db = join(dir, "queued-b.duckdb");
    // The workers of the first test, idle: each takes one of the three leaders (each runs one job at a time).
    const [victim, survivor] = [workers.wa!, workers.wb!];
    // The coordinator stalls inside its first merge's transaction after 5 of the run tables.
    const victimStarts = victim.nextLine((l) => l.includes('"type":"started"') && l.includes('"role":"leader"'));
    const first = coordinator([...sweepArgs(db, sweepB)], { TAPEDECK_FAULT_MERGE_STALL_AFTER: "5" });

    // Kill the victim in the middle of a leader: once it started one and the model answered a few prompts since.
    const started = JSON.parse(await victimStarts) as { jobId: string; label: string };
    const answeredAtStart = model.prompts.filter((p) => p.answered).length;
    while (model.prompts.slice(from).filter((p) => p.answered).length < answeredAtStart - from + 6) await delay(5);
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    await victim.exited;
    expect(victim.stdout).not.toContain(`"type":"completed","jobId":"${started.jobId}"`);

    await first.line((l) => l.startsWith("merge stalled after"));
    first.child.kill("SIGKILL");
    await first.exited;
    // The stalled merge never committed: the results DB holds none of its rows.
    const afterKill = await openDb(db, { readOnly: true });
    const partial = (await afterKill.connection.runAndReadAll(`SELECT (SELECT count(*) FROM runs)::DOUBLE AS runs, (SELECT count(*) FROM merged_shards)::DOUBLE AS merged`)).getRowObjectsJS()[0];
    afterKill.close();
    expect(partial).toEqual({ runs: 0, merged: 0 });

    const attach = coordinator(["--attach", sweepB, "--db", db]);
    const { code } = await attach.exited;
    expect(code, attach.stderr).toBe(0);
    await stop(survivor);

    const out = JSON.parse(attach.stdout) as SweepJson;
    expect(out.runs).toHaveLength(6);
    for (const run of out.runs) expect(run.digest, run.label).toBe(reference.digests.get(run.label));
    // The killed leader was finished by the other worker, from the shard the killed one left.
    const killed = out.runs.find((r) => r.label === started.label)!;
    expect(killed.worker).toBe("wb");
    expect(killed.resumed).toBe(true);

    // Each prompt was answered (paid) once, except what the killed worker had in flight as it died: requests the server had not
    // answered (sent again, never paid twice) and answers on their way that it never got to store (at most the endpoint's concurrency, 2).
    const sent = model.prompts.slice(from);
    expect(new Set(sent.filter((p) => p.answered).map((p) => p.key))).toEqual(reference.prompts);
    const firstAnswer = new Map<string, number>();
    const paidTwice: number[] = [];
    for (const p of sent.filter((q) => q.answered)) {
      const first = firstAnswer.get(p.key);
      if (first === undefined) firstAnswer.set(p.key, p.answeredAt!);
      else paidTwice.push(killedAt - first);
    }
    expect(paidTwice.length).toBeLessThanOrEqual(2);
    for (const msBeforeKill of paidTwice) expect(msBeforeKill).toBeLessThan(250);
    expect(sent.filter((p) => !p.answered).length).toBeLessThanOrEqual(2);

    expect(await rowCounts(db)).toEqual(reference.rows);
  }, 90_000);
});
