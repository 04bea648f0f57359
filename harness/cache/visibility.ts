/**
 * The rule that keeps the cache from leaking the future: an answer is
 * servable at run time `now` only if it was made at or before `now` and is
 * no older than the task's TTL. Both times are on the run's clock, so a
 * replay at an earlier simulated time never sees answers a later run made.
 */
import type { TimeWindow } from "./cache.ts";

export function isServable(createdAt: number, now: number, ttlMs: number): boolean {
  return createdAt <= now && now - createdAt <= ttlMs;
}

/** The window of creation times servable at `now` (what backends are asked for). */
export function servableWindow(now: number, ttlMs: number): TimeWindow {
  return { from: ttlMs === Number.POSITIVE_INFINITY ? Number.MIN_SAFE_INTEGER : now - ttlMs, to: now };
}
