/**
 * A run's digest: sha256 over its ordered decisions, fills, settlements and
 * metrics, read back from the results DB. The same config and dataset must
 * give the same digest, whether the run went straight through or was
 * resumed after a crash; that is what the digest test checks.
 * Wall-clock fields (timings, llm latencies) are left out on purpose, and so
 * are the metrics of what model calls cost (AI spend, cache hits, latency):
 * a warm cache or a redecide changes those by design while deciding exactly
 * the same, and the digest is about what was decided and what it earned.
 */
import { createHash } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";

/** Metrics of what model calls cost and what the cost layers (cache, filter) kept from them. */
export const COST_LAYER_METRICS = [
  "ai_spend_usd", "llm_calls", "provider_calls", "cost_per_forecast_usd", "cost_per_signal_usd", "net_pnl_usd",
  "cache_hit_rate", "cache_exact_hits", "cache_semantic_hits", "calls_avoided", "tokens_in", "tokens_out",
  "latency_p50_ms", "latency_p95_ms", "tokens_per_s",
] as const;

const PARTS: ReadonlyArray<[string, string]> = [
  ["forecasts", `SELECT seq, ts, ticker, model, probability, confidence, market_price, abstained, abstain_reason FROM forecasts WHERE run_id = $1 ORDER BY seq`],
  ["decisions", `SELECT seq, ts, ticker, action, probability, price_units, edge, kelly_fraction, contracts, reason FROM decisions WHERE run_id = $1 ORDER BY seq`],
  // Order and fill ids are derived from the run id (stable across restarts, distinct between runs): what was traded is compared, not its names.
  ["orders", `SELECT ts, ticker, side, action, limit_units, contracts, status, filled, fee_units FROM orders WHERE run_id = $1 ORDER BY ev, ts, ticker, side, action, limit_units, contracts, status, filled, fee_units`],
  ["fills", `SELECT ts, ticker, side, price_units, contracts, fee_units FROM fills WHERE run_id = $1 ORDER BY ev, ts, ticker, side, price_units, contracts, fee_units`],
  ["settlements", `SELECT ts, ticker, result, yes_contracts, no_contracts, cost_units, payout_units, pnl_units FROM settlements WHERE run_id = $1 ORDER BY ev, ticker`],
  ["open_positions", `SELECT ts, ticker, yes_contracts, no_contracts, cost_units, mark_units, pnl_units FROM open_positions WHERE run_id = $1 ORDER BY ev, ticker`],
  [
    "metrics",
    `SELECT model, metric, value, lo, hi FROM metrics WHERE run_id = $1
        AND metric NOT IN (${COST_LAYER_METRICS.map((m) => `'${m}'`).join(", ")}) AND metric NOT LIKE 'filter_dropped%'
      ORDER BY model, metric`,
  ],
];

export async function runDigest(c: DuckDBConnection, runId: string): Promise<string> {
  const h = createHash("sha256");
  for (const [name, sql] of PARTS) {
    h.update(`#${name}\n`);
    const result = await c.stream(sql, [runId]);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const row of chunk.getRows()) h.update(row.map((v) => (v === null ? "∅" : typeof v === "number" ? v.toPrecision(17) : String(v))).join("\t") + "\n");
    }
  }
  return h.digest("hex");
}
