/**
 * Per-market rolling statistics the filter needs on every event, in O(1)
 * amortised time and bounded memory: the price's standard deviation over a
 * time window (volatility) and volume per fixed time bucket (spikes).
 */
import type { Units } from "../money/money.ts";
import { UNITS_PER_DOLLAR } from "../money/money.ts";

/** At most this many price samples per market; older ones leave first. */
export const MAX_PRICE_SAMPLES = 1024;

/**
 * Prices seen within the last `windowMs`. Sums are kept in integer units, so
 * adding and evicting never drifts (1024 samples x 1e8 fits a double exactly).
 */
export class PriceWindow {
  #ts: number[] = [];
  #px: number[] = [];
  #head = 0;
  #sum = 0;
  #sumSq = 0;

  constructor(private readonly windowMs: number) {}

  push(ts: number, price: Units): void {
    this.#ts.push(ts);
    this.#px.push(price);
    this.#sum += price;
    this.#sumSq += price * price;
    if (this.size > MAX_PRICE_SAMPLES) this.#evictOne();
    this.evict(ts);
  }

  /** Drop samples older than the window as of `now`. */
  evict(now: number): void {
    while (this.#head < this.#ts.length && now - this.#ts[this.#head]! >= this.windowMs) this.#evictOne();
  }

  get size(): number {
    return this.#ts.length - this.#head;
  }

  /** Population standard deviation of the prices in the window, dollars; 0 with fewer than two. */
  std(now: number): number {
    this.evict(now);
    const n = this.size;
    if (n < 2) return 0;
    const varianceTimesN2 = n * this.#sumSq - this.#sum * this.#sum;
    return varianceTimesN2 <= 0 ? 0 : Math.sqrt(varianceTimesN2) / n / UNITS_PER_DOLLAR;
  }

  #evictOne(): void {
    const p = this.#px[this.#head]!;
    this.#sum -= p;
    this.#sumSq -= p * p;
    this.#head++;
    if (this.#head > 64 && this.#head * 2 > this.#ts.length) {
      this.#ts = this.#ts.slice(this.#head);
      this.#px = this.#px.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Volume per bucket of `bucketMs`, remembering the current bucket and the
 * `lookback` before it in a ring. The spike ratio compares the current bucket
 * with the mean of the earlier ones since the market was first seen (empty
 * buckets count as zero).
 */
export class VolumeBuckets {
  readonly #vol: number[];
  readonly #idx: number[];
  #first: number | null = null;

  constructor(
    private readonly bucketMs: number,
    private readonly lookback: number,
  ) {
    this.#vol = new Array<number>(lookback + 1).fill(0);
    this.#idx = new Array<number>(lookback + 1).fill(Number.NaN);
  }

  add(ts: number, contracts: number): void {
    const b = Math.floor(ts / this.bucketMs);
    this.#first ??= b;
    const slot = this.#slot(b);
    if (this.#idx[slot] !== b) {
      this.#idx[slot] = b;
      this.#vol[slot] = 0;
    }
    this.#vol[slot]! += contracts;
  }

  /** Current bucket's volume over the rolling mean of the earlier ones; 0 when there is no baseline. */
  ratio(now: number): number {
    if (this.#first === null) return 0;
    const b = Math.floor(now / this.bucketMs);
    const current = this.#at(b);
    let sum = 0;
    let n = 0;
    for (let k = 1; k <= this.lookback && b - k >= this.#first; k++) {
      sum += this.#at(b - k);
      n++;
    }
    if (n === 0 || sum <= 0) return 0;
    return current / (sum / n);
  }

  #at(b: number): number {
    const slot = this.#slot(b);
    return this.#idx[slot] === b ? this.#vol[slot]! : 0;
  }

  #slot(b: number): number {
    const m = this.lookback + 1;
    return ((b % m) + m) % m;
  }
}
