/**
 * Wall times of one sweep three ways on this machine: in-process
 * (`tapedeck sweep`), and on the queue with 1 and with 2 `tapedeck worker`
 * processes (`sweep --queue`, workers started beforehand and left waiting, as
 * they would be on a cluster), plus the rate at which a coordinator merges
 * result shards into the results DB. Everything runs as real processes
 * against a redis-server it starts on a free port and the fixed-latency
 * loopback model (fixedLatencyServer.ts). Prints JSON.
 *
 *   npx tsx harness/bench/queueSweepBench.ts [--latency-ms 50] [--dataset datasets/sample] [--merge-rows 500000]
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildSyntheticDataset } from "./syntheticDataset.ts";
import { startFixedLatencyServer } from "./fixedLatencyServer.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { runReplay } from "../replay/runReplay.ts";
import { mergeShard } from "../queue/shardMerge.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";

const CLI = fileURLToPath(new URL("../../bin/tapedeck.js", import.meta.url));
const VARIES = ['modelLatency={"kind":"none"},{"kind":"fixed","ms":60000},{"kind":"fixed","ms":900000}', "risk.kellyFraction=0.1,0.25"];

const { values } = parseArgs({ options: { "latency-ms": { type: "string", default: "50" }, dataset: { type: "string", default: fileURLToPath(new URL("../../datasets/sample", import.meta.url)) }, "merge-rows": { type: "string", default: "500000" } } });
const latencyMs = Number(values["latency-ms"]);
const dir = mkdtempSync(join(tmpdir(), "tapedeck-queue-bench-"));
const env = { ...process.env, TAPEDECK_BENCH_KEY: "sk-bench-not-a-key" };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function cli(args: string[], until?: string): { done: Promise<{ code: number | null; stdout: string; ms: number }>; ready: Promise<void>; kill(): void } {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (until && stderr.includes(until)) ready();
  });
  const done = new Promise<{ code: number | null; stdout: string; ms: number }>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 || code === null ? resolve({ code, stdout, ms: performance.now() - started }) : reject(new Error(`tapedeck ${args[0]} exited ${code}: ${stderr.slice(-500)}`)))),
  );
  return { done, ready: readyP, kill: () => child.kill("SIGTERM") };
}

const port = await freePort();
const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
const url = `redis://127.0.0.1:${port}`;
const model = await startFixedLatencyServer(latencyMs, { kind: "forecast" });
try {
  await new Promise((r) => setTimeout(r, 300));
  const config = {
    name: "queue-bench",
    strategy: { kind: "llm", task: "forecast" },
    filter: { minIntervalMs: 6 * 3_600_000 },
    risk: { minConfidence: 0.5, minVolume: 0 },
    router: {
      endpoints: { bench: { kind: "openai", baseURL: model.baseURL, apiKeyEnv: "TAPEDECK_BENCH_KEY", structuredOutput: "json_schema", concurrency: 8 } },
      routes: { forecast: { chain: [{ endpoint: "bench", model: "bench-model", tier: "cheap" }], maxTokens: 200 } },
      prices: { models: { "bench/bench-model": { input: 1, output: 2 } } },
    },
  };
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  const sweep = (db: string, extra: string[] = []) => ["sweep", "-c", configPath, "-d", values.dataset!, ...VARIES.flatMap((v) => ["--vary", v]), "--db", db, "--json", ...extra];

  await model.resetStats();
  const inProcess = await cli(sweep(join(dir, "in-process.duckdb"))).done;
  const inProcessCalls = (await model.stats()).requests;

  const queued = async (workers: number) => {
    await model.resetStats();
    const ws = Array.from({ length: workers }, (_, i) => cli(["worker", "--queue", url, "--results", join(dir, `shards-${workers}`), "--concurrency", "2", "--name", `w${i + 1}`], "waiting for jobs"));
    await Promise.all(ws.map((w) => w.ready));
    const out = await cli(sweep(join(dir, `queued-${workers}.duckdb`), ["--queue", url, "--sweep-id", `bench-${workers}`])).done;
    for (const w of ws) w.kill();
    await Promise.all(ws.map((w) => w.done));
    const runs = (JSON.parse(out.stdout) as { runs: Array<{ mergedRows: number; mergeMs: number }> }).runs;
    const rows = runs.reduce((a, r) => a + r.mergedRows, 0);
    const ms = runs.reduce((a, r) => a + r.mergeMs, 0);
    return { wallMs: Math.round(out.ms), providerCalls: (await model.stats()).requests, mergedRows: rows, mergeMs: Math.round(ms), mergeRowsPerS: Math.round(rows / (ms / 1000)) };
  };
  const one = await queued(1);
  const two = await queued(2);

  // One big shard, merged as the coordinator merges: a rule replay's rows, its decisions copied (new seq) up to --merge-rows.
  const synthetic = await buildSyntheticDataset(dir, { events: 20_000, markets: 20, stepMs: 60_000, tradeShare: 0.3 });
  const shardPath = join(dir, "big-shard.duckdb");
  const shardDb = await DuckDbStore.open(shardPath);
  const run = await runReplay({ config: parseRunConfig({ name: "merge-bench", strategy: { kind: "momentum" }, risk: { minVolume: 0, minConfidence: 0 }, metrics: { bootstrapSamples: 50 } }), datasetDir: synthetic, db: shardDb });
  const decisions = Number((await shardDb.connection.runAndReadAll(`SELECT count(*)::DOUBLE FROM decisions`)).getRows()[0]![0]);
  const copies = Math.max(0, Math.ceil(Number(values["merge-rows"]) / Math.max(1, decisions)) - 1);
  await shardDb.connection.run(`INSERT INTO decisions SELECT d.* REPLACE (d.seq + (t.k + 1) * 10000000 AS seq) FROM decisions d, range(${copies}) t(k)`);
  shardDb.close();
  const results = await DuckDbStore.open(join(dir, "merge-results.duckdb"));
  const merged = await mergeShard(results, { shardId: "bench.big", sweepId: "bench", runId: run.runId, path: shardPath });
  results.close();

  process.stdout.write(
    `${JSON.stringify(
      {
        latencyMs,
        dataset: values.dataset,
        variants: 6,
        inProcess: { wallMs: Math.round(inProcess.ms), providerCalls: inProcessCalls },
        workers1: one,
        workers2: two,
        bigShardMerge: { rows: merged.rows, ms: Math.round(merged.ms), rowsPerS: Math.round(merged.rows / (merged.ms / 1000)) },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await model.close();
  redis.kill("SIGTERM");
}
