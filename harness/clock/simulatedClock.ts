import type { Clock } from "./clock.ts";

/** A clock that only moves when the event source advances it; it never goes backwards. */
export class SimulatedClock implements Clock {
  #now: number;
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  observe(ts: number): void {
    if (ts > this.#now) this.#now = ts;
  }
}
