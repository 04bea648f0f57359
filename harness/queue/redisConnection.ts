/**
 * Where a distributed sweep lives: one Redis server (`--queue redis://…`),
 * one BullMQ queue on it. BullMQ takes ioredis options; its workers need
 * maxRetriesPerRequest null (their blocking commands must not be retried
 * under them). A server that cannot be reached is a one-line error at once.
 */
import { Redis } from "ioredis";
import { redactUrl } from "../cache/backends/redisCache.ts";

/** The BullMQ queue every sweep job goes through (job ids carry the sweep id). */
export const SWEEP_QUEUE = "tapedeck-sweep";

/** Connection options (ioredis's, which BullMQ takes) for a redis:// or rediss:// URL. */
export interface QueueConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
}

export function connectionFor(url: string): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${redactUrl(url)}: not a URL (expected redis://host:port)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`--queue ${redactUrl(url)}: expected a redis:// or rediss:// URL`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue ${redactUrl(url)}: the database number must be a non-negative integer`);
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A plain connection for our own keys (manifests), checked with a PING; the caller quits it. */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis({ ...connectionFor(url), lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 2, retryStrategy: (n) => (n > 5 ? null : n * 100) });
  redis.on("error", () => {}); // surfaced through rejected commands
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(`--queue ${redactUrl(url)}: cannot connect (${(error as Error).message})`);
  }
  return redis;
}
