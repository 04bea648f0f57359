/** Counters for the ablation table: what the cache answered, what it let through, what it saved. */
export interface CacheStats {
  exactHits: number;
  semanticHits: number;
  misses: number;
  /** Answers written to the backend. */
  stores: number;
  /** Entries found but refused because the stored answer no longer passes the request's schema. */
  invalid: number;
  /** Cost of the original calls that hits replaced, nano-dollars. */
  savedNusd: number;
  /** Entries in the backend (all runs that share it), at the time of asking. */
  entries: number;
}

export function emptyStats(): Omit<CacheStats, "entries"> {
  return { exactHits: 0, semanticHits: 0, misses: 0, stores: 0, invalid: 0, savedNusd: 0 };
}

/** Hits over lookups; null before any lookup. */
export function hitRate(stats: Pick<CacheStats, "exactHits" | "semanticHits" | "misses">): number | null {
  const lookups = stats.exactHits + stats.semanticHits + stats.misses;
  return lookups === 0 ? null : (stats.exactHits + stats.semanticHits) / lookups;
}
