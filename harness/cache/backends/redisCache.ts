/**
 * The shared backend: a Redis server (through ioredis) that several
 * processes or machines use as one cache. Layout under a prefix:
 *   <prefix>entries             hash   entry id -> entry JSON (id = key@createdAt)
 *   <prefix>k:<key>             zset   entry ids scored by createdAt (exact lookups)
 *   <prefix>s:<sha(task,scope)> zset   ids of entries with embeddings (semantic candidates)
 * Scores are run-clock ms, so the servable window is a ZRANGEBYSCORE. Redis's
 * own EXPIRE is wall-clock and is not used: TTLs are simulated time, applied
 * at lookup. Writes are idempotent (HSETNX, ZADD NX): the first answer for a
 * key at a given time wins, as on the other backends.
 *   <prefix>lock:<key>          string a claim token (SET NX PX), see claim()
 */
import { createHash, randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { CacheBackend, CacheEntry, KeyClaim, TimeWindow } from "../cache.ts";
import { decodeEntry, encodeEntry } from "../entryCodec.ts";

export const DEFAULT_REDIS_PREFIX = "tapedeck:cache:";

/**
 * How long a claim lives without renewal: short, so a holder that dies
 * (kill -9) delays the others by at most this; a live holder renews it every
 * third of it for as long as its provider call takes.
 */
export const CLAIM_TTL_MS = 2_000;

/** Deletes / extends a claim only while it still holds our token (never another holder's). */
const RELEASE_LUA = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
const RENEW_LUA = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;

/** A literal for a SCAN MATCH pattern: a prefix with * ? [ ] or \ must not match other caches' keys. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

export class RedisCache implements CacheBackend {
  readonly kind = "redis" as const;

  private constructor(
    private readonly redis: Redis,
    /** The server URL, password redacted. */
    readonly url: string,
    private readonly prefix: string,
  ) {}

  /** Connects at once, so a wrong URL or a server that is down is an error here, not on the first lookup. */
  static async open(url: string, prefix = DEFAULT_REDIS_PREFIX): Promise<RedisCache> {
    const redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      retryStrategy: (times) => (times > 5 ? null : Math.min(times * 100, 1_000)),
    });
    // Errors are surfaced through the rejected commands; without a listener ioredis prints them.
    redis.on("error", () => {});
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cache redis ${redactUrl(url)}: cannot connect (${(error as Error).message})`);
    }
    return new RedisCache(redis, redactUrl(url), prefix);
  }

  async getExact(key: string, window: TimeWindow): Promise<CacheEntry | undefined> {
    const ids = await this.redis.zrevrangebyscore(this.#k(key), window.to, window.from, "LIMIT", 0, 1);
    const id = ids[0];
    if (id === undefined) return undefined;
    const text = await this.redis.hget(this.#entries(), id);
    if (text === null) throw new Error(`cache redis: index ${this.#k(key)} names ${id}, which is missing from ${this.#entries()}`);
    return decodeEntry(text, `redis ${this.#entries()} ${id}`);
  }

  async candidates(task: string, scope: string, window: TimeWindow): Promise<CacheEntry[]> {
    const ids = await this.redis.zrevrangebyscore(this.#s(task, scope), window.to, window.from);
    if (ids.length === 0) return [];
    const texts = await this.redis.hmget(this.#entries(), ...ids);
    const entries: CacheEntry[] = [];
    texts.forEach((text, i) => {
      if (text !== null) entries.push(decodeEntry(text, `redis ${this.#entries()} ${ids[i] ?? "?"}`));
    });
    return entries
      .filter((e) => e.embedding !== null)
      .sort((a, b) => b.createdAt - a.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async put(entry: CacheEntry, options: { replace?: boolean } = {}): Promise<void> {
    const id = `${entry.key}@${entry.createdAt}`;
    const tx = this.redis.multi();
    if (options.replace) tx.hset(this.#entries(), id, encodeEntry(entry));
    else tx.hsetnx(this.#entries(), id, encodeEntry(entry));
    tx.zadd(this.#k(entry.key), "NX", entry.createdAt, id);
    if (entry.embedding !== null) tx.zadd(this.#s(entry.task, entry.scope), "NX", entry.createdAt, id);
    const results = await tx.exec();
    const failed = results?.find(([error]) => error !== null);
    if (results === null || failed) throw new Error(`cache redis: storing ${id} failed${failed?.[0] ? `: ${failed[0].message}` : ""}`);
  }

  /** SET NX PX on <prefix>lock:<key>, renewed while held; null when another process holds it. */
  async claim(key: string): Promise<KeyClaim | null> {
    const lock = `${this.prefix}lock:${key}`;
    const token = randomBytes(12).toString("hex");
    const got = await this.redis.set(lock, token, "PX", CLAIM_TTL_MS, "NX");
    if (got !== "OK") return null;
    const renew = setInterval(() => {
      this.redis.eval(RENEW_LUA, 1, lock, token, CLAIM_TTL_MS).catch(() => undefined);
    }, Math.floor(CLAIM_TTL_MS / 3));
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        // Best effort: a release lost to a connection blip must not turn an answer already paid for into an
        // error; the unrenewed claim expires within CLAIM_TTL_MS and the waiters then take it.
        await this.redis.eval(RELEASE_LUA, 1, lock, token).catch(() => undefined);
      },
    };
  }

  count(): Promise<number> {
    return this.redis.hlen(this.#entries());
  }

  /** Deletes every key under this cache's prefix (SCAN, never KEYS, so a large server is not blocked). */
  async clear(): Promise<number> {
    if (this.prefix === "") throw new Error("cache redis: refusing to clear with an empty prefix (it would match every key of the server); set cache.prefix");
    const n = await this.count();
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${globEscape(this.prefix)}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys);
    } while (cursor !== "0");
    return n;
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }

  #entries(): string {
    return `${this.prefix}entries`;
  }
  #k(key: string): string {
    return `${this.prefix}k:${key}`;
  }
  #s(task: string, scope: string): string {
    return `${this.prefix}s:${createHash("sha256").update(JSON.stringify([task, scope])).digest("hex").slice(0, 32)}`;
  }
}

/** A URL with its password replaced, for messages (a password never reaches a log). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}
