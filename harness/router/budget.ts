/**
 * AI budgets, in nano-dollars: daily and monthly, overall and per tier, on
 * the injected Clock's UTC days and months (simulated days in replay: what
 * the strategy would have spent live), plus `runNusd`, a cap on the real
 * money one run spends in all (all tiers, all simulated days together).
 *
 * A call reserves its worst-case cost before it goes out and settles to the
 * actual cost after. Reservations are decided in the order they are asked
 * for (FIFO). One that would be refused while reservations granted before
 * it are still open waits for them to settle and is checked again, and
 * every later one queues behind it. Because a worst case is never below the
 * actual cost, a grant with calls still open is one a serial run would also
 * grant, and a refusal is only ever decided with nothing open: exactly the
 * refusals of the same calls made one after another, whatever the
 * concurrency. Granting is synchronous inside reserve() when nothing waits,
 * so concurrent calls can never together overspend a limit.
 *
 * Once the run cap refuses a call it stays reached (`runExhausted`) and
 * refuses every later paid call: the run should stop there, and a resumed
 * run with a higher cap continues from the same point.
 *
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
  /** Cap on the real money spent by the whole run (config `budget.runUsd`), all tiers and days together. */
  runNusd?: number;
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

/** `kind` says which limit refused: a simulated-window budget ("budget") or the run's real-money cap ("run_budget"). */
export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; kind: "budget" | "run_budget"; reason: string };

/** Spend already made (e.g. by the interrupted part of a resumed run), as its llm_calls rows say. */
export interface SpentRow {
  /** Run clock time of the call (sim_ts). */
  simTs: number;
  tier?: string | null | undefined;
  costNusd: number;
}

interface Window {
  spent: number;
  reserved: number;
  alerted: Set<number>;
}

interface Pending {
  tier: string;
  amount: number;
  day: string;
  month: string;
  resolve: (outcome: ReserveOutcome) => void;
}

/** Dollars from nano-dollars for messages: 2 to 4 decimals ($0.05, $0.0497, $5.00), more only for amounts below $0.0001. */
export function formatUsd(nusd: number): string {
  const usd = nusd / 1e9;
  const fixed = usd.toFixed(usd !== 0 && Math.abs(usd) < 0.0001 ? 9 : 4).replace(/0+$/, "");
  const [whole, fraction = ""] = fixed.split(".");
  return `$${whole}.${fraction.padEnd(2, "0")}`;
}

export class Budget {
  readonly #windows = new Map<string, Window>();
  #nextId = 1;
  readonly #open = new Map<number, Reservation>();
  readonly #queue: Pending[] = [];
  #runSpent = 0;
  #runReserved = 0;
  #runExhausted: string | null = null;

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly options: BudgetOptions,
    private readonly onAlert: (alert: BudgetAlert) => void = () => {},
  ) {}

  /**
   * Reserve `amountNusd` for a call in `tier`, or say which limit refuses it.
   * The day and month are taken from the clock now (synchronously); the
   * answer may come later, when calls granted before this one have settled.
   */
  reserve(tier: string, amountNusd: number): Promise<ReserveOutcome> {
    const asked = this.request(tier, amountNusd);
    return "outcome" in asked ? Promise.resolve(asked.outcome) : asked.pending;
  }

  /**
   * reserve(), telling whether the answer is known at once: `outcome` when it
   * was decided inside this call, `pending` when it waits for earlier calls
   * to settle. The router asks when a call leaves its endpoint's queue, and
   * gives its queue slot back while an answer is pending. `at` is the run
   * clock's time of the call (read by the caller: a queue callback runs
   * outside the request's atDecisionTime context).
   */
  request(tier: string, amountNusd: number, at?: number): { outcome: ReserveOutcome } | { pending: Promise<ReserveOutcome> } {
    const now = at ?? this.clock.now();
    const day = utcDay(now);
    const month = utcMonth(now);
    let decided: ReserveOutcome | undefined;
    let resolveLater: ((outcome: ReserveOutcome) => void) | undefined;
    this.#queue.push({
      tier,
      amount: amountNusd,
      day,
      month,
      resolve: (outcome) => (resolveLater ? resolveLater(outcome) : (decided = outcome)),
    });
    this.#pump();
    if (decided !== undefined) return { outcome: decided };
    return { pending: new Promise<ReserveOutcome>((resolve) => (resolveLater = resolve)) };
  }

  /** Replace the reservation by the actual cost (0 for a call that cost nothing), capped at the reservation. */
  settle(reservation: Reservation, actualNusd: number): void {
    if (!this.#open.delete(reservation.id)) throw new Error(`reservation ${reservation.id} settled twice`);
    // Never more than was reserved (the guarantee that spend stays under every limit), never an odd number.
    const actual = Number.isSafeInteger(actualNusd) && actualNusd >= 0 ? Math.min(actualNusd, reservation.amountNusd) : reservation.amountNusd;
    this.#runReserved -= reservation.amountNusd;
    this.#runSpent += actual;
    for (const check of this.#checks(reservation.tier, reservation.day, reservation.month)) {
      const w = this.#window(check.key);
      w.reserved -= reservation.amountNusd;
      w.spent += actual;
      if (check.limit !== undefined && check.limit > 0) this.#alert(check.label, check.window, w, check.limit);
    }
    this.#pump();
  }

  /**
   * Count spend made before this budget existed (a resumed run's earlier
   * calls) in its simulated day, month and tier, and in the run's total.
   * Alerts it crosses are marked as given, not given again. Seed only calls
   * that this process will not answer again: a call answered from the call
   * journal reserves and settles its recorded cost itself.
   */
  seedSpent(rows: Iterable<SpentRow>): void {
    for (const row of rows) {
      if (row.costNusd === 0) continue;
      this.#runSpent += row.costNusd;
      for (const check of this.#checks(row.tier ?? "-", utcDay(row.simTs), utcMonth(row.simTs))) {
        const w = this.#window(check.key);
        w.spent += row.costNusd;
        if (check.limit !== undefined && check.limit > 0) for (const f of this.options.alertAt ?? []) if (w.spent >= f * check.limit) w.alerted.add(f);
      }
    }
    this.#pump();
  }

  /** Settled spend today (by the clock), overall or for a tier. */
  spentToday(tier?: string): number {
    return this.#window(tier ? `tier:${tier}|day ${utcDay(this.clock.now())}` : `overall|day ${utcDay(this.clock.now())}`).spent;
  }

  spentThisMonth(tier?: string): number {
    return this.#window(tier ? `tier:${tier}|month ${utcMonth(this.clock.now())}` : `overall|month ${utcMonth(this.clock.now())}`).spent;
  }

  /** Settled real money of the whole run (seeded spend included). */
  get spentThisRun(): number {
    return this.#runSpent;
  }

  /** The one-line message naming the run cap once it has refused a call; null until then. */
  get runExhausted(): string | null {
    return this.#runExhausted;
  }

  get openReservations(): number {
    return this.#open.size;
  }

  /** Reservations asked for and not answered yet (waiting for earlier calls to settle). */
  get waitingReservations(): number {
    return this.#queue.length;
  }

  /** Decide queued reservations in order until one must wait for open calls to settle. */
  #pump(): void {
    for (;;) {
      const head = this.#queue[0];
      if (!head) return;
      const refusal = this.#refusal(head);
      if (refusal !== undefined && this.#open.size > 0) return; // re-checked when an earlier call settles
      this.#queue.shift();
      if (refusal !== undefined) {
        if (refusal.kind === "run_budget") this.#runExhausted ??= refusal.reason;
        head.resolve(refusal);
        continue;
      }
      for (const check of this.#checks(head.tier, head.day, head.month)) this.#window(check.key).reserved += head.amount;
      this.#runReserved += head.amount;
      const reservation: Reservation = { id: this.#nextId++, tier: head.tier, amountNusd: head.amount, day: head.day, month: head.month };
      this.#open.set(reservation.id, reservation);
      head.resolve({ ok: true, reservation });
    }
  }

  #refusal(p: Pending): Extract<ReserveOutcome, { ok: false }> | undefined {
    if (p.amount === 0) return undefined; // a free call is never refused
    for (const check of this.#checks(p.tier, p.day, p.month)) {
      if (check.limit === undefined) continue;
      const w = this.#window(check.key);
      if (w.spent + w.reserved + p.amount > check.limit) {
        return { ok: false, kind: "budget", reason: `${check.label} budget: spent ${w.spent} + reserved ${w.reserved} + this call ${p.amount} > limit ${check.limit} nUSD` };
      }
    }
    const cap = this.options.runNusd;
    if (cap !== undefined && (this.#runExhausted !== null || this.#runSpent + this.#runReserved + p.amount > cap)) {
      return {
        ok: false,
        kind: "run_budget",
        reason: this.#runExhausted ?? `budget.runUsd ${formatUsd(cap)} reached: spent ${formatUsd(this.#runSpent)} of real money in this run; raise budget.runUsd and resume`,
      };
    }
    return undefined;
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
