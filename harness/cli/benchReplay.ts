/** `tapedeck bench replay` and `tapedeck bench micro`: the engine's own throughput figures into the benchmarks table. */
import type { Argv, CommandModule } from "yargs";
import { runMicroBenchmarks } from "../bench/microBench.ts";
import { benchReplay } from "../bench/replayBench.ts";
import type { BenchRow } from "./bench.ts";
import { writeBenchRows } from "./bench.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";

interface ReplayBenchArgs {
  events: number;
  markets: number;
  strategy: "market" | "momentum";
  "cache-dir"?: string;
  db: string;
  json: boolean;
}

export const replayBenchCommand: CommandModule<object, ReplayBenchArgs> = {
  command: "replay",
  describe: "Rule-only pipeline throughput (events/s) and peak memory on a synthetic dataset of N events",
  builder: (y: Argv) =>
    y
      .option("events", { type: "number", default: 10_000_000, describe: "Events in the synthetic dataset" })
      .option("markets", { type: "number", default: 1000, describe: "Markets in the synthetic dataset" })
      .option("strategy", { choices: ["market", "momentum"] as const, default: "market" as const, describe: "Rule strategy to run" })
      .option("cache-dir", { type: "string", describe: "Where the synthetic dataset is built and kept (default: the OS temp folder)" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    if (!(Number.isInteger(args.events) && args.events > 3 * args.markets)) throw new CliError(`--events must be a whole number above 3 × --markets`);
    const r = await benchReplay({
      events: args.events,
      markets: args.markets,
      strategy: args.strategy,
      ...(args["cache-dir"] ? { cacheDir: args["cache-dir"] } : {}),
      onProgress: (done, total) => {
        if (!args.json && process.stderr.isTTY) process.stderr.write(`\rbench replay: ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} events`);
      },
    });
    if (!args.json && process.stderr.isTTY) process.stderr.write("\n");
    const params = { events: r.events, markets: args.markets, strategy: args.strategy, forecasts: r.forecasts };
    const name = `${args.strategy} on synthetic ${r.events}`;
    const rows: BenchRow[] = [
      { kind: "replay", name, device: r.device, metric: "events_per_s", value: r.eventsPerSecond, unit: "events/s", params },
      { kind: "replay", name, device: r.device, metric: "peak_rss_mb", value: r.peakRssMb, unit: "MB", params },
      { kind: "replay", name, device: r.device, metric: "wall_s", value: r.wallSeconds, unit: "s", params },
    ];
    const benchId = await writeBenchRows(args.db, rows);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ benchId, ...r }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `bench replay (${r.device})\n\n${formatTable(
        ["figure", "value"],
        [
          ["events", r.events],
          ["pipeline wall time, s", r.wallSeconds],
          ["events per second", Math.round(r.eventsPerSecond)],
          ["peak RSS during replay, MB", Math.round(r.peakRssMb)],
          ["forecasts stored", r.forecasts],
          ["dataset build (first time only), s", r.buildSeconds],
        ],
      )}\n\nStored as bench ${benchId} in ${args.db}\n`,
    );
  },
};

interface MicroArgs {
  db: string;
  json: boolean;
  "time-ms": number;
}

export const microBenchCommand: CommandModule<object, MicroArgs> = {
  command: "micro",
  describe: "tinybench micro-benchmarks of the pure maths (fees, Kelly, risk, fills, metrics)",
  builder: (y: Argv) =>
    y
      .option("time-ms", { type: "number", default: 500, describe: "Time per task" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const results = await runMicroBenchmarks({ timeMs: args["time-ms"] });
    const device = "cpu";
    const rows: BenchRow[] = results.flatMap((r) => [
      { kind: "micro", name: r.name, device, metric: "ops_per_s", value: r.opsPerSec, unit: "ops/s", params: {} },
      { kind: "micro", name: r.name, device, metric: "mean_ns", value: r.meanNs, unit: "ns", params: {} },
    ]);
    const benchId = await writeBenchRows(args.db, rows);
    if (args.json) process.stdout.write(`${JSON.stringify({ benchId, results }, null, 2)}\n`);
    else
      process.stdout.write(
        `${formatTable(["benchmark", "ops/s", "mean ns"], results.map((r) => [r.name, Math.round(r.opsPerSec), Math.round(r.meanNs)]))}\n\nStored as bench ${benchId} in ${args.db}\n`,
      );
  },
};
