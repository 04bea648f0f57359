/**
 * One provider as the router sees it: its clients (one per API key, used in
 * turn to spread load), a p-queue enforcing its concurrency and
 * requests-per-minute limits, and its circuit breaker.
 */
import PQueue from "p-queue";
import type { Provider } from "../../providers/provider.ts";
import type { CircuitBreaker } from "./circuitBreaker.ts";

export interface EndpointLimits {
  concurrency?: number;
  requestsPerMinute?: number;
  /** The rate window, 60 s unless a test shortens it (the limit scales with it). */
  rateWindowMs?: number;
}

export class Endpoint {
  readonly queue: PQueue;
  #next = 0;

  constructor(
    readonly name: string,
    readonly clients: readonly Provider[],
    readonly breaker: CircuitBreaker,
    limits: EndpointLimits = {},
    /** Models on this endpoint cost nothing when they have no price (local GPU, Ollama). */
    readonly freeByDefault = false,
  ) {
    if (clients.length === 0) throw new Error(`endpoint ${name}: no clients (no API keys?)`);
    this.queue = new PQueue({
      concurrency: limits.concurrency ?? Number.POSITIVE_INFINITY,
      // Wall time on purpose: a provider's rate limit is physical, even in replay.
      ...(limits.requestsPerMinute !== undefined
        ? { intervalCap: Math.max(1, Math.round((limits.requestsPerMinute * (limits.rateWindowMs ?? 60_000)) / 60_000)), interval: limits.rateWindowMs ?? 60_000, strict: true }
        : {}),
    });
  }

  /** The next client in round-robin order (one per key). */
  nextClient(): Provider {
    const client = this.clients[this.#next % this.clients.length];
    this.#next += 1;
    if (!client) throw new Error(`endpoint ${this.name}: no client`);
    return client;
  }
}
