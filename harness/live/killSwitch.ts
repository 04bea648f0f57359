/**
 * The kill switch of a live run: trips on a file appearing (`touch
 * <file>` from any shell), on a signal (SIGUSR2 by default; SIGINT/SIGTERM
 * are the graceful shutdown's, not this), or when the day's loss reaches the
 * daily loss limit. Tripping runs `onTrip` once, with the reason; the live
 * node passes the Kalshi broker's `killAll`, which halts trading and cancels
 * every resting order on the account.
 *
 * The daily loss is the engine's: equity at the start of the UTC day minus
 * equity now, positions at cost (so realized losses and fees count, open
 * positions are not marked to market).
 */
import { existsSync } from "node:fs";
import type { Units } from "../money/money.ts";
import type { PortfolioView } from "../portfolio/portfolio.ts";

/** The day's loss so far, units (positive = a loss), and whether it reached the limit. */
export function dailyLoss(view: Pick<PortfolioView, "dayStartEquityUnits" | "equityUnits">, limitUnits: Units): { lossUnits: Units; breached: boolean } {
  const lossUnits = view.dayStartEquityUnits() - view.equityUnits();
  return { lossUnits, breached: limitUnits > 0 && lossUnits >= limitUnits };
}

export interface KillSwitchOptions {
  /** Trip when this file exists. */
  file?: string | undefined;
  /** Trip on these signals (default SIGUSR2). */
  signals?: readonly NodeJS.Signals[];
  /** How often the file and the daily loss are checked, ms (default 1000). */
  pollMs?: number;
  /** Trip when the day's loss reaches this, units (0 or absent: no limit). */
  dailyLossLimitUnits?: Units | undefined;
  portfolio?: Pick<PortfolioView, "dayStartEquityUnits" | "equityUnits"> | undefined;
  onTrip: (reason: string) => void | Promise<void>;
  log?: (line: string) => void;
}

export class KillSwitch {
  #tripped: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #done: Promise<void> = Promise.resolve();
  readonly #onSignal: (signal: NodeJS.Signals) => void;

  constructor(private readonly o: KillSwitchOptions) {
    this.#onSignal = (signal) => this.trip(`signal ${signal}`);
  }

  get tripped(): string | null {
    return this.#tripped;
  }

  /** Resolves once `onTrip` has finished (immediately when it never tripped). */
  settled(): Promise<void> {
    return this.#done;
  }

  start(): this {
    for (const s of this.o.signals ?? ["SIGUSR2"]) process.on(s, this.#onSignal);
    this.#timer = setInterval(() => this.check(), this.o.pollMs ?? 1000);
    this.#timer.unref();
    this.check();
    return this;
  }

  stop(): void {
    for (const s of this.o.signals ?? ["SIGUSR2"]) process.off(s, this.#onSignal);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Look at the file and the daily loss now (the live node also calls this after each cycle). Returns the trip reason, if any. */
  check(): string | null {
    if (this.#tripped !== null) return this.#tripped;
    if (this.o.file !== undefined && existsSync(this.o.file)) this.trip(`kill switch file ${this.o.file}`);
    else if (this.o.portfolio && this.o.dailyLossLimitUnits) {
      const d = dailyLoss(this.o.portfolio, this.o.dailyLossLimitUnits);
      if (d.breached) this.trip(`daily loss limit: lost ${d.lossUnits} units today, limit ${this.o.dailyLossLimitUnits}`);
    }
    return this.#tripped;
  }

  trip(reason: string): void {
    if (this.#tripped !== null) return;
    this.#tripped = reason;
    this.o.log?.(`kill switch: ${reason}`);
    this.#done = Promise.resolve()
      .then(() => this.o.onTrip(reason))
      .catch((e: unknown) => this.o.log?.(`kill switch action failed: ${e instanceof Error ? e.message : String(e)}`));
  }
}
