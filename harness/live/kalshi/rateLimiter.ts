/**
 * Kalshi's rate limits, respected on our side: two token buckets (read and
 * write), each refilling at `refill_rate` tokens a second up to
 * `bucket_capacity`, a request costing its endpoint's tokens (10 by default).
 * The limits and costs are read from the account at start-up
 * (`GET /account/limits`, `GET /account/endpoint_costs`), never hard-coded
 * to a tier. Waiters are served in arrival order so a burst of writes cannot
 * starve an earlier one. Clock and sleep are injected for tests.
 */
import { realSleep, type Sleep } from "../../router/backoff.ts";

export interface BucketLimit {
  refill_rate: number;
  bucket_capacity: number;
}

/** Tokens after `elapsedMs` of refill, capped at the capacity. */
export function refilled(tokens: number, elapsedMs: number, limit: BucketLimit): number {
  return Math.min(limit.bucket_capacity, tokens + (Math.max(0, elapsedMs) / 1000) * limit.refill_rate);
}

/** How long until `tokens` grows to `cost` (0 when it already has). */
export function msUntil(tokens: number, cost: number, limit: BucketLimit): number {
  if (tokens >= cost) return 0;
  return Math.ceil(((cost - tokens) / limit.refill_rate) * 1000);
}

export class TokenBucketLimiter {
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();
  /** Sum of ms spent waiting (for reports and tests). */
  waitedMs = 0;

  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {
    if (!(limit.refill_rate > 0) || !(limit.bucket_capacity > 0)) throw new Error(`rate limit: refill_rate and bucket_capacity must be positive`);
    this.#tokens = limit.bucket_capacity;
    this.#last = now();
  }

  /** Wait (in turn) until the bucket holds `cost` tokens, then take them. */
  acquire(cost: number): Promise<void> {
    const c = Math.min(cost, this.limit.bucket_capacity); // a request dearer than the bucket would wait forever
    const turn = this.#queue.then(async () => {
      for (;;) {
        const t = this.now();
        this.#tokens = refilled(this.#tokens, t - this.#last, this.limit);
        this.#last = t;
        const wait = msUntil(this.#tokens, c, this.limit);
        if (wait === 0) break;
        this.waitedMs += wait;
        await this.sleep(wait);
      }
      this.#tokens -= c;
    });
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** After a 429 the exchange's bucket is empty whatever ours says: empty ours too. */
  drain(): void {
    this.#tokens = 0;
    this.#last = this.now();
  }
}

export interface EndpointCost {
  method: string;
  path: string;
  cost: number;
}

/** Cost lookup: exact method and path template (`/portfolio/events/orders/{order_id}`), else the default. */
export class EndpointCosts {
  readonly #costs = new Map<string, number>();
  constructor(
    readonly defaultCost: number,
    costs: readonly EndpointCost[],
  ) {
    for (const c of costs) this.#costs.set(`${c.method.toUpperCase()} ${normalise(c.path)}`, c.cost);
  }
  cost(method: string, pathTemplate: string): number {
    return this.#costs.get(`${method.toUpperCase()} ${normalise(pathTemplate)}`) ?? this.defaultCost;
  }
}

/** Costs may be listed with or without the `/trade-api/v2` prefix and with any `{param}` name. */
function normalise(path: string): string {
  return path.replace(/^\/trade-api\/v2/, "").replace(/\{[^}]+\}/g, "{}");
}
