/**
 * `tapedeck bench replay`: the rule-only pipeline's throughput and peak
 * memory on a synthetic dataset of N events (default 10 million), recorded
 * in the benchmarks table. The replay runs into a scratch results DB so the
 * benchmark does not add a run to the user's reports.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { cpuDevice } from "./cpuDevice.ts";
import { join } from "node:path";
import { runReplay } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { buildSyntheticDataset } from "./syntheticDataset.ts";
import { metricValue } from "../results/runMetrics.ts";

export interface ReplayBenchOptions {
  events: number;
  markets: number;
  strategy: "market" | "momentum";
  cacheDir?: string;
  onProgress?: (events: number, total: number) => void;
}

export interface ReplayBenchResult {
  events: number;
  wallSeconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
  forecasts: number;
  buildSeconds: number;
  device: string;
}

export async function benchReplay(options: ReplayBenchOptions): Promise<ReplayBenchResult> {
  const cacheDir = options.cacheDir ?? join(tmpdir(), "tapedeck-bench");
  mkdirSync(cacheDir, { recursive: true });
  const buildStart = performance.now();
  const datasetDir = await buildSyntheticDataset(cacheDir, { events: options.events, markets: options.markets, stepMs: 100 });
  const buildSeconds = (performance.now() - buildStart) / 1000;

  const scratch = join(cacheDir, `bench-results-${randomBytes(4).toString("hex")}.duckdb`);
  const db = await DuckDbStore.open(scratch);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const config = parseRunConfig({
      name: "bench-replay",
      strategy: options.strategy === "momentum" ? { kind: "momentum" } : { kind: "market" },
      metrics: { bootstrapSamples: 0 },
    });
    const outcome = await runReplay({
      config,
      datasetDir,
      db,
      kind: "replay",
      label: "bench",
      onProgress: (p) => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        options.onProgress?.(p.events, p.totalEvents ?? options.events);
      },
    });
    const forecasts = metricValue(outcome.metrics, "*", "forecasts") ?? 0;
    // Throughput of the pipeline itself: runReplay reports events over the streaming phase, metrics excluded.
    return {
      events: outcome.events,
      wallSeconds: outcome.events / outcome.eventsPerSecond,
      eventsPerSecond: outcome.eventsPerSecond,
      peakRssMb: peakRss / 2 ** 20,
      forecasts,
      buildSeconds,
      device: cpuDevice(),
    };
  } finally {
    clearInterval(sampler);
    db.close();
    rmSync(scratch, { force: true });
    rmSync(`${scratch}.wal`, { force: true });
  }
}
