/**
 * The run's notion of "now", in UTC epoch milliseconds. Replay plugs in a
 * simulated clock driven by the event stream; live plugs in the wall clock.
 * Everything time-based (budgets, breakers, cache TTLs, rate windows) reads
 * this, never Date.now(), so that replay sees simulated days.
 */
export interface Clock {
  now(): number;
  /**
   * The event source delivered an event stamped `ts`. A simulated clock moves
   * to it (never backwards); the wall clock ignores it. This is how replay
   * time advances without the pipeline knowing which clock it has.
   */
  observe(ts: number): void;
  /**
   * A timer that fires when the clock reaches `at` (wall clock only). A
   * simulated clock has none: its time moves only with events, so a decision
   * due at t is taken when the first event after t arrives, or at the end.
   */
  timer?(at: number): ClockTimer;
}

export interface ClockTimer {
  readonly fired: Promise<void>;
  cancel(): void;
}
