import type { Clock, ClockTimer } from "./clock.ts";

/** The real time, for live and paper trading on live data. */
export class WallClock implements Clock {
  now(): number {
    return Date.now();
  }
  observe(): void {}
  timer(at: number): ClockTimer {
    let handle: NodeJS.Timeout | undefined;
    const fired = new Promise<void>((resolve) => {
      handle = setTimeout(resolve, Math.max(0, at - Date.now()));
    });
    return { fired, cancel: () => clearTimeout(handle) };
  }
}
