/**
 * Retry delays: exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff and Jitter"): delay = random(0, min(cap, base·2^attempt)).
 * A server's Retry-After wins when it asks for longer. The RNG and the sleep
 * are injected so tests are fast and deterministic.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  baseMs: number;
  capMs: number;
  /** A Retry-After longer than this is not waited out: the provider cools down and the chain moves on. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, baseMs: 250, capMs: 8_000, maxRetryAfterMs: 30_000 };

/** attempt is 0 for the first retry. */
export function fullJitterDelay(attempt: number, policy: Pick<RetryPolicy, "baseMs" | "capMs">, rng: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.floor(rng() * ceiling);
}

export function retryDelay(attempt: number, policy: RetryPolicy, rng: () => number, retryAfterMs: number | undefined): number {
  const jitter = fullJitterDelay(attempt, policy, rng);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jitter) : jitter;
}

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
