/**
 * The leaderboard's columns: the engine's metric names (exact strings it
 * writes into metrics.metric), their headings and how to format them.
 * `scope` says whether the figure belongs to a model within a run or to the
 * run as a whole (P&L is the run's: members of a consensus share one book).
 */
export type MetricScope = "model" | "run";
export type MetricFormat = "score" | "pct" | "usd" | "usd_small" | "int" | "ms" | "rate";

export interface MetricColumn {
  readonly metric: string;
  readonly heading: string;
  readonly scope: MetricScope;
  readonly format: MetricFormat;
  /** Whether larger is better (for the reader; the table does not rank). */
  readonly higherIsBetter: boolean;
}

export const LEADERBOARD_COLUMNS: readonly MetricColumn[] = [
  { metric: "brier", heading: "Brier", scope: "model", format: "score", higherIsBetter: false },
  { metric: "log_loss", heading: "Log loss", scope: "model", format: "score", higherIsBetter: false },
  { metric: "brier_skill", heading: "Skill vs market", scope: "model", format: "score", higherIsBetter: true },
  // The market's own Brier at this strategy's decision times: the baseline its skill is measured against.
  { metric: "market_brier", heading: "Market Brier (same times)", scope: "model", format: "score", higherIsBetter: false },
  { metric: "ece", heading: "ECE", scope: "model", format: "score", higherIsBetter: false },
  { metric: "accuracy", heading: "Accuracy", scope: "model", format: "pct", higherIsBetter: true },
  { metric: "forecasts", heading: "Forecasts", scope: "model", format: "int", higherIsBetter: true },
  // Forecasts on markets that closed before the model's training cutoff (the config's `models`): their outcome may be in its training data.
  { metric: "contaminated_forecasts", heading: "Possibly contaminated", scope: "model", format: "int", higherIsBetter: false },
  { metric: "signals", heading: "Signals", scope: "run", format: "int", higherIsBetter: true },
  { metric: "trades", heading: "Trades", scope: "run", format: "int", higherIsBetter: true },
  { metric: "pnl_usd", heading: "P&L after fees $", scope: "run", format: "usd", higherIsBetter: true },
  { metric: "roi", heading: "ROI", scope: "run", format: "pct", higherIsBetter: true },
  { metric: "sharpe_daily", heading: "Sharpe (daily)", scope: "run", format: "score", higherIsBetter: true },
  { metric: "max_drawdown_usd", heading: "Max drawdown $", scope: "run", format: "usd", higherIsBetter: false },
  { metric: "ai_spend_usd", heading: "AI spend $", scope: "model", format: "usd_small", higherIsBetter: false },
  { metric: "cost_per_forecast_usd", heading: "$ / forecast", scope: "model", format: "usd_small", higherIsBetter: false },
  { metric: "cost_per_signal_usd", heading: "$ / signal", scope: "run", format: "usd_small", higherIsBetter: false },
  { metric: "net_pnl_usd", heading: "Net P&L after AI $", scope: "run", format: "usd", higherIsBetter: true },
  { metric: "cache_hit_rate", heading: "Cache hits", scope: "model", format: "pct", higherIsBetter: true },
  { metric: "calls_avoided", heading: "Calls avoided", scope: "run", format: "int", higherIsBetter: true },
  { metric: "latency_p50_ms", heading: "p50 ms", scope: "model", format: "ms", higherIsBetter: false },
  { metric: "latency_p95_ms", heading: "p95 ms", scope: "model", format: "ms", higherIsBetter: false },
  { metric: "tokens_per_s", heading: "Tokens/s", scope: "model", format: "rate", higherIsBetter: true },
];

/** A dash for a missing figure; otherwise a short, fixed-precision string. */
export function formatMetric(value: number | null | undefined, format: MetricFormat): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  switch (format) {
    case "score":
      return value.toFixed(4);
    case "pct":
      return `${(value * 100).toFixed(1)}%`;
    case "usd":
      return value.toFixed(2);
    case "usd_small":
      return Math.abs(value) >= 1 ? value.toFixed(2) : value.toFixed(6);
    case "int":
      return Math.round(value).toLocaleString("en-US");
    case "ms":
      return value.toFixed(0);
    case "rate":
      return value.toFixed(1);
  }
}
