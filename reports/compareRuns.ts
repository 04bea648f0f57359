/**
 * Paired comparison of two runs on the forecasts both made for the same
 * market at the same time: Brier difference (A − B, negative means A is
 * better) with a seeded paired bootstrap interval, and the P&L difference.
 * The bootstrap resamples whole events (the runs' `market_events`; the
 * ticker where a run recorded none): the markets of one Kalshi event are
 * mutually exclusive, so they are one draw, not several.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { clusterSums } from "../harness/metrics/clusterSums.ts";
import { pairedBootstrapDifference, type BootstrapInterval } from "../harness/metrics/bootstrap.ts";
import { num, queryRows, str } from "./query.ts";

export interface CompareOptions {
  runA: string;
  runB: string;
  /** Which model's forecasts to use in each run; default: the run's only model, or its "consensus". */
  modelA?: string | undefined;
  modelB?: string | undefined;
  samples: number;
  seed: number;
}

export interface Comparison {
  runA: string;
  runB: string;
  modelA: string;
  modelB: string;
  pairs: number;
  markets: number;
  /** Events the markets belong to: the bootstrap's resampling unit. */
  events: number;
  brierA: number;
  brierB: number;
  brierDiff: BootstrapInterval;
  pnlA: number | null;
  pnlB: number | null;
  pnlDiff: number | null;
}

export class CompareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompareError";
  }
}

async function actingModel(c: DuckDBConnection, runId: string, wanted: string | undefined): Promise<string> {
  const rows = await queryRows(c, "SELECT DISTINCT model FROM forecasts WHERE run_id = $1 ORDER BY model", [runId]);
  const models = rows.map((r) => str(r, "model"));
  if (models.length === 0) throw new CompareError(`run ${runId} has no forecasts (is the id right?)`);
  if (wanted !== undefined) {
    if (!models.includes(wanted)) throw new CompareError(`run ${runId} has no forecasts by model ${wanted}; it has: ${models.join(", ")}`);
    return wanted;
  }
  if (models.length === 1) return models[0]!;
  if (models.includes("consensus")) return "consensus";
  throw new CompareError(`run ${runId} has several models (${models.join(", ")}); name one with --model-a/--model-b`);
}

async function runPnl(c: DuckDBConnection, runId: string): Promise<number | null> {
  const stored = await queryRows(c, "SELECT value FROM metrics WHERE run_id = $1 AND model = '*' AND metric = 'pnl_usd'", [runId]);
  if (stored.length > 0) return num(stored[0], "value");
  // Settled plus still-open positions (marked to bid), as the run's own pnl_usd counts them.
  const raw = await queryRows(
    c,
    "SELECT sum(pnl_units) / 1e4 AS pnl FROM (SELECT pnl_units FROM settlements WHERE run_id = $1 UNION ALL SELECT pnl_units FROM open_positions WHERE run_id = $1)",
    [runId],
  );
  return num(raw[0], "pnl");
}

export async function compareRuns(c: DuckDBConnection, o: CompareOptions): Promise<Comparison> {
  const modelA = await actingModel(c, o.runA, o.modelA);
  const modelB = await actingModel(c, o.runB, o.modelB);
  // Outcomes from run A's outcome rows, else run B's: a market settles the same way in both.
  const rows = await queryRows(
    c,
    `WITH o AS (SELECT ticker, any_value(CASE result WHEN 'yes' THEN 1 ELSE 0 END) AS y FROM outcomes
                WHERE run_id IN ($1, $2) AND result IN ('yes', 'no') GROUP BY ticker)
     , ev AS (SELECT ticker, min(event_ticker) AS event_ticker FROM market_events WHERE run_id IN ($1, $2) GROUP BY ticker)
     SELECT a.ticker, coalesce(nullif(ev.event_ticker, ''), a.ticker) AS event, a.ts, a.probability AS pa, b.probability AS pb, o.y
     FROM forecasts a JOIN forecasts b ON a.ticker = b.ticker AND a.ts = b.ts JOIN o ON o.ticker = a.ticker
     LEFT JOIN ev ON ev.ticker = a.ticker
     WHERE a.run_id = $1 AND b.run_id = $2 AND a.model = $3 AND b.model = $4
       AND NOT a.abstained AND NOT b.abstained AND a.probability IS NOT NULL AND b.probability IS NOT NULL
     ORDER BY a.ts, a.ticker`,
    [o.runA, o.runB, modelA, modelB],
  );
  if (rows.length === 0) throw new CompareError(`runs ${o.runA} and ${o.runB} share no settled forecasts (same market and time)`);
  const pa = Float64Array.from(rows, (r) => num(r, "pa") ?? Number.NaN);
  const pb = Float64Array.from(rows, (r) => num(r, "pb") ?? Number.NaN);
  const y = Float64Array.from(rows, (r) => num(r, "y") ?? Number.NaN);
  const brierOf = (p: Float64Array) => (idx: Uint32Array) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i]!;
      s += (p[j]! - y[j]!) ** 2;
    }
    return s / idx.length;
  };
  // Resample whole events: forecasts of one market share its outcome, and one event's markets share one result (harness/metrics/clusterSums.ts).
  const clusters = clusterSums(
    rows.map((r) => str(r, "event")),
    { a: pa.map((p, i) => (p - y[i]!) ** 2), b: pb.map((p, i) => (p - y[i]!) ** 2) },
  );
  const diff = pairedBootstrapDifference(
    clusters.n,
    (idx) => clusters.ratio(idx, clusters.sums.a, clusters.count),
    (idx) => clusters.ratio(idx, clusters.sums.b, clusters.count),
    { samples: o.samples, seed: o.seed },
  );
  const all = Uint32Array.from(rows.keys());
  const pnlA = await runPnl(c, o.runA);
  const pnlB = await runPnl(c, o.runB);
  return {
    runA: o.runA,
    runB: o.runB,
    modelA,
    modelB,
    pairs: rows.length,
    markets: new Set(rows.map((r) => str(r, "ticker"))).size,
    events: clusters.n,
    brierA: brierOf(pa)(all),
    brierB: brierOf(pb)(all),
    brierDiff: diff,
    pnlA,
    pnlB,
    pnlDiff: pnlA !== null && pnlB !== null ? pnlA - pnlB : null,
  };
}

export function comparisonMarkdown(c: Comparison): string {
  const f = (v: number | null, d = 4) => (v === null ? "–" : v.toFixed(d));
  const verdict =
    c.brierDiff.upper < 0 ? `${c.runA} forecasts better (interval below 0)` : c.brierDiff.lower > 0 ? `${c.runB} forecasts better (interval above 0)` : "no clear difference (interval spans 0)";
  return [
    `# ${c.runA} vs ${c.runB}`,
    "",
    `Paired on ${c.pairs} forecasts (${c.markets} markets in ${c.events} events) both runs made at the same market and time. Models: ${c.modelA} vs ${c.modelB}.`,
    "",
    "| | A | B | A − B | 95% interval |",
    "|---|---:|---:|---:|---|",
    `| Brier | ${f(c.brierA)} | ${f(c.brierB)} | ${f(c.brierDiff.estimate)} | ${f(c.brierDiff.lower)} … ${f(c.brierDiff.upper)} |`,
    `| P&L after fees $ | ${f(c.pnlA, 2)} | ${f(c.pnlB, 2)} | ${f(c.pnlDiff, 2)} | |`,
    "",
    `Verdict: ${verdict}. Paired bootstrap over whole events, ${c.brierDiff.samples} resamples.`,
    "",
  ].join("\n");
}
