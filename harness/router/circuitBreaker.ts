/**
 * Per-provider circuit breaker. Defaults follow what users' bots run today:
 * open after 5 consecutive failures, half-open after 5 minutes, where one
 * probe call decides: success closes it, failure re-opens it for another
 * window. Time is the injected Clock, so replay opens and closes breakers on
 * simulated time. A cooldown (e.g. a long Retry-After) blocks the provider
 * until a given time without counting as a failure streak.
 */
import type { Clock } from "../clock/clock.ts";

export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, openMs: 5 * 60_000 };

export type BreakerState = "closed" | "open" | "half_open";

export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;
  #coolUntil = 0;

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly options: BreakerOptions = DEFAULT_BREAKER,
    private readonly onChange?: (state: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    if (this.#state === "open" && this.clock.now() - this.#openedAt >= this.options.openMs) return "half_open";
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** May a call go out now? In half-open, only one probe at a time. Claims the probe when it says yes. */
  tryAcquire(): boolean {
    if (this.clock.now() < this.#coolUntil) return false;
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open") return false;
    if (this.#probeInFlight) return false;
    this.#set("half_open");
    this.#probeInFlight = true;
    return true;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    if (this.#state !== "closed") this.#set("closed");
  }

  recordFailure(): void {
    this.#failures += 1;
    if (this.#state === "half_open" || (this.#state === "closed" && this.#failures >= this.options.failureThreshold)) {
      this.#probeInFlight = false;
      this.#openedAt = this.clock.now();
      this.#set("open");
    }
  }

  /** The call ended without a verdict on the provider's health (e.g. a bad request): free the probe slot. */
  recordNeutral(): void {
    this.#probeInFlight = false;
  }

  coolDownUntil(ts: number): void {
    this.#coolUntil = Math.max(this.#coolUntil, ts);
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.onChange?.(state);
  }
}
