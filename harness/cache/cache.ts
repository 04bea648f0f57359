/**
 * The response cache's contract: what an entry holds and what every backend
 * (memory, DuckDB file, Redis) must answer. Backends are storage only; the
 * policy (keys, TTL per task, similarity threshold) lives in CachedRouter.
 *
 * Entries are never overwritten: the same key may hold several answers made
 * at different simulated times (a later run at an earlier simulated time
 * cannot see the later answer, so it makes its own). A lookup names a time
 * window [from, to] on the run's clock and sees only entries created inside it.
 */
import type { ProviderResult } from "../../providers/provider.ts";
import type { Tier } from "../router/router.ts";

/** The part of a successful router outcome worth keeping (callId and trace belong to the original call). */
export interface StoredOutcome {
  /** The validated answer (JSON value); re-validated against the request's schema when served. */
  answer: unknown;
  result: ProviderResult;
  provider: string;
  model: string;
  tier: Tier;
  /** What the original call cost, in nano-dollars: what a hit saves. */
  costNusd: number;
}

export interface CacheEntry {
  /** Exact key (exactKey.ts). */
  key: string;
  task: string;
  /** Partition for semantic lookups: route models and answer schema (see CachedRouter). */
  scope: string;
  /** Run clock time (simulated in replay) at which the answer was made. */
  createdAt: number;
  /** Embedding of the prompt text (float32 values), or null when semantic caching was off. */
  embedding: number[] | null;
  outcome: StoredOutcome;
}

/** Entries created at or after `from` and at or before `to` (both run-clock ms). */
export interface TimeWindow {
  from: number;
  to: number;
}

/** An exclusive short claim on one exact key, held while its holder asks the provider (cross-process single flight). */
export interface KeyClaim {
  release(): Promise<void>;
}

export interface CacheBackend {
  readonly kind: "memory" | "duckdb" | "redis";
  /**
   * Backends shared by several processes (Redis) offer a claim per exact key:
   * of the processes that miss on a key at once, the one holding the claim
   * calls the provider and the others wait for its entry. Null: another
   * process holds it. Backends of one process leave this out (CachedRouter's
   * per-key chain already makes their requests single flight).
   */
  claim?(key: string): Promise<KeyClaim | null>;
  /** The newest entry with this key created inside the window. */
  getExact(key: string, window: TimeWindow): Promise<CacheEntry | undefined>;
  /** Entries of this task and scope that carry an embedding, created inside the window, newest first. */
  candidates(task: string, scope: string, window: TimeWindow): Promise<CacheEntry[]>;
  /**
   * Store an entry; an entry with the same key and createdAt already there is kept (first write wins),
   * unless `replace` (`--cache refresh`: the new answer takes its place).
   */
  put(entry: CacheEntry, options?: { replace?: boolean }): Promise<void>;
  /** Delete every entry (`tapedeck cache clear`); returns how many there were. */
  clear(): Promise<number>;
  /** Number of entries held. */
  count(): Promise<number>;
  close(): Promise<void>;
}
