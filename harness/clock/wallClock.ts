import type { Clock } from "./clock.ts";

/** The real time, for live and paper trading on live data. */
export class WallClock implements Clock {
  now(): number {
    return Date.now();
  }
  observe(): void {}
}
