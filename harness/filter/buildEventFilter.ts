/**
 * The one place a run's filter config becomes an EventFilter, so replay,
 * sweeps, the ablation and live trading all build it the same way.
 */
import { IntervalFilter } from "./eventFilter.ts";
import type { EventFilter, VerdictSink } from "./eventFilter.ts";
import { FilterConfig } from "./filterConfig.ts";
import type { FilterConfigInput } from "./filterConfig.ts";
import { MarketFilter } from "./marketFilter.ts";

export interface BuildEventFilterOptions {
  /** Told of every verdict (e.g. to store filter rows in DuckDB). */
  onVerdict?: VerdictSink;
}

/** A plain IntervalFilter for kind "interval" (or no kind), the full MarketFilter for kind "market". */
export function buildEventFilter(config: FilterConfig | FilterConfigInput, options: BuildEventFilterOptions = {}): EventFilter {
  const c = FilterConfig.parse(config);
  if (c.kind === "interval") return new IntervalFilter(c.minIntervalMs, options.onVerdict);
  return new MarketFilter(c, options.onVerdict ? { onVerdict: options.onVerdict } : {});
}

/** Every counter as "passed:<reason>" / "dropped:<reason>", sorted by key, for summaries and the DB. */
export function filterReasonCounts(filter: EventFilter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(filter.passed?.() ?? {})) out[`passed:${k}`] = n;
  for (const [k, n] of Object.entries(filter.dropped())) out[`dropped:${k}`] = n;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
