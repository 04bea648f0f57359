/**
 * Per-provider circuit breaker. Defaults follow what users' bots run today:
 * open after 5 consecutive failures, half-open after 5 minutes, where one
 * probe call decides: success closes it, failure re-opens it for another
 * window. A cooldown (e.g. a long Retry-After) blocks the provider until a
 * given time without counting as a failure streak.
 *
 * Time is wall time, never the run's simulated clock: a provider's health is
 * physical. A replay walks hours of simulated time in seconds, so a dead
 * provider would otherwise be re-probed at every decision. The clock is
 * monotonic (performance.now) unless one is injected; the router passes its
 * own health clock's `now` to every call so one clock drives all breakers.
 */

export interface HealthClock {
  now(): number;
}

/** Monotonic wall time in milliseconds (performance.now): immune to system clock steps. */
export const monotonicClock: HealthClock = { now: () => performance.now() };

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
  #coolUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: HealthClock = monotonicClock,
    private readonly options: BreakerOptions = DEFAULT_BREAKER,
    private readonly onChange?: (state: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    return this.stateAt(this.clock.now());
  }

  stateAt(now: number): BreakerState {
    if (this.#state === "open" && now - this.#openedAt >= this.options.openMs) return "half_open";
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** May a call go out now? In half-open, only one probe at a time. Claims the probe when it says yes. */
  tryAcquire(now: number = this.clock.now()): boolean {
    if (now < this.#coolUntil) return false;
    const state = this.stateAt(now);
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

  recordFailure(now: number = this.clock.now()): void {
    this.#failures += 1;
    if (this.#state === "half_open" || (this.#state === "closed" && this.#failures >= this.options.failureThreshold)) {
      this.#probeInFlight = false;
      this.#openedAt = now;
      this.#set("open");
    }
  }

  /** The call ended without a verdict on the provider's health (e.g. a bad request): free the probe slot. */
  recordNeutral(): void {
    this.#probeInFlight = false;
  }

  /** Block the provider until `ts`, in this breaker's (health) time. */
  coolDownUntil(ts: number): void {
    this.#coolUntil = Math.max(this.#coolUntil, ts);
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.onChange?.(state);
  }
}
