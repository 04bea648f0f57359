/**
 * Running AI-spend totals per model, provider, task, agent, day and month
 * (UTC days of the run's clock, so replay totals fall on simulated days).
 * Integer nano-dollars throughout, so totals are exact and order-free.
 */
export interface LedgerEntry {
  provider: string;
  model: string;
  task: string;
  agent?: string;
  tier?: string;
  /** Run clock time of the call (epoch ms). */
  ts: number;
  costNusd: number;
}

export type LedgerDimension = "model" | "provider" | "task" | "agent" | "tier" | "day" | "month";

export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

export function utcMonth(ts: number): string {
  return new Date(ts).toISOString().slice(0, 7);
}

export class CostLedger {
  readonly #totals = new Map<LedgerDimension, Map<string, number>>();
  #total = 0;
  #calls = 0;

  add(entry: LedgerEntry): void {
    this.#total += entry.costNusd;
    this.#calls += 1;
    const keys: Record<LedgerDimension, string> = {
      model: `${entry.provider}/${entry.model}`,
      provider: entry.provider,
      task: entry.task,
      agent: entry.agent ?? "-",
      tier: entry.tier ?? "-",
      day: utcDay(entry.ts),
      month: utcMonth(entry.ts),
    };
    for (const [dimension, key] of Object.entries(keys) as Array<[LedgerDimension, string]>) {
      let byKey = this.#totals.get(dimension);
      if (!byKey) this.#totals.set(dimension, (byKey = new Map()));
      byKey.set(key, (byKey.get(key) ?? 0) + entry.costNusd);
    }
  }

  get totalNusd(): number {
    return this.#total;
  }

  get calls(): number {
    return this.#calls;
  }

  /** Totals for one dimension, sorted by key. */
  totals(dimension: LedgerDimension): Array<{ key: string; costNusd: number }> {
    return [...(this.#totals.get(dimension) ?? new Map<string, number>()).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, costNusd]) => ({ key, costNusd }));
  }
}
