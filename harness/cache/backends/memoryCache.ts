/** The in-process backend: per-run, nothing persists. Entries are kept by key, newest last. */
import type { CacheBackend, CacheEntry, TimeWindow } from "../cache.ts";

export class MemoryCache implements CacheBackend {
  readonly kind = "memory" as const;
  readonly #byKey = new Map<string, CacheEntry[]>();
  readonly #byScope = new Map<string, CacheEntry[]>();
  #count = 0;

  async getExact(key: string, window: TimeWindow): Promise<CacheEntry | undefined> {
    const list = this.#byKey.get(key) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as CacheEntry;
      if (e.createdAt <= window.to && e.createdAt >= window.from) return clone(e);
    }
    return undefined;
  }

  async candidates(task: string, scope: string, window: TimeWindow): Promise<CacheEntry[]> {
    const list = this.#byScope.get(scopeId(task, scope)) ?? [];
    return list
      .filter((e) => e.embedding !== null && e.createdAt >= window.from && e.createdAt <= window.to)
      .sort((a, b) => b.createdAt - a.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(clone);
  }

  async put(entry: CacheEntry, options: { replace?: boolean } = {}): Promise<void> {
    const list = this.#byKey.get(entry.key) ?? [];
    const old = list.find((e) => e.createdAt === entry.createdAt);
    if (old && !options.replace) return;
    if (old) {
      list.splice(list.indexOf(old), 1);
      const scoped = this.#byScope.get(scopeId(old.task, old.scope)) ?? [];
      scoped.splice(scoped.indexOf(old), 1);
      this.#count -= 1;
    }
    const stored = clone(entry);
    // Keep the list ordered by creation time (a later run may add an earlier answer).
    const at = list.findIndex((e) => e.createdAt > stored.createdAt);
    if (at === -1) list.push(stored);
    else list.splice(at, 0, stored);
    this.#byKey.set(entry.key, list);
    const id = scopeId(entry.task, entry.scope);
    const scoped = this.#byScope.get(id) ?? [];
    scoped.push(stored);
    this.#byScope.set(id, scoped);
    this.#count += 1;
  }

  async count(): Promise<number> {
    return this.#count;
  }

  async clear(): Promise<number> {
    const n = this.#count;
    this.#byKey.clear();
    this.#byScope.clear();
    this.#count = 0;
    return n;
  }

  async close(): Promise<void> {}
}

function scopeId(task: string, scope: string): string {
  return JSON.stringify([task, scope]);
}

/** Callers get copies, so nothing they do changes what is stored. */
function clone(entry: CacheEntry): CacheEntry {
  return structuredClone(entry);
}
