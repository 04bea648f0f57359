/**
 * `tapedeck bench llm-replay`: how close an LLM replay comes to the ideal
 * wall time when every model call takes a fixed latency L and the endpoint
 * allows C calls at once.
 *
 * A fixed-latency OpenAI-compatible server runs in a worker thread
 * (fixedLatencyServer.ts: the replay's CPU work on the main thread cannot
 * delay its timers) and answers every chat completion with a valid forecast
 * derived from a hash of the prompt (varied, reproducible). The same LLM
 * replay runs twice over the dataset: against that server, then against a
 * zero-latency one. The zero-latency run's wall time is the replay's own
 * work, so
 *
 *   ideal = calls × L / C + zero-latency wall        ratio = wall / ideal
 *
 * (C is the endpoint's concurrency, or the replay's maxInFlight when that is
 * smaller). A ratio near 1 means the pipeline keeps C calls in flight; a
 * serial pipeline sits near calls × L / (calls × L / C) = C. Both runs must
 * produce the same digest: concurrency may change the timing, never the result.
 * The figures are written to the benchmarks table, one row per figure.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "../db/duckdb.ts";
import { runReplay, type ReplayRequest } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { DEFAULT_DB_PATH } from "../store/schema.ts";
import { parseRunConfig, type RunConfig } from "../../strategies/runConfig.ts";
import { writeBenchRows, type BenchRow } from "../cli/bench.ts";
import { cpuDevice } from "./cpuDevice.ts";
import { startFixedLatencyServer, type FixedLatencyServerStats } from "./fixedLatencyServer.ts";

/** The bundled sample dataset. */
export const SAMPLE_DATASET = fileURLToPath(new URL("../../datasets/sample", import.meta.url));
/** The environment variable the bench endpoint names for its (dummy) key; set when absent. */
export const BENCH_KEY_ENV = "TAPEDECK_BENCH_KEY";
const ENDPOINT = "bench";
const MODEL = "bench-model";

export interface LlmReplayBenchOptions {
  /** Fixed latency of every model call, ms (the CLI's default: 200). */
  latencyMs: number;
  /** The endpoint's `concurrency` in the router config (the CLI's default: 32). */
  concurrency: number;
  /** Dataset folder (the CLI's default: the bundled sample). */
  datasetDir: string;
  /** Passed to the replay as `ReplayRequest.maxInFlight` when set. */
  maxInFlight?: number;
  /** Results DB file for the two runs; a temp file (deleted afterwards) when absent. */
  resultsDb?: string;
  /** Where the benchmark rows are written; `resultsDb` when given, else the default results DB. */
  benchDb?: string;
  onProgress?: (phase: "latency" | "zero-latency", events: number, totalEvents: number | null) => void;
}

export interface LlmReplayRunFigures {
  runId: string;
  status: "completed" | "interrupted";
  digest: string | null;
  events: number;
  /** Wall time of runReplay, s (streaming, model calls, metrics, writes). */
  wallSeconds: number;
  /** Rows in llm_calls for the run. */
  llmCalls: number;
  forecasts: number;
  abstained: number;
  /** The server's counters for the run. */
  server: FixedLatencyServerStats;
}

export interface LlmReplayBenchResult {
  benchId: string;
  benchDb: string;
  /** The results DB the runs went to, or null when it was a temp file (now deleted). */
  resultsDb: string | null;
  datasetDir: string;
  datasetName: string;
  latencyMs: number;
  concurrency: number;
  maxInFlight: number | null;
  /** min(concurrency, maxInFlight): the most calls the replay may have in flight. */
  effectiveConcurrency: number;
  /** Requests the fixed-latency server answered. */
  calls: number;
  wallSeconds: number;
  zeroLatencyWallSeconds: number;
  /** calls × latency / effectiveConcurrency + zeroLatencyWallSeconds. */
  idealSeconds: number;
  /** wallSeconds / idealSeconds (1 is ideal; a serial pipeline is near effectiveConcurrency). */
  ratio: number;
  /** The most requests the fixed-latency server held in flight at once. */
  serverMaxInFlight: number;
  digest: string | null;
  zeroLatencyDigest: string | null;
  digestsMatch: boolean;
  device: string;
  latency: LlmReplayRunFigures;
  zeroLatency: LlmReplayRunFigures;
}

/** The event filter of the LLM example config (strategies/configs/local-llm.json), read so the two stay in step. */
function exampleFilter(): unknown {
  const file = new URL("../../strategies/configs/local-llm.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { filter?: unknown }).filter;
}

/** The run config: strategy "llm" with one openai-compatible endpoint at `baseURL`. */
export function llmReplayBenchConfig(baseURL: string, concurrency: number): RunConfig {
  return parseRunConfig(
    {
      name: "bench-llm-replay",
      description: "bench llm-replay: the LLM strategy against a fixed-latency loopback server",
      strategy: { kind: "llm", task: "forecast" },
      filter: exampleFilter(),
      router: {
        endpoints: { [ENDPOINT]: { kind: "openai", baseURL, apiKeyEnv: BENCH_KEY_ENV, structuredOutput: "json_schema", concurrency } },
        routes: { forecast: { chain: [{ endpoint: ENDPOINT, model: MODEL, tier: "cheap" }], maxTokens: 200 } },
        prices: { models: { [`${ENDPOINT}/${MODEL}`]: { input: 0.27, output: 1.1 } } },
      },
      metrics: { bootstrapSamples: 0 },
    },
    "bench llm-replay config",
  );
}

/** The run's llm_calls rows, forecasts and abstentions, in one read. */
async function runCounts(db: Db, runId: string): Promise<{ llmCalls: number; forecasts: number; abstained: number }> {
  const row = (
    await db.connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM llm_calls WHERE run_id = $1)::DOUBLE AS calls,
              count(*)::DOUBLE AS forecasts, count(*) FILTER (WHERE abstained)::DOUBLE AS abstained
         FROM forecasts WHERE run_id = $1`,
      [runId],
    )
  ).getRowObjectsJS()[0];
  return { llmCalls: Number(row?.["calls"] ?? 0), forecasts: Number(row?.["forecasts"] ?? 0), abstained: Number(row?.["abstained"] ?? 0) };
}

async function oneRun(db: Db, options: LlmReplayBenchOptions, latencyMs: number, phase: "latency" | "zero-latency"): Promise<LlmReplayRunFigures & { datasetName: string }> {
  const server = await startFixedLatencyServer(latencyMs, { kind: "forecast" });
  try {
    const request: ReplayRequest = {
      config: llmReplayBenchConfig(server.baseURL, options.concurrency),
      datasetDir: options.datasetDir,
      db,
      label: `bench llm-replay ${phase} ${latencyMs}ms @${options.concurrency}`,
      ...(options.onProgress ? { onProgress: (p) => options.onProgress!(phase, p.events, p.totalEvents) } : {}),
    };
    if (options.maxInFlight !== undefined) request.maxInFlight = options.maxInFlight;
    const started = performance.now();
    const out = await runReplay(request);
    const wallSeconds = (performance.now() - started) / 1000;
    const stats = await server.stats();
    return {
      runId: out.runId,
      status: out.status,
      digest: out.digest,
      events: out.events,
      wallSeconds,
      ...(await runCounts(db, out.runId)),
      server: stats,
      datasetName: out.datasetName,
    };
  } finally {
    await server.close();
  }
}

export async function benchLlmReplay(options: LlmReplayBenchOptions): Promise<LlmReplayBenchResult> {
  if (!(options.latencyMs >= 0)) throw new RangeError(`latencyMs must be ≥ 0, got ${options.latencyMs}`);
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1)) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  if (options.maxInFlight !== undefined && !(Number.isInteger(options.maxInFlight) && options.maxInFlight >= 1))
    throw new RangeError(`maxInFlight must be a positive integer, got ${options.maxInFlight}`);
  process.env[BENCH_KEY_ENV] ??= "bench-not-a-key";

  const scratchDir = options.resultsDb === undefined ? mkdtempSync(join(tmpdir(), "tapedeck-llm-bench-")) : null;
  const resultsPath = options.resultsDb ?? join(scratchDir!, "results.duckdb");
  let latency: LlmReplayRunFigures & { datasetName: string };
  let zero: LlmReplayRunFigures & { datasetName: string };
  try {
    const db = await DuckDbStore.open(resultsPath);
    try {
      latency = await oneRun(db, options, options.latencyMs, "latency");
      zero = await oneRun(db, options, 0, "zero-latency");
    } finally {
      db.close();
    }
  } finally {
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  }

  const effectiveConcurrency = Math.min(options.concurrency, options.maxInFlight ?? Number.POSITIVE_INFINITY);
  const calls = latency.server.requests;
  const idealSeconds = (calls * options.latencyMs) / effectiveConcurrency / 1000 + zero.wallSeconds;
  const device = cpuDevice();
  const { datasetName, ...latencyFigures } = latency;
  const { datasetName: _zeroName, ...zeroFigures } = zero;
  const result: Omit<LlmReplayBenchResult, "benchId" | "benchDb"> = {
    resultsDb: options.resultsDb ?? null,
    datasetDir: options.datasetDir,
    datasetName,
    latencyMs: options.latencyMs,
    concurrency: options.concurrency,
    maxInFlight: options.maxInFlight ?? null,
    effectiveConcurrency,
    calls,
    wallSeconds: latency.wallSeconds,
    zeroLatencyWallSeconds: zero.wallSeconds,
    idealSeconds,
    ratio: latency.wallSeconds / idealSeconds,
    serverMaxInFlight: latency.server.maxInFlight,
    digest: latency.digest,
    zeroLatencyDigest: zero.digest,
    digestsMatch: latency.digest !== null && latency.digest === zero.digest,
    device,
    latency: latencyFigures,
    zeroLatency: zeroFigures,
  };

  const name = `${datasetName} @${options.concurrency}${options.maxInFlight !== undefined ? ` max ${options.maxInFlight}` : ""} x ${options.latencyMs}ms`;
  const params = {
    dataset: datasetName,
    datasetDir: options.datasetDir,
    latencyMs: options.latencyMs,
    concurrency: options.concurrency,
    maxInFlight: options.maxInFlight ?? null,
    events: latency.events,
    digest: latency.digest,
    zeroLatencyDigest: zero.digest,
    digestsMatch: result.digestsMatch,
    runId: options.resultsDb !== undefined ? latency.runId : null,
    zeroLatencyRunId: options.resultsDb !== undefined ? zero.runId : null,
  };
  const row = (metric: string, value: number, unit: string): BenchRow => ({ kind: "llm-replay", name, device, metric, value, unit, params });
  const rows: BenchRow[] = [
    row("calls", calls, "calls"),
    row("wall_s", result.wallSeconds, "s"),
    row("zero_latency_wall_s", result.zeroLatencyWallSeconds, "s"),
    row("ideal_s", idealSeconds, "s"),
    row("ratio", result.ratio, "ratio"),
    row("server_max_in_flight", result.serverMaxInFlight, "calls"),
  ];
  const benchDb = options.benchDb ?? options.resultsDb ?? DEFAULT_DB_PATH;
  const benchId = await writeBenchRows(benchDb, rows);
  return { benchId, benchDb, ...result };
}
