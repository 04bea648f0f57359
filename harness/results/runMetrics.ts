/**
 * A run's metrics, computed after the run from its rows in the results DB
 * (never accumulated ad hoc during it), per model and for the run as a
 * whole (model '*'). Scored rows: every non-abstained forecast on a market
 * that settled YES or NO; void markets are not scored. Each forecast counts
 * once, so a market forecast hourly weighs more than one forecast once.
 *
 * Intervals resample whole events (the `market_events` table: the dataset's
 * event_ticker, the ticker where there is none): the markets of one Kalshi
 * event are mutually exclusive, so their forecasts and P&L are not
 * independent draws.
 *
 * Money: P&L = realized (settlements) + unrealized (positions still open at
 * the end of the data, marked to bid: `open_positions`); ROI divides that by
 * every entry's price plus fees; Sharpe and drawdown read the marked equity
 * curve. All four see the same marked positions.
 *
 * Rows are read in a fixed order and summed in that order, so the same run
 * gives the same numbers, bit for bit (they feed the run digest).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { bootstrapInterval, bootstrapSum, pairedBootstrapDifference, type BootstrapOptions } from "../metrics/bootstrap.ts";
import { expectedCalibrationError, reliabilityBins } from "../metrics/calibration.ts";
import { summarizePnl, type EquityPoint } from "../metrics/pnl.ts";
import { accuracy, brier, brierSkill, logLoss, type ForecastRow } from "../metrics/scoring.ts";
import { unitsToDollars } from "../money/money.ts";
import { clusterSums } from "../metrics/clusterSums.ts";
import { correlation } from "../metrics/correlation.ts";
import type { CalibrationBinRow, MetricRow } from "../store/resultsStore.ts";

export interface RunMetricsOptions {
  /** Training cutoff per model (epoch ms): forecasts on markets that closed before it are possibly contaminated. */
  trainingCutoffs?: Readonly<Record<string, number>>;
  /** Market events the event filter kept from the model, by reason (its dropped() counters). */
  filterDropped?: Readonly<Record<string, number>>;
  bins: number;
  bootstrap: BootstrapOptions;
  bankrollUnits: number;
}

interface ScoredRow extends ForecastRow {
  model: string;
  ticker: string;
  /** The market's event (its ticker where the dataset names none): the bootstrap's cluster. */
  event: string;
}

/** SQL for a row's event, given the alias of a table with run_id and ticker joined to market_events as `me`. */
export const EVENT_OF = (alias: string): string => `coalesce(nullif(me.event_ticker, ''), ${alias}.ticker)`;

export async function computeRunMetrics(
  c: DuckDBConnection,
  runId: string,
  options: RunMetricsOptions,
): Promise<{ metrics: MetricRow[]; bins: CalibrationBinRow[] }> {
  const metrics: MetricRow[] = [];
  const bins: CalibrationBinRow[] = [];
  const put = (model: string, metric: string, value: number | null, lo: number | null = null, hi: number | null = null) =>
    metrics.push({ model, metric, value: value !== null && Number.isFinite(value) ? value : null, lo, hi });

  const scored = (await c.runAndReadAll(
    `SELECT f.model, f.ticker, ${EVENT_OF("f")} AS event, f.probability AS p, CASE o.result WHEN 'yes' THEN 1 ELSE 0 END AS outcome, f.market_price AS "marketP"
       FROM forecasts f JOIN outcomes o ON o.run_id = f.run_id AND o.ticker = f.ticker
       LEFT JOIN market_events me ON me.run_id = f.run_id AND me.ticker = f.ticker
      WHERE f.run_id = $1 AND NOT f.abstained AND o.result IN ('yes', 'no')
      ORDER BY f.model, f.seq`,
    [runId],
  )).getRowObjectsJS() as unknown as ScoredRow[];

  const counts = (await c.runAndReadAll(
    `SELECT model, count(*)::DOUBLE AS n, count(*) FILTER (WHERE abstained)::DOUBLE AS abstained
       FROM forecasts WHERE run_id = $1 GROUP BY model ORDER BY model`,
    [runId],
  )).getRowObjectsJS() as Array<{ model: string; n: number; abstained: number }>;

  // Possibly contaminated: the market closed before the model's training cutoff, so its outcome may be in the training data.
  const contamination = new Map<string, { forecasts: number; markets: number }>();
  for (const [model, cutoff] of Object.entries(options.trainingCutoffs ?? {})) {
    const r = (await c.runAndReadAll(
      `SELECT count(*)::DOUBLE AS forecasts, count(DISTINCT f.ticker)::DOUBLE AS markets
         FROM forecasts f JOIN outcomes o ON o.run_id = f.run_id AND o.ticker = f.ticker
        WHERE f.run_id = $1 AND f.model = $2 AND NOT f.abstained AND o.close_time < $3`,
      [runId, model, cutoff],
    )).getRowObjectsJS()[0] as { forecasts: number; markets: number };
    contamination.set(model, r);
  }

  const byModel = new Map<string, ScoredRow[]>();
  for (const r of scored) {
    let list = byModel.get(r.model);
    if (!list) byModel.set(r.model, (list = []));
    list.push(r);
  }

  for (const { model, n, abstained } of counts) {
    put(model, "forecasts", n);
    put(model, "abstentions", abstained);
    const rows = byModel.get(model) ?? [];
    put(model, "scored", rows.length);
    const contaminated = contamination.get(model);
    if (contaminated) {
      put(model, "contaminated_forecasts", contaminated.forecasts);
      put(model, "contaminated_markets", contaminated.markets);
    }
    if (rows.length === 0) continue;
    const clusters = marketClusters(rows);
    const b = options.bootstrap.samples > 0 ? bootstrapInterval(clusters.n, (idx) => clusters.ratio(idx, clusters.sse, clusters.count), options.bootstrap) : null;
    put(model, "brier", brier(rows), b?.lower ?? null, b?.upper ?? null);
    put(model, "log_loss", logLoss(rows));
    put(model, "accuracy", accuracy(rows));
    const withMarket = rows.filter((r) => r.marketP !== null && r.marketP !== undefined);
    if (withMarket.length > 0) {
      const skill = brierSkill(withMarket);
      const mc = marketClusters(withMarket);
      const s =
        options.bootstrap.samples > 0 ? bootstrapInterval(mc.n, (idx) => 1 - mc.ratio(idx, mc.sse, mc.marketSse), options.bootstrap) : null;
      put(model, "brier_skill", skill, s?.lower ?? null, s?.upper ?? null);
      const marketRows: ForecastRow[] = withMarket.map((r) => ({ p: r.marketP as number, outcome: r.outcome }));
      put(model, "market_brier", brier(marketRows));
      if (options.bootstrap.samples > 0) {
        const d = pairedBootstrapDifference(
          mc.n,
          (idx) => mc.ratio(idx, mc.sse, mc.count),
          (idx) => mc.ratio(idx, mc.marketSse, mc.count),
          options.bootstrap,
        );
        put(model, "brier_minus_market", brier(withMarket) - brier(marketRows), d.lower, d.upper);
      }
      put(model, "market_correlation", correlation(withMarket.map((r) => r.p), withMarket.map((r) => r.marketP as number)));
    }
    const rel = reliabilityBins(rows, options.bins);
    put(model, "ece", expectedCalibrationError(rel));
    rel.forEach((bin, i) =>
      bins.push({ model, bin: i, lo: bin.lower, hi: bin.upper, n: bin.count, meanForecast: bin.meanP, observedRate: bin.observedRate }),
    );
  }

  // Money, for the run as a whole.
  const one = async <T>(sql: string): Promise<T> => (await c.runAndReadAll(sql, [runId])).getRowObjectsJS()[0] as T;
  const d = await one<{ signals: number; holds: number }>(
    `SELECT count(*) FILTER (WHERE action <> 'hold')::DOUBLE AS signals, count(*) FILTER (WHERE action = 'hold')::DOUBLE AS holds FROM decisions WHERE run_id = $1`,
  );
  const o = await one<{ orders: number; filled: number; fees: number }>(
    `SELECT count(*)::DOUBLE AS orders, count(*) FILTER (WHERE filled > 0)::DOUBLE AS filled, coalesce(sum(fee_units), 0)::DOUBLE AS fees FROM orders WHERE run_id = $1`,
  );
  const f = await one<{ fills: number; contracts: number; notional: number }>(
    `SELECT count(*)::DOUBLE AS fills, coalesce(sum(contracts), 0)::DOUBLE AS contracts, coalesce(sum(contracts * price_units), 0)::DOUBLE AS notional FROM fills WHERE run_id = $1`,
  );
  const ai = await one<{ spend: number; calls: number; hits: number; exact: number; semantic: number; provider: number; tokensIn: number; tokensOut: number; p50: number | null; p95: number | null; tokens: number; seconds: number }>(
    `SELECT coalesce(sum(cost_nusd), 0)::DOUBLE AS spend, count(*)::DOUBLE AS calls,
            count(*) FILTER (WHERE cache <> 'miss')::DOUBLE AS hits,
            count(*) FILTER (WHERE cache = 'exact')::DOUBLE AS exact,
            count(*) FILTER (WHERE cache = 'semantic')::DOUBLE AS semantic,
            count(*) FILTER (WHERE cache = 'miss' AND status IN ('ok', 'error'))::DOUBLE AS provider,
            coalesce(sum(input_tokens), 0)::DOUBLE AS "tokensIn",
            coalesce(sum(output_tokens), 0)::DOUBLE AS "tokensOut",
            quantile_cont(latency_ms, 0.5) FILTER (WHERE cache = 'miss' AND status = 'ok') AS p50,
            quantile_cont(latency_ms, 0.95) FILTER (WHERE cache = 'miss' AND status = 'ok') AS p95,
            coalesce(sum(output_tokens) FILTER (WHERE cache = 'miss' AND status = 'ok'), 0)::DOUBLE AS tokens,
            coalesce(sum(latency_ms) FILTER (WHERE cache = 'miss' AND status = 'ok'), 0)::DOUBLE / 1000 AS seconds
       FROM llm_calls WHERE run_id = $1`,
  );
  // Realized (settled) and unrealized (open at the end, marked to bid) P&L per position, with its event.
  const positions = (await c.runAndReadAll(
    `SELECT p.pnl, ${EVENT_OF("p")} AS event FROM (
        SELECT run_id, ticker, ts, 0 AS k, pnl_units::DOUBLE AS pnl FROM settlements WHERE run_id = $1
        UNION ALL SELECT run_id, ticker, ts, 1 AS k, pnl_units::DOUBLE AS pnl FROM open_positions WHERE run_id = $1) p
       LEFT JOIN market_events me ON me.run_id = p.run_id AND me.ticker = p.ticker
      ORDER BY p.k, p.ts, p.ticker`,
    [runId],
  )).getRowObjectsJS() as Array<{ pnl: number; event: string }>;
  const open = await one<{ n: number; pnl: number }>(`SELECT count(*)::DOUBLE AS n, coalesce(sum(pnl_units), 0)::DOUBLE AS pnl FROM open_positions WHERE run_id = $1`);
  const equityRows = (await c.runAndReadAll(
    `SELECT ts::DOUBLE AS ts, equity_units::DOUBLE AS "equityUnits" FROM equity WHERE run_id = $1 ORDER BY ev, ts`,
    [runId],
  )).getRowObjectsJS() as unknown as EquityPoint[];
  const startTs = await one<{ ts: number | null }>(`SELECT sim_start::DOUBLE AS ts FROM runs WHERE run_id = $1`);
  const curve: EquityPoint[] = [{ ts: startTs.ts ?? equityRows[0]?.ts ?? 0, equityUnits: options.bankrollUnits }, ...equityRows];

  const pnlUnits = positions.reduce((a, s) => a + s.pnl, 0);
  const eventPnl = clusterSums(positions.map((p) => p.event), { pnl: positions.map((p) => p.pnl) }).sums.pnl;
  const deployed = f.notional + o.fees;
  const summary = summarizePnl(curve, deployed);
  const spendUsd = ai.spend / 1e9;
  const pnlUsd = unitsToDollars(pnlUnits);
  const pnlInterval = options.bootstrap.samples > 0 && eventPnl.length > 0 ? bootstrapSum(eventPnl, options.bootstrap) : null;

  put("*", "forecasts", counts.reduce((a, r) => a + r.n, 0));
  put("*", "signals", d.signals);
  put("*", "holds", d.holds);
  put("*", "orders", o.orders);
  put("*", "trades", f.fills);
  put("*", "contracts", f.contracts);
  put("*", "fees_usd", unitsToDollars(o.fees));
  put("*", "pnl_usd", pnlUsd, pnlInterval ? unitsToDollars(pnlInterval.lower) : null, pnlInterval ? unitsToDollars(pnlInterval.upper) : null);
  put("*", "roi", deployed > 0 ? pnlUnits / deployed : null);
  put("*", "open_positions", open.n);
  put("*", "unrealized_pnl_usd", unitsToDollars(open.pnl));
  put("*", "sharpe_daily", summary.sharpe.dailySharpe);
  put("*", "max_drawdown_usd", unitsToDollars(summary.drawdown.maxDrawdownUnits));
  put("*", "max_drawdown_fraction", summary.drawdown.maxDrawdownFraction);
  put("*", "ai_spend_usd", spendUsd);
  put("*", "llm_calls", ai.calls);
  put("*", "cost_per_forecast_usd", counts.length > 0 ? spendUsd / Math.max(1, counts.reduce((a, r) => a + r.n, 0)) : null);
  put("*", "cost_per_signal_usd", d.signals > 0 ? spendUsd / d.signals : null);
  put("*", "net_pnl_usd", pnlUsd - spendUsd);
  put("*", "cache_hit_rate", ai.calls > 0 ? ai.hits / ai.calls : null);
  put("*", "provider_calls", ai.provider);
  put("*", "cache_exact_hits", ai.exact);
  put("*", "cache_semantic_hits", ai.semantic);
  put("*", "tokens_in", ai.tokensIn);
  put("*", "tokens_out", ai.tokensOut);
  // What the cost layers kept from a provider: answers the cache gave, and market events the filter dropped.
  const filterDropped = Object.entries(options.filterDropped ?? {})
    .filter(([reason]) => reason !== "market_closed")
    .reduce((a, [, n]) => a + n, 0);
  put("*", "filter_dropped", filterDropped);
  // Only a run whose strategy calls models has calls to avoid; for a rule strategy the filter's drops cost nothing.
  put("*", "calls_avoided", ai.calls > 0 ? ai.hits + filterDropped : null);
  for (const [reason, n] of Object.entries(options.filterDropped ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) put("*", `filter_dropped:${reason}`, n);
  put("*", "latency_p50_ms", ai.p50);
  put("*", "latency_p95_ms", ai.p95);
  put("*", "tokens_per_s", ai.seconds > 0 ? ai.tokens / ai.seconds : null);
  return { metrics, bins };
}

/** Per-event sums of the model's and the market's squared errors, for the cluster bootstrap. */
function marketClusters(rows: readonly ScoredRow[]) {
  const c = clusterSums(
    rows.map((r) => r.event),
    {
      sse: rows.map((r) => (r.p - r.outcome) ** 2),
      marketSse: rows.map((r) => (r.marketP === null || r.marketP === undefined ? 0 : (r.marketP - r.outcome) ** 2)),
    },
  );
  return { n: c.n, sse: c.sums.sse, marketSse: c.sums.marketSse, count: c.count, ratio: c.ratio };
}

/** One figure of a run's metrics (model "*" for the run as a whole), or null when it was not recorded. */
export function metricValue(metrics: readonly MetricRow[], model: string, metric: string): number | null {
  return metrics.find((m) => m.model === model && m.metric === metric)?.value ?? null;
}
