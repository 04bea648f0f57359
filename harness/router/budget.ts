/**
 * AI budgets: daily and monthly, overall and per tier, in nano-dollars.
 * A call reserves its worst-case cost before it goes out and settles to the
 * actual cost after; the check-and-reserve is synchronous (one JS turn), so
 * any number of concurrent calls can never together overspend a limit.
 * Days and months are UTC windows of the injected Clock: simulated days in replay.
 * Alerts fire once per window and threshold when settled spend crosses a
 * configured fraction of a limit.
 */
import type { Clock } from "../clock/clock.ts";
import { utcDay, utcMonth } from "./costLedger.ts";

export interface Limits {
  dailyNusd?: number;
  monthlyNusd?: number;
}

export interface BudgetOptions extends Limits {
  tiers?: Readonly<Record<string, Limits>>;
  /** Fractions of a limit at which to alert, e.g. [0.8]. */
  alertAt?: readonly number[];
}

export interface BudgetAlert {
  scope: string; // "overall" or "tier:<name>"
  window: string; // "day 2025-11-08" | "month 2025-11"
  fraction: number;
  spentNusd: number;
  limitNusd: number;
}

export interface Reservation {
  readonly id: number;
  readonly tier: string;
  readonly amountNusd: number;
  readonly day: string;
  readonly month: string;
}

export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; reason: string };

interface Window {
  spent: number;
  reserved: number;
  alerted: Set<number>;
}

export class Budget {
  readonly #windows = new Map<string, Window>();
  #nextId = 1;
  readonly #open = new Map<number, Reservation>();

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly options: BudgetOptions,
    private readonly onAlert: (alert: BudgetAlert) => void = () => {},
  ) {}

  /** Reserve `amountNusd` for a call in `tier`, or say which limit refuses it. */
  reserve(tier: string, amountNusd: number): ReserveOutcome {
    const now = this.clock.now();
    const day = utcDay(now);
    const month = utcMonth(now);
    const checks = this.#checks(tier, day, month);
    for (const check of checks) {
      if (check.limit === undefined) continue;
      const w = this.#window(check.key);
      if (w.spent + w.reserved + amountNusd > check.limit) {
        return { ok: false, reason: `${check.label} budget: spent ${w.spent} + reserved ${w.reserved} + this call ${amountNusd} > limit ${check.limit} nUSD` };
      }
    }
    for (const check of checks) this.#window(check.key).reserved += amountNusd;
    const reservation: Reservation = { id: this.#nextId++, tier, amountNusd, day, month };
    this.#open.set(reservation.id, reservation);
    return { ok: true, reservation };
  }

  /** Replace the reservation by the actual cost (0 for a call that cost nothing). */
  settle(reservation: Reservation, actualNusd: number): void {
    if (!this.#open.delete(reservation.id)) throw new Error(`reservation ${reservation.id} settled twice`);
    for (const check of this.#checks(reservation.tier, reservation.day, reservation.month)) {
      const w = this.#window(check.key);
      w.reserved -= reservation.amountNusd;
      w.spent += actualNusd;
      if (check.limit !== undefined && check.limit > 0) this.#alert(check.label, check.window, w, check.limit);
    }
  }

  /** Settled spend today (by the clock), overall or for a tier. */
  spentToday(tier?: string): number {
    return this.#window(tier ? `tier:${tier}|day ${utcDay(this.clock.now())}` : `overall|day ${utcDay(this.clock.now())}`).spent;
  }

  spentThisMonth(tier?: string): number {
    return this.#window(tier ? `tier:${tier}|month ${utcMonth(this.clock.now())}` : `overall|month ${utcMonth(this.clock.now())}`).spent;
  }

  get openReservations(): number {
    return this.#open.size;
  }

  #checks(tier: string, day: string, month: string) {
    const tierLimits = this.options.tiers?.[tier] ?? {};
    const scopes: Array<[string, Limits]> = [
      ["overall", this.options],
      [`tier:${tier}`, tierLimits],
    ];
    return scopes.flatMap(([scope, limits]) => [
      { key: `${scope}|day ${day}`, label: `${scope} daily`, window: `day ${day}`, limit: limits.dailyNusd },
      { key: `${scope}|month ${month}`, label: `${scope} monthly`, window: `month ${month}`, limit: limits.monthlyNusd },
    ]);
  }

  #window(key: string): Window {
    let w = this.#windows.get(key);
    if (!w) this.#windows.set(key, (w = { spent: 0, reserved: 0, alerted: new Set() }));
    return w;
  }

  #alert(label: string, window: string, w: Window, limit: number): void {
    for (const fraction of this.options.alertAt ?? []) {
      if (!w.alerted.has(fraction) && w.spent >= fraction * limit) {
        w.alerted.add(fraction);
        this.onAlert({ scope: label.replace(/ (daily|monthly)$/, ""), window, fraction, spentNusd: w.spent, limitNusd: limit });
      }
    }
  }
}
