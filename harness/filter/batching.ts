/**
 * The low-priority batch: candidates wait here, one entry per market, until
 * `size` markets have gathered or `timeoutMs` of the run's clock has passed
 * since the first of them was batched. Time only moves with events, so a
 * timed-out batch leaves with the next event of any kind.
 */
export interface BatchedEntry {
  ticker: string;
  /** The trigger that batched it. */
  trigger: string;
  /** When it was batched. */
  ts: number;
}

export type BatchRelease = "batch_size" | "batch_timeout";

export class LowPriorityBatch {
  readonly #entries = new Map<string, BatchedEntry>();
  #oldest = Infinity;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {}

  get pending(): number {
    return this.#entries.size;
  }

  has(ticker: string): boolean {
    return this.#entries.has(ticker);
  }

  /** False when the market is already batched (the batch holds one entry per market). */
  add(entry: BatchedEntry): boolean {
    if (this.#entries.has(entry.ticker)) return false;
    this.#entries.set(entry.ticker, entry);
    if (entry.ts < this.#oldest) this.#oldest = entry.ts;
    return true;
  }

  remove(ticker: string): boolean {
    const had = this.#entries.delete(ticker);
    if (had) this.#oldest = this.#entries.size === 0 ? Infinity : Math.min(...[...this.#entries.values()].map((e) => e.ts));
    return had;
  }

  /** Whether the batch should leave now, and why. */
  due(now: number): BatchRelease | null {
    if (this.#entries.size === 0) return null;
    if (this.#entries.size >= this.size) return "batch_size";
    if (now - this.#oldest >= this.timeoutMs) return "batch_timeout";
    return null;
  }

  /** Empties the batch, entries in the order they were batched. */
  drain(): BatchedEntry[] {
    const out = [...this.#entries.values()];
    this.#entries.clear();
    this.#oldest = Infinity;
    return out;
  }
}
