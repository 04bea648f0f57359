/**
 * `tapedeck bench local|router`: throughput benchmarks, printed and stored in
 * the results DB's benchmarks table (one row per figure).
 * `bench replay` and `bench micro` live in benchReplay.ts; `bench llm-replay`
 * (harness/bench/llmReplayBench.ts) is here.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import type { Argv, CommandModule } from "yargs";
import { openDb } from "../db/duckdb.ts";
import { applySchema } from "../store/schema.ts";
import { benchLocal, describeDevice } from "../bench/localBench.ts";
import { benchRouter } from "../bench/routerBench.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";
import { microBenchCommand, replayBenchCommand } from "./benchReplay.ts";
import { benchLlmReplay, SAMPLE_DATASET } from "../bench/llmReplayBench.ts";
import { chaosCommand } from "./benchChaos.ts";

export interface BenchRow {
  kind: string;
  name: string;
  device: string;
  metric: string;
  value: number;
  unit: string;
  params: Record<string, unknown>;
}

export async function writeBenchRows(dbPath: string, rows: readonly BenchRow[]): Promise<string> {
  const benchId = randomUUID();
  const db = await openDb(dbPath);
  try {
    await applySchema(db.connection);
    const appender = await db.connection.createAppender("benchmarks");
    const ts = BigInt(Date.now());
    for (const r of rows) {
      appender.appendVarchar(benchId);
      appender.appendBigInt(ts);
      appender.appendVarchar(r.kind);
      appender.appendVarchar(r.name);
      appender.appendVarchar(r.device);
      appender.appendVarchar(r.metric);
      appender.appendDouble(r.value);
      appender.appendVarchar(r.unit);
      appender.appendVarchar(JSON.stringify(r.params));
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  } finally {
    db.close();
  }
  return benchId;
}

interface LocalArgs {
  model: string;
  parallel: string;
  rounds: number;
  "max-tokens": number;
  threads?: number;
  cpu: boolean;
  db: string;
  json: boolean;
}

const localCommand: CommandModule<object, LocalArgs> = {
  command: "local",
  describe: "Local GGUF throughput: load time, prompt and generated tokens/s, time to first token, at 1..N parallel sequences",
  builder: (y: Argv) =>
    y
      .option("model", { type: "string", default: "models/stories260K.gguf", describe: "GGUF file" })
      .option("parallel", { type: "string", default: "1,2,4", describe: "Parallel sequence counts, comma-separated" })
      .option("rounds", { type: "number", default: 3, describe: "Rounds per parallel count (medians are reported)" })
      .option("max-tokens", { type: "number", default: 128, describe: "Tokens generated per sequence" })
      .option("threads", { type: "number", describe: "CPU threads (default: half the cores, at least 1)" })
      .option("cpu", { type: "boolean", default: false, describe: "Force the CPU even when a GPU is present" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const parallel = args.parallel.split(",").map((s) => Number(s.trim()));
    if (parallel.some((p) => !Number.isInteger(p) || p < 1)) throw new CliError(`--parallel: expected positive integers like 1,2,4, got "${args.parallel}"`);
    let result;
    try {
      result = await benchLocal({
        modelPath: args.model,
        parallel,
        rounds: args.rounds,
        maxTokens: args["max-tokens"],
        ...(args.threads !== undefined ? { threads: args.threads } : {}),
        ...(args.cpu ? { gpu: false as const } : {}),
      });
    } catch (error) {
      throw new CliError(`bench local: ${(error as Error).message}`);
    }
    const device = describeDevice(result.device);
    const params = { model: result.model, threads: result.device.threads, gpuLayers: result.device.gpuLayers, totalLayers: result.device.totalLayers, vramUsedBytes: result.device.vramUsedBytes, vramTotalBytes: result.device.vramTotalBytes, cores: availableParallelism(), cpu: cpus()[0]?.model };
    const rows: BenchRow[] = result.rows.flatMap((r) => {
      const p = { ...params, parallel: r.parallel, promptTokens: r.promptTokens, maxTokens: args["max-tokens"] };
      const name = `${result.model} x${r.parallel}`;
      return [
        { kind: "local", name, device, metric: "load_ms", value: r.loadMs, unit: "ms", params: p },
        { kind: "local", name, device, metric: "prompt_tokens_per_s", value: r.promptTokensPerSec, unit: "tokens/s", params: p },
        { kind: "local", name, device, metric: "generated_tokens_per_s", value: r.generatedTokensPerSec, unit: "tokens/s", params: p },
        { kind: "local", name, device, metric: "per_sequence_tokens_per_s", value: r.perSequenceTokensPerSec, unit: "tokens/s", params: p },
        { kind: "local", name, device, metric: "ttft_p50_ms", value: r.ttftMsP50, unit: "ms", params: p },
      ];
    });
    const benchId = await writeBenchRows(args.db, rows);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ benchId, deviceDescription: device, ...result }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`bench local: ${result.model} on ${device}\n\n`);
    process.stdout.write(
      `${formatTable(
        ["parallel", "load ms", "prompt tok/s", "gen tok/s (all)", "gen tok/s (per seq)", "TTFT p50 ms"],
        result.rows.map((r) => [r.parallel, Math.round(r.loadMs), Math.round(r.promptTokensPerSec), Math.round(r.generatedTokensPerSec), Math.round(r.perSequenceTokensPerSec), r.ttftMsP50]),
      )}\n\nStored as bench ${benchId} in ${args.db}\n`,
    );
  },
};

interface RouterArgs {
  calls: number;
  concurrency: number;
  latency: number;
  "overhead-calls": number;
  db: string;
  json: boolean;
}

const routerCommand: CommandModule<object, RouterArgs> = {
  command: "router",
  describe: "Router overhead per call (zero-latency loopback server) and wall time for N calls at concurrency C against a fixed-latency server",
  builder: (y: Argv) =>
    y
      .option("calls", { type: "number", default: 1000 })
      .option("concurrency", { type: "number", default: 32 })
      .option("latency", { type: "number", default: 50, describe: "Server latency, ms" })
      .option("overhead-calls", { type: "number", default: 2000 })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const r = await benchRouter({ calls: args.calls, concurrency: args.concurrency, latencyMs: args.latency, overheadCalls: args["overhead-calls"] });
    const device = `cpu x${availableParallelism()}`;
    const params = { calls: r.calls, concurrency: r.concurrency, latencyMs: r.latencyMs, overheadCalls: args["overhead-calls"] };
    const rows: BenchRow[] = [
      { kind: "router", name: "loopback zero latency", device, metric: "direct_ms_per_call", value: r.directMsPerCall, unit: "ms", params },
      { kind: "router", name: "loopback zero latency", device, metric: "routed_ms_per_call", value: r.routedMsPerCall, unit: "ms", params },
      { kind: "router", name: "loopback zero latency", device, metric: "overhead_ms_per_call", value: r.overheadMsPerCall, unit: "ms", params },
      { kind: "router", name: "in-process provider", device, metric: "overhead_us_per_call", value: r.inProcessOverheadUsPerCall, unit: "us", params },
      { kind: "router", name: `${r.calls} calls @${r.concurrency} x ${r.latencyMs}ms`, device, metric: "wall_ms", value: r.wallMs, unit: "ms", params },
      { kind: "router", name: `${r.calls} calls @${r.concurrency} x ${r.latencyMs}ms`, device, metric: "ideal_ms", value: r.idealMs, unit: "ms", params },
      { kind: "router", name: `${r.calls} calls @${r.concurrency} x ${r.latencyMs}ms`, device, metric: "efficiency", value: r.efficiency, unit: "ratio", params },
    ];
    const benchId = await writeBenchRows(args.db, rows);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ benchId, ...r }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `bench router (${device})\n\n${formatTable(
        ["figure", "value"],
        [
          ["direct call to loopback, ms", r.directMsPerCall],
          ["same call through the router, ms", r.routedMsPerCall],
          ["router overhead per call (HTTP), ms", r.overheadMsPerCall],
          ["router overhead per call (in-process provider), µs", r.inProcessOverheadUsPerCall],
          [`${r.calls} calls @ ${r.concurrency} against ${r.latencyMs} ms: wall ms`, r.wallMs],
          ["ideal N·L/C, ms", r.idealMs],
          ["efficiency (ideal / wall)", r.efficiency],
          ["failed calls", r.failed],
        ],
      )}\n\nStored as bench ${benchId} in ${args.db}\n`,
    );
  },
};

interface LlmReplayArgs {
  "latency-ms": number;
  concurrency: number;
  dataset: string;
  "max-in-flight"?: number;
  db?: string;
  json: boolean;
}

const llmReplayCommand: CommandModule<object, LlmReplayArgs> = {
  command: "llm-replay",
  describe:
    "LLM replay wall time against a fixed-latency loopback model server (in a worker thread) vs the ideal calls × latency / concurrency + the same replay's wall time at zero latency; digests of both runs compared",
  builder: (y: Argv) =>
    y
      .option("latency-ms", { type: "number", default: 200, describe: "Fixed latency of every model call, ms" })
      .option("concurrency", { type: "number", default: 32, describe: "The loopback endpoint's concurrency in the router config" })
      .option("dataset", { type: "string", default: "datasets/sample", describe: "Dataset folder to replay" })
      .option("max-in-flight", { type: "number", describe: "Passed to the replay as maxInFlight (default: the replay's own)" })
      .option("db", {
        type: "string",
        describe: "Results DB for the two runs and the benchmark rows (default: the runs go to a temp file, the rows to reports/tapedeck.duckdb)",
      })
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const latencyMs = args["latency-ms"];
    const maxInFlight = args["max-in-flight"];
    if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) throw new CliError(`--latency-ms must be a number ≥ 0, got ${latencyMs}`);
    if (!(Number.isInteger(args.concurrency) && args.concurrency >= 1)) throw new CliError(`--concurrency must be a positive whole number, got ${args.concurrency}`);
    if (maxInFlight !== undefined && !(Number.isInteger(maxInFlight) && maxInFlight >= 1)) throw new CliError(`--max-in-flight must be a positive whole number, got ${maxInFlight}`);
    const tty = !args.json && process.stderr.isTTY;
    let r;
    try {
      r = await benchLlmReplay({
        latencyMs,
        concurrency: args.concurrency,
        datasetDir: args.dataset === "datasets/sample" && !existsSync(args.dataset) ? SAMPLE_DATASET : args.dataset,
        ...(maxInFlight !== undefined ? { maxInFlight } : {}),
        ...(args.db !== undefined ? { resultsDb: args.db } : {}),
        onProgress: (phase, done, total) => {
          if (tty) process.stderr.write(`\rbench llm-replay (${phase}): ${done.toLocaleString("en-US")}${total !== null ? ` / ${total.toLocaleString("en-US")}` : ""} events   `);
        },
      });
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`bench llm-replay: ${(error as Error).message}`);
    } finally {
      if (tty) process.stderr.write("\n");
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const concurrencyNote = r.maxInFlight !== null ? `${r.concurrency}, max in flight ${r.maxInFlight}` : `${r.concurrency}`;
    process.stdout.write(
      `bench llm-replay: ${r.datasetName}, ${r.latencyMs} ms per call, concurrency ${concurrencyNote} (${r.device})\n\n${formatTable(
        ["figure", "value"],
        [
          ["calls (answered by the server)", r.calls],
          ["wall, s", r.wallSeconds],
          ["zero-latency replay wall, s", r.zeroLatencyWallSeconds],
          [`ideal = calls × ${r.latencyMs} ms / ${r.effectiveConcurrency} + zero-latency wall, s`, r.idealSeconds],
          ["ratio wall / ideal", r.ratio],
          ["max in flight seen by the server", r.serverMaxInFlight],
          ["digest", r.digest ?? "-"],
          ["zero-latency digest", r.zeroLatencyDigest ?? "-"],
          ["digests match", r.digestsMatch ? "yes" : "NO"],
        ],
      )}\n\nStored as bench ${r.benchId} in ${r.benchDb}${r.resultsDb ? `; runs ${r.latency.runId} and ${r.zeroLatency.runId} in ${r.resultsDb}` : ""}\n`,
    );
  },
};

export const benchCommand: CommandModule = {
  command: "bench",
  describe: "Throughput benchmarks into the results DB (local model, router, replay engine, maths, LLM replay against a fixed-latency server)",
  builder: (y: Argv) =>
    y.command(localCommand).command(routerCommand).command(replayBenchCommand).command(microBenchCommand).command(llmReplayCommand).command(chaosCommand).demandCommand(1, "Name a benchmark: local, router, replay, micro, llm-replay or chaos"),
  handler: () => {},
};
