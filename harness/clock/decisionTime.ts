/**
 * The simulated time a model request belongs to. The read-ahead cursor
 * issues a decision's forecast request while the run's clock is elsewhere
 * (behind it in replay), and the request's later steps (budget day, cache
 * visibility and TTL, the call log's sim_ts) run after awaits. Running the
 * request inside `atDecisionTime(ts, …)` makes the model stack's clock
 * answer `ts` for everything that request does, however it interleaves with
 * others (AsyncLocalStorage follows the async call chain).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Clock } from "./clock.ts";

const decisionTime = new AsyncLocalStorage<number>();

/** Runs `fn` (and everything it awaits) as of simulated time `ts`. */
export function atDecisionTime<T>(ts: number, fn: () => T): T {
  return decisionTime.run(ts, fn);
}

/** The clock model calls read: the decision's time inside a request, the run's clock outside. */
export class DecisionClock implements Clock {
  constructor(private readonly base: Clock) {}
  now(): number {
    return decisionTime.getStore() ?? this.base.now();
  }
  observe(ts: number): void {
    this.base.observe(ts);
  }
}
