/**
 * How many model calls a filter would let through on a stream, without
 * running any strategy: events are applied to a MarketState on a simulated
 * clock and, like the pipeline, the markets a filter selects are called once
 * per timestamp if still open once every event of that timestamp is applied.
 * Cheap enough to compare filter configs (the ablation's filter layers) on a
 * whole dataset before paying for a single model call.
 */
import { SimulatedClock } from "../clock/simulatedClock.ts";
import type { MarketEvent } from "../events/types.ts";
import { MarketState } from "../state/marketState.ts";
import type { EventFilter } from "./eventFilter.ts";

export interface FilterCallCount {
  /** Market events (quote, trade, book) in the stream. */
  marketEvents: number;
  /** Model calls the pipeline would make: distinct open markets selected per timestamp. */
  calls: number;
  passed: Readonly<Record<string, number>>;
  dropped: Readonly<Record<string, number>>;
}

export async function countFilterCalls(events: AsyncIterable<readonly MarketEvent[]>, filter: EventFilter): Promise<FilterCallCount> {
  const clock = new SimulatedClock(0);
  const state = new MarketState(clock);
  let marketEvents = 0;
  let calls = 0;
  let groupTs = -Infinity;
  const pending = new Set<string>();
  const flush = () => {
    for (const t of pending) if (state.isOpen(t)) calls++;
    pending.clear();
  };
  for await (const batch of events) {
    for (const e of batch) {
      if (e.ts !== groupTs) {
        flush();
        groupTs = e.ts;
      }
      clock.observe(e.ts);
      state.apply(e);
      if (e.kind === "quote" || e.kind === "trade" || e.kind === "book") marketEvents++;
      for (const v of filter.select(e, state)) pending.add(v.ticker);
    }
  }
  flush();
  return { marketEvents, calls, passed: { ...(filter.passed?.() ?? {}) }, dropped: { ...filter.dropped() } };
}
