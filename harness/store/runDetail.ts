/**
 * One run opened up (`tapedeck show`, the viewer's run and market pages):
 * its abstentions by reason, the decision funnel that answers "why no
 * trade", and a market's timeline down to each forecast's rendered prompt
 * (with the headlines it was shown) and the model's raw answer.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import { readTranscripts, type Transcript } from "./callTranscripts.ts";
import type { ForecastRow } from "./resultsStore.ts";
import { num, numOrNull, readRows, strOrNull } from "./rows.ts";

export interface AbstentionCount {
  model: string;
  reason: string;
  n: number;
  /** Share of that model's forecasts. */
  share: number;
}

export async function abstentionsByReason(c: DuckDBConnection, runId: string): Promise<AbstentionCount[]> {
  return (
    await readRows(
      c,
      "abstentions",
      z.object({ model: z.string(), reason: z.string(), n: num, total: num }),
      `WITH t AS (SELECT model, count(*)::DOUBLE AS total FROM forecasts WHERE run_id = $1 GROUP BY model)
       SELECT f.model, coalesce(f.abstain_reason, 'unknown') AS reason, count(*)::DOUBLE AS n, any_value(t.total) AS total
         FROM forecasts f JOIN t USING (model) WHERE f.run_id = $1 AND f.abstained
        GROUP BY f.model, reason ORDER BY n DESC, f.model, reason`,
      [runId],
    )
  ).map((r) => ({ model: r.model, reason: r.reason, n: r.n, share: r.total > 0 ? r.n / r.total : 0 }));
}

/** Abstentions summed over models, by reason, most frequent first. */
export function totalByReason(counts: readonly AbstentionCount[]): Array<{ reason: string; n: number }> {
  const by = new Map<string, number>();
  for (const a of counts) by.set(a.reason, (by.get(a.reason) ?? 0) + a.n);
  return [...by].map(([reason, n]) => ({ reason, n })).sort((a, b) => b.n - a.n || (a.reason < b.reason ? -1 : 1));
}

export interface FunnelStep {
  step: string;
  n: number | null;
  /** What the step counts, in a few words. */
  note: string;
}

/**
 * events → kept by the filter → decision points → forecasts → abstentions →
 * decisions → no edge → risk holds → signals → orders → filled orders → fills.
 * A step that cannot be known for this run (events the filter dropped, for a
 * run that wrote no metrics) is null.
 */
export async function decisionFunnel(c: DuckDBConnection, runId: string): Promise<FunnelStep[]> {
  const [r] = await readRows(
    c,
    "decision funnel",
    z.object({
      events: numOrNull,
      dropped: numOrNull,
      points: num,
      forecasts: num,
      abstained: num,
      deciding_abstained: num,
      decisions: num,
      no_edge: num,
      risk: num,
      signals: num,
      orders: num,
      filled_orders: num,
      fills: num,
    }),
    `SELECT (SELECT events::DOUBLE FROM runs WHERE run_id = $1) AS events,
            (SELECT value FROM metrics WHERE run_id = $1 AND model = '*' AND metric = 'filter_dropped') AS dropped,
            (SELECT count(*)::DOUBLE FROM (SELECT DISTINCT ts, ticker FROM forecasts WHERE run_id = $1)) AS points,
            (SELECT count(*)::DOUBLE FROM forecasts WHERE run_id = $1) AS forecasts,
            (SELECT count(*)::DOUBLE FROM forecasts WHERE run_id = $1 AND abstained) AS abstained,
            (SELECT count(*)::DOUBLE FROM (SELECT ts, ticker FROM forecasts WHERE run_id = $1 GROUP BY ts, ticker HAVING bool_and(abstained) OR bool_or(abstained AND model = 'consensus'))) AS deciding_abstained,
            (SELECT count(*)::DOUBLE FROM decisions WHERE run_id = $1) AS decisions,
            (SELECT count(*)::DOUBLE FROM decisions WHERE run_id = $1 AND action = 'hold' AND reason NOT LIKE 'risk:%') AS no_edge,
            (SELECT count(*)::DOUBLE FROM decisions WHERE run_id = $1 AND action = 'hold' AND reason LIKE 'risk:%') AS risk,
            (SELECT count(*)::DOUBLE FROM decisions WHERE run_id = $1 AND action <> 'hold') AS signals,
            (SELECT count(*)::DOUBLE FROM orders WHERE run_id = $1) AS orders,
            (SELECT count(*)::DOUBLE FROM orders WHERE run_id = $1 AND filled > 0) AS filled_orders,
            (SELECT count(*)::DOUBLE FROM fills WHERE run_id = $1) AS fills`,
    [runId],
  );
  if (!r) return [];
  return [
    { step: "events", n: r.events, note: "events replayed" },
    { step: "filter dropped", n: r.events !== null && r.dropped !== null ? r.dropped : null, note: "market events the filter dropped (never reached the strategy)" },
    { step: "decision points", n: r.points, note: "market and time pairs the strategy was asked about" },
    { step: "forecasts", n: r.forecasts, note: "forecast rows (every model; consensus members included)" },
    { step: "abstentions", n: r.abstained, note: `forecast rows without a probability; ${r.deciding_abstained} decision points left with nothing to size` },
    { step: "decisions", n: r.decisions, note: "forecasts sized" },
    { step: "no edge", n: r.no_edge, note: "held: no edge after fees and spread, size zero, no price, closed, order working" },
    { step: "risk holds", n: r.risk, note: "held by a risk limit (risk:<rule>)" },
    { step: "signals", n: r.signals, note: "buy YES / buy NO" },
    { step: "orders", n: r.orders, note: "orders sent to the broker" },
    { step: "filled orders", n: r.filled_orders, note: "orders with at least one contract filled" },
    { step: "fills", n: r.fills, note: "fills" },
  ];
}

/** Decision holds by reason (no_edge, risk:max_positions…), most frequent first. */
export async function holdsByReason(c: DuckDBConnection, runId: string): Promise<Array<{ reason: string; n: number }>> {
  return readRows(
    c,
    "holds",
    z.object({ reason: z.string(), n: num }),
    `SELECT reason, count(*)::DOUBLE AS n FROM decisions WHERE run_id = $1 AND action = 'hold' GROUP BY reason ORDER BY n DESC, reason`,
    [runId],
  );
}

const forecastRow = z.object({
  seq: num,
  ts: num,
  model: z.string(),
  agent: strOrNull,
  probability: numOrNull,
  confidence: numOrNull,
  market_price: numOrNull,
  abstained: z.boolean(),
  abstain_reason: strOrNull,
  rationale: strOrNull,
  llm_call_id: strOrNull,
  call_status: strOrNull,
  call_error: strOrNull,
  call_cache: strOrNull,
  call_provider: strOrNull,
  call_model: strOrNull,
  call_cost_nusd: numOrNull,
  call_latency_ms: numOrNull,
});

/** A stored forecast row (the market is the timeline's) with its sequence number and the model call behind it. */
export interface TimelineForecast extends Omit<ForecastRow, "ticker" | "llmCallId"> {
  seq: number;
  call: {
    callId: string;
    status: string | null;
    errorClass: string | null;
    cache: string | null;
    provider: string | null;
    model: string | null;
    costUsd: number | null;
    latencyMs: number | null;
    transcript: Transcript | null;
  } | null;
}

export interface MarketTimeline {
  ticker: string;
  outcome: { result: string | null; settleTs: number; closeTime: number | null; category: string | null } | null;
  forecasts: TimelineForecast[];
  decisions: Array<{ seq: number; ts: number; action: string; probability: number | null; priceUnits: number | null; edge: number | null; contracts: number; reason: string }>;
  orders: Array<{ orderId: string; ts: number; side: string; action: string; limitUnits: number; contracts: number; status: string; filled: number; feeUnits: number; reason: string | null }>;
  fills: Array<{ fillId: string; orderId: string; ts: number; side: string; priceUnits: number; contracts: number; feeUnits: number; liquidity: string }>;
  settlement: { ts: number; result: string | null; yesContracts: number; noContracts: number; costUnits: number; payoutUnits: number; pnlUnits: number } | null;
}

export interface TimelineOptions {
  /** Only forecasts with these sequence numbers (the viewer's single-forecast page). */
  seq?: number;
  /** Load transcripts (prompt and answer); off for a quick listing. */
  transcripts?: boolean;
}

/** Everything the run did on one market, in time order. */
export async function marketTimeline(c: DuckDBConnection, runId: string, ticker: string, options: TimelineOptions = {}): Promise<MarketTimeline> {
  const seqFilter = options.seq !== undefined ? "AND f.seq = $3" : "";
  const params = options.seq !== undefined ? [runId, ticker, options.seq] : [runId, ticker];
  const forecasts = await readRows(
    c,
    "market forecasts",
    forecastRow,
    `SELECT f.seq::DOUBLE AS seq, f.ts::DOUBLE AS ts, f.model, f.agent, f.probability, f.confidence, f.market_price, f.abstained, f.abstain_reason, f.rationale, f.llm_call_id,
            l.status AS call_status, l.error_class AS call_error, l.cache AS call_cache, l.provider AS call_provider, l.model AS call_model,
            l.cost_nusd::DOUBLE AS call_cost_nusd, l.latency_ms AS call_latency_ms
       -- By call id alone (a UUID): a re-decided run (sweep variant, redecide) reuses its leader's calls, logged under the leader's run.
       FROM forecasts f LEFT JOIN llm_calls l ON l.call_id = f.llm_call_id
      WHERE f.run_id = $1 AND f.ticker = $2 ${seqFilter} ORDER BY f.seq`,
    params,
  );
  const callIds = forecasts.map((f) => f.llm_call_id).filter((id): id is string => id !== null);
  const transcripts = options.transcripts === false ? new Map<string, Transcript>() : await readTranscripts(c, callIds);
  const decisions = await readRows(
    c,
    "market decisions",
    z.object({ seq: num, ts: num, action: z.string(), probability: numOrNull, price_units: numOrNull, edge: numOrNull, contracts: num, reason: z.string() }),
    `SELECT seq::DOUBLE AS seq, ts::DOUBLE AS ts, action, probability, price_units::DOUBLE AS price_units, edge, contracts::DOUBLE AS contracts, reason
       FROM decisions WHERE run_id = $1 AND ticker = $2 ORDER BY seq`,
    [runId, ticker],
  );
  const orders = await readRows(
    c,
    "market orders",
    z.object({ order_id: z.string(), ts: num, side: z.string(), action: z.string(), limit_units: num, contracts: num, status: z.string(), filled: num, fee_units: num, reason: strOrNull }),
    `SELECT order_id, ts::DOUBLE AS ts, side, action, limit_units::DOUBLE AS limit_units, contracts::DOUBLE AS contracts, status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee_units, reason
       FROM orders WHERE run_id = $1 AND ticker = $2 ORDER BY ev, ts, order_id`,
    [runId, ticker],
  );
  const fills = await readRows(
    c,
    "market fills",
    z.object({ fill_id: z.string(), order_id: z.string(), ts: num, side: z.string(), price_units: num, contracts: num, fee_units: num, liquidity: z.string() }),
    `SELECT fill_id, order_id, ts::DOUBLE AS ts, side, price_units::DOUBLE AS price_units, contracts::DOUBLE AS contracts, fee_units::DOUBLE AS fee_units, liquidity
       FROM fills WHERE run_id = $1 AND ticker = $2 ORDER BY ev, ts, fill_id`,
    [runId, ticker],
  );
  const [settlement] = await readRows(
    c,
    "market settlement",
    z.object({ ts: num, result: strOrNull, yes_contracts: num, no_contracts: num, cost_units: num, payout_units: num, pnl_units: num }),
    `SELECT ts::DOUBLE AS ts, result, yes_contracts::DOUBLE AS yes_contracts, no_contracts::DOUBLE AS no_contracts, cost_units::DOUBLE AS cost_units,
            payout_units::DOUBLE AS payout_units, pnl_units::DOUBLE AS pnl_units
       FROM settlements WHERE run_id = $1 AND ticker = $2 ORDER BY ev LIMIT 1`,
    [runId, ticker],
  );
  const [outcome] = await readRows(
    c,
    "market outcome",
    z.object({ result: strOrNull, settle_ts: num, close_time: numOrNull, category: strOrNull }),
    `SELECT result, settle_ts::DOUBLE AS settle_ts, close_time::DOUBLE AS close_time, category FROM outcomes WHERE run_id = $1 AND ticker = $2 LIMIT 1`,
    [runId, ticker],
  );
  return {
    ticker,
    outcome: outcome ? { result: outcome.result, settleTs: outcome.settle_ts, closeTime: outcome.close_time, category: outcome.category } : null,
    forecasts: forecasts.map((f) => ({
      seq: f.seq,
      ts: f.ts,
      model: f.model,
      agent: f.agent,
      probability: f.probability,
      confidence: f.confidence,
      marketPrice: f.market_price,
      abstained: f.abstained,
      abstainReason: f.abstain_reason,
      rationale: f.rationale,
      call:
        f.llm_call_id === null
          ? null
          : {
              callId: f.llm_call_id,
              status: f.call_status,
              errorClass: f.call_error,
              cache: f.call_cache,
              provider: f.call_provider,
              model: f.call_model,
              costUsd: f.call_cost_nusd === null ? null : f.call_cost_nusd / 1e9,
              latencyMs: f.call_latency_ms,
              transcript: transcripts.get(f.llm_call_id) ?? null,
            },
    })),
    decisions: decisions.map((d) => ({ seq: d.seq, ts: d.ts, action: d.action, probability: d.probability, priceUnits: d.price_units, edge: d.edge, contracts: d.contracts, reason: d.reason })),
    orders: orders.map((o) => ({ orderId: o.order_id, ts: o.ts, side: o.side, action: o.action, limitUnits: o.limit_units, contracts: o.contracts, status: o.status, filled: o.filled, feeUnits: o.fee_units, reason: o.reason })),
    fills: fills.map((f) => ({ fillId: f.fill_id, orderId: f.order_id, ts: f.ts, side: f.side, priceUnits: f.price_units, contracts: f.contracts, feeUnits: f.fee_units, liquidity: f.liquidity })),
    settlement: settlement
      ? { ts: settlement.ts, result: settlement.result, yesContracts: settlement.yes_contracts, noContracts: settlement.no_contracts, costUnits: settlement.cost_units, payoutUnits: settlement.payout_units, pnlUnits: settlement.pnl_units }
      : null,
  };
}

/** Markets the run touched, with forecast, abstention and trade counts and P&L (settled, or open at the end at its mark) (the viewer's market list). */
export async function runMarkets(c: DuckDBConnection, runId: string): Promise<Array<{ ticker: string; forecasts: number; abstained: number; fills: number; pnlUnits: number | null; result: string | null }>> {
  const rows = await readRows(
    c,
    "run markets",
    z.object({ ticker: z.string(), forecasts: num, abstained: num, fills: num, pnl_units: numOrNull, result: strOrNull }),
    `WITH f AS (SELECT ticker, count(*)::DOUBLE AS forecasts, count(*) FILTER (WHERE abstained)::DOUBLE AS abstained FROM forecasts WHERE run_id = $1 GROUP BY ticker),
          x AS (SELECT ticker, count(*)::DOUBLE AS fills FROM fills WHERE run_id = $1 GROUP BY ticker),
          s AS (SELECT ticker, sum(pnl_units)::DOUBLE AS pnl_units
                  FROM (SELECT ticker, pnl_units FROM settlements WHERE run_id = $1 UNION ALL SELECT ticker, pnl_units FROM open_positions WHERE run_id = $1)
                 GROUP BY ticker),
          o AS (SELECT ticker, any_value(result) AS result FROM outcomes WHERE run_id = $1 GROUP BY ticker)
     SELECT f.ticker, f.forecasts, f.abstained, coalesce(x.fills, 0) AS fills, s.pnl_units, o.result
       FROM f LEFT JOIN x USING (ticker) LEFT JOIN s USING (ticker) LEFT JOIN o USING (ticker) ORDER BY f.ticker`,
    [runId],
  );
  return rows.map((r) => ({ ticker: r.ticker, forecasts: r.forecasts, abstained: r.abstained, fills: r.fills, pnlUnits: r.pnl_units, result: r.result }));
}
