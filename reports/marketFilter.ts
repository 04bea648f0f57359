/**
 * `report --category/--series`: the report over a subset of markets. The
 * stored metrics cover whole runs, so under a filter every figure is
 * recomputed from the raw rows of the chosen markets: each query runs with
 * CTEs that shadow the raw tables (forecasts, decisions, fills, settlements,
 * open_positions, outcomes, llm_calls) by their filtered rows. Figures that need the whole
 * book (ROI, Sharpe, drawdown, equity) are left out, not mixed in.
 */
import { sqlList } from "./query.ts";

export interface MarketFilter {
  /** outcomes.category, exactly (e.g. "Sports"). */
  category?: string | undefined;
  /** Kalshi series: the ticker up to its first '-' (e.g. "KXNFLGAME"). */
  series?: string | undefined;
}

export function isFiltered(f: MarketFilter | undefined): f is MarketFilter {
  return f !== undefined && (f.category !== undefined || f.series !== undefined);
}

export function describeMarketFilter(f: MarketFilter | undefined): string | null {
  if (!isFiltered(f)) return null;
  return [f.category !== undefined ? `category ${f.category}` : null, f.series !== undefined ? `series ${f.series}` : null].filter(Boolean).join(", ");
}

/** The markets a filter keeps, per run: (run_id, ticker) pairs from the run's own outcomes. */
function keptMarkets(f: MarketFilter): string {
  const where = [
    f.category !== undefined ? `category = ${sqlList([f.category])}` : null,
    f.series !== undefined ? `split_part(ticker, '-', 1) = ${sqlList([f.series])}` : null,
  ].filter(Boolean);
  return `SELECT run_id, ticker FROM main.outcomes WHERE ${where.join(" AND ")}`;
}

/** The SQL with the raw tables replaced by the filter's rows (unchanged when there is no filter). */
export function scopeSql(sql: string, f: MarketFilter | undefined): string {
  if (!isFiltered(f)) return sql;
  const kept = keptMarkets(f);
  const byMarket = (table: string) => `${table} AS (SELECT * FROM main.${table} WHERE (run_id, ticker) IN (${kept}))`;
  const ctes = [
    `kept_markets AS (${kept})`,
    byMarket("forecasts"),
    byMarket("decisions"),
    byMarket("fills"),
    byMarket("settlements"),
    byMarket("open_positions"),
    byMarket("outcomes"),
    // Model calls carry no ticker: a call belongs to the market of the forecast that made it.
    `llm_calls AS (SELECT * FROM main.llm_calls WHERE (run_id, call_id) IN (SELECT run_id, llm_call_id FROM main.forecasts WHERE (run_id, ticker) IN (${kept}) AND llm_call_id IS NOT NULL))`,
  ].join(",\n");
  const trimmed = sql.trimStart();
  return /^WITH\s/i.test(trimmed) ? `WITH ${ctes},\n${trimmed.slice(4)}` : `WITH ${ctes}\n${trimmed}`;
}
