/**
 * Per-provider circuit breaker. Defaults follow what users' bots run today:
 * open after 5 consecutive failures, half-open after 5 minutes, where one
 * probe call decides: success closes it, failure re-opens it for another
 * window.
 *
 * The router asks it when a call is about to go on the wire (after waiting
 * in the endpoint's queue), and gets a ticket naming the breaker's epoch
 * (the number of times it has opened). A verdict carried by a ticket from an
 * earlier epoch is ignored: a success of a call admitted before the breaker
 * opened does not close it, and a failure of one does not extend the window.
 * In half-open exactly one ticket (the probe) is handed out until it settles. A cooldown (e.g. a long Retry-After) blocks the provider until a
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

/** Permission for one call to go out, with the epoch it was given in. */
export interface BreakerTicket {
  readonly epoch: number;
  /** The half-open probe: its verdict closes or re-opens the breaker. */
  readonly probe: boolean;
}

export class CircuitBreaker {
  #state: BreakerState = "closed";
  #epoch = 0;
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

  /** Times the breaker has opened: tickets from an earlier epoch carry no verdict. */
  get epoch(): number {
    return this.#epoch;
  }

  /** A ticket for one call to go out now, or undefined (open, cooling down, or the half-open probe is out). */
  admit(now: number = this.clock.now()): BreakerTicket | undefined {
    if (now < this.#coolUntil) return undefined;
    const state = this.stateAt(now);
    if (state === "closed") return { epoch: this.#epoch, probe: false };
    if (state === "open" || this.#probeInFlight) return undefined;
    this.#set("half_open");
    this.#probeInFlight = true;
    return { epoch: this.#epoch, probe: true };
  }

  /** The call answered. Closes a half-open breaker only when it was the probe. */
  succeeded(ticket: BreakerTicket): void {
    if (ticket.epoch !== this.#epoch) return; // admitted before the breaker opened: says nothing about now
    if (ticket.probe) {
      this.#probeInFlight = false;
      this.#failures = 0;
      this.#set("closed");
    } else if (this.#state === "closed") this.#failures = 0;
  }

  /** The call failed in a way that speaks of the provider's health. */
  failed(ticket: BreakerTicket, now: number = this.clock.now()): void {
    if (ticket.epoch !== this.#epoch) return;
    if (ticket.probe) {
      this.#probeInFlight = false;
      this.#open(now);
      return;
    }
    if (this.#state !== "closed") return;
    this.#failures += 1;
    if (this.#failures >= this.options.failureThreshold) this.#open(now);
  }

  /** The call ended (or never went out) without a verdict on the provider's health: free the probe slot. */
  released(ticket: BreakerTicket): void {
    if (ticket.probe && ticket.epoch === this.#epoch) this.#probeInFlight = false;
  }

  /** Ticketless form of admit(): may a call go out now? Claims the probe when it says yes. */
  tryAcquire(now: number = this.clock.now()): boolean {
    return this.admit(now) !== undefined;
  }

  /**
   * Ticketless verdicts, for callers that hold no ticket: they apply to the current epoch. A success
   * closes the breaker only when the probe is out (it is the probe's); while open it says nothing.
   */
  recordSuccess(): void {
    this.succeeded({ epoch: this.#epoch, probe: this.#probeInFlight });
  }

  recordFailure(now: number = this.clock.now()): void {
    this.failed({ epoch: this.#epoch, probe: this.#state === "half_open" }, now);
  }

  recordNeutral(): void {
    this.#probeInFlight = false;
  }

  #open(now: number): void {
    this.#epoch += 1;
    this.#openedAt = now;
    this.#set("open");
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
