/**
 * How the leaderboard is laid out: column groups, and which columns the
 * compact default shows (the rest sit behind the "all columns" toggle), so
 * 50 runs fit a screen without scrolling sideways. A new column is one entry
 * in LEADERBOARD_COLUMNS (metricNames.ts) and one line here.
 */
import { LEADERBOARD_COLUMNS, type MetricColumn } from "./metricNames.ts";

/** The Brier interval is not a metric of its own: it is drawn from the brier row's lo/hi. */
export const BRIER_CI = "brier_ci";

export interface LayoutColumn {
  /** A metric name from LEADERBOARD_COLUMNS, or BRIER_CI. */
  readonly key: string;
  readonly compact: boolean;
}

export interface LayoutGroup {
  readonly title: string;
  readonly columns: readonly LayoutColumn[];
}

const c = (key: string, compact = false): LayoutColumn => ({ key, compact });

export const LEADERBOARD_GROUPS: readonly LayoutGroup[] = [
  {
    title: "Accuracy",
    columns: [c("brier", true), c(BRIER_CI), c("brier_skill", true), c("market_brier"), c("log_loss"), c("ece"), c("accuracy"), c("forecasts", true), c("contaminated_forecasts")],
  },
  {
    title: "Trading",
    columns: [c("signals"), c("trades", true), c("pnl_usd"), c("roi"), c("sharpe_daily"), c("max_drawdown_usd"), c("net_pnl_usd", true)],
  },
  {
    title: "Cost",
    columns: [c("ai_spend_usd", true), c("cost_per_forecast_usd"), c("cost_per_signal_usd"), c("cache_hit_rate", true), c("calls_avoided")],
  },
  { title: "Speed", columns: [c("latency_p50_ms"), c("latency_p95_ms"), c("tokens_per_s")] },
];

export function metricColumn(key: string): MetricColumn | undefined {
  return LEADERBOARD_COLUMNS.find((m) => m.metric === key);
}

/** Every metric column is placed in some group (a column left out would never be shown). */
export function unplacedMetrics(): string[] {
  const placed = new Set(LEADERBOARD_GROUPS.flatMap((g) => g.columns.map((col) => col.key)));
  return LEADERBOARD_COLUMNS.map((m) => m.metric).filter((m) => !placed.has(m));
}
