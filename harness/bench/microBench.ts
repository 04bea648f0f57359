/**
 * tinybench micro-benchmarks of the replay engine's pure maths: fees, Kelly
 * sizing, risk checks, fill models and forecast metrics. Speed is measured
 * here, never asserted by timed tests. `tapedeck bench` can store the rows;
 * run alone with `npx tsx harness/bench/microBench.ts`.
 */
import { pathToFileURL } from "node:url";
import { Bench } from "tinybench";
import { fillFee, orderFee } from "../broker/fees.ts";
import { fillAgainstBook, type BookState } from "../broker/fillModels.ts";
import { sizeBestSide } from "../sizing/kelly.ts";
import { checkRisk, DEFAULT_RISK_LIMITS, type PortfolioView } from "../sizing/riskLimits.ts";
import { brier, logLoss, type ForecastRow } from "../metrics/scoring.ts";
import { ece } from "../metrics/calibration.ts";
import { summarizeForecasts } from "../metrics/forecastSummary.ts";

export interface MicroBenchResult {
  name: string;
  opsPerSec: number;
  /** Mean time per operation, in nanoseconds. */
  meanNs: number;
}

export interface MicroBenchOptions {
  /** Measuring time per task in ms (tinybench `time`); default 500. */
  timeMs?: number;
  /** Warm-up time per task in ms; default 100. */
  warmupMs?: number;
}

/** Deterministic forecast rows (an LCG, so every run benchmarks the same data). */
function benchRows(n: number): ForecastRow[] {
  let x = 1;
  const next = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const rows: ForecastRow[] = [];
  for (let i = 0; i < n; i++) {
    const p = next();
    rows.push({ p, outcome: next() < p ? 1 : 0, marketP: 0.5 + (p - 0.5) * 0.6 });
  }
  return rows;
}

export async function runMicroBenchmarks(options: MicroBenchOptions = {}): Promise<MicroBenchResult[]> {
  const bench = new Bench({ time: options.timeMs ?? 500, warmupTime: options.warmupMs ?? 100 });
  const rows1k = benchRows(1_000);
  const rows10k = benchRows(10_000);
  const book: BookState = {
    yes: [[4800, 10], [4700, 20], [4600, 50], [4500, 100]],
    no: [[5000, 5], [4900, 10], [4800, 40], [4700, 100]],
  };
  const view: PortfolioView = {
    openPositions: 3, hasPositionIn: (t) => t === "HELD", tradesInLastHour: 2,
    dayStartEquityUnits: 1_000_000, equityUnits: 990_000, marketVolume: 5_000,
  };
  let price = 1;
  // A sink keeps results observable so the JIT cannot drop the work.
  let sink = 0;

  bench
    .add("fees: fillFee taker (varying price)", () => {
      price = price >= 9999 ? 1 : price + 1;
      sink += fillFee(37, price, "taker");
    })
    .add("fees: orderFee of 3 fills", () => {
      sink += orderFee([175, 1632, 17_500]);
    })
    .add("kelly: sizeBestSide (both sides, exact fee)", () => {
      const s = sizeBestSide({ probability: 0.62, yesBid: 4800, yesAsk: 5200, bankrollUnits: 10_000_000, kellyMultiplier: 0.25, maxPositionFraction: 0.03 });
      sink += s?.contracts ?? 0;
    })
    .add("risk: checkRisk (all rules pass)", () => {
      const v = checkRisk(DEFAULT_RISK_LIMITS, view, { ticker: "KXA", confidence: 0.8, edge: 0.05, contracts: 5, costUnits: 25_900 });
      sink += v.ok ? 1 : 0;
    })
    .add("fills: book walk, 12 contracts over 2 levels", () => {
      sink += fillAgainstBook({ ticker: "KXA", side: "yes", action: "buy", limitUnits: 5100, contracts: 12 }, book).length;
    })
    .add("metrics: brier + logLoss, 10k rows", () => {
      sink += brier(rows10k) + logLoss(rows10k);
    })
    .add("metrics: ECE 10 bins, 10k rows", () => {
      sink += ece(rows10k, 10);
    })
    .add("metrics: summarizeForecasts 1k rows, 200 bootstrap samples", () => {
      sink += summarizeForecasts(rows1k, { bins: 10, bootstrap: { samples: 200, seed: 1 } }).brier;
    });

  await bench.run();
  if (!Number.isFinite(sink)) throw new Error("micro-benchmark produced a non-finite result");

  const out: MicroBenchResult[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== "completed") {
      throw new Error(`micro-benchmark "${task.name}" did not complete (${r.state}${r.state === "errored" ? `: ${r.error.message}` : ""})`);
    }
    out.push({ name: task.name, opsPerSec: r.throughput.mean, meanNs: r.latency.mean * 1e6 });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await runMicroBenchmarks();
  for (const r of rows) {
    console.log(`${r.name.padEnd(62)} ${Math.round(r.opsPerSec).toLocaleString("en-US").padStart(12)} ops/s ${r.meanNs.toFixed(0).padStart(10)} ns`);
  }
}
