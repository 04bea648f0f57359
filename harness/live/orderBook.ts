/**
 * One market's order book, kept from Kalshi's `orderbook_snapshot` plus
 * additive `orderbook_delta` messages. Kalshi publishes bids only: YES bids
 * and NO bids (a NO bid at X is a YES ask at 1 − X), as the dataset's
 * orderbook table and the engine's BookEvent hold them.
 *
 * Sequence numbers belong to the subscription (`sid`), not the market, so
 * the client (kalshiWs.ts) checks them; when it sees a gap it marks every
 * book of that subscription stale here. A stale book is not published
 * (its levels are wrong by an unknown amount) until a fresh snapshot
 * replaces it.
 */
import { dollarsToUnits, type Units } from "../money/money.ts";
import type { BookEvent } from "../events/types.ts";

type Levels = Map<Units, number>;

/** Contracts are fixed-point with 0.01 granularity: keep them on that grid so adds and removes cancel exactly. */
function roundCount(n: number): number {
  return Math.round(n * 100) / 100;
}

export class OrderBook {
  #yes: Levels = new Map();
  #no: Levels = new Map();
  #stale = true;
  /** When the book last changed (ms). */
  ts = 0;

  constructor(readonly ticker: string) {}

  /** True until the first snapshot, and again after a sequence gap until the next one. */
  get stale(): boolean {
    return this.#stale;
  }

  markStale(): void {
    this.#stale = true;
  }

  applySnapshot(yes: ReadonlyArray<readonly [string, string]>, no: ReadonlyArray<readonly [string, string]>, ts: number): void {
    this.#yes = toLevels(yes);
    this.#no = toLevels(no);
    this.#stale = false;
    this.ts = ts;
  }

  /**
   * Add `delta` contracts at a price on one side (negative removes). A
   * level that would go below zero means the book was already wrong: the
   * answer is false and the book is stale (the caller resubscribes).
   */
  applyDelta(side: "yes" | "no", priceDollars: string, deltaFp: string, ts: number): boolean {
    if (this.#stale) return false;
    const levels = side === "yes" ? this.#yes : this.#no;
    const price = dollarsToUnits(priceDollars);
    const next = roundCount((levels.get(price) ?? 0) + Number(deltaFp));
    if (next < 0) {
      this.#stale = true;
      return false;
    }
    if (next === 0) levels.delete(price);
    else levels.set(price, next);
    this.ts = ts;
    return true;
  }

  /** The book as the engine and the dataset see it: bids per side, best (highest) first. */
  toEvent(ts: number): BookEvent {
    return { kind: "book", ts, ticker: this.ticker, yes: sorted(this.#yes), no: sorted(this.#no) };
  }
}

function toLevels(levels: ReadonlyArray<readonly [string, string]>): Levels {
  const out: Levels = new Map();
  for (const [price, count] of levels) {
    const n = roundCount(Number(count));
    if (n > 0) out.set(dollarsToUnits(price), roundCount((out.get(dollarsToUnits(price)) ?? 0) + n));
  }
  return out;
}

function sorted(levels: Levels): Array<[Units, number]> {
  return [...levels.entries()].sort((a, b) => b[0] - a[0]);
}
