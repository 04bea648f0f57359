/**
 * The Kalshi REST client tapedeck trades through: the official
 * `kalshi-typescript` SDK for the wire and the signing, wrapped so that
 *
 * - the SDK's signing hook sits on PRIVATE axios instances (`axios.create()`
 *   per API object, passed as the SDK's third constructor argument). Left to
 *   itself each SDK API object installs its hook on axios's global instance,
 *   and every other axios request in the process would then carry the Kalshi
 *   key id and signatures (test/live/kalshiClient.test.ts checks they do not);
 * - demo is the default environment; the base URL is always set explicitly
 *   (the SDK's own default is production);
 * - the read and write token buckets are read from the account at connect
 *   time and every call waits for its tokens (rateLimiter.ts); a 429 (which
 *   carries no Retry-After) empties our bucket and is retried with jittered
 *   exponential backoff;
 * - orders go through the V2 endpoints only (`/portfolio/events/orders`; the
 *   legacy ones cost 10× the tokens);
 * - every answer is parsed with zod into integer units and whole contracts
 *   from the current `*_dollars` / `*_fp` fields, so a renamed field fails
 *   loudly instead of reading as zero;
 * - every failure is one typed error (errors.ts) that carries no header.
 *
 * Reads that fail with a 5xx or no answer are retried; writes are not (the
 * broker decides: a write with an unknown outcome blocks its market).
 */
import axios, { isAxiosError, type AxiosInstance, type AxiosResponse } from "axios";
import {
  AccountApi,
  Configuration,
  ExchangeApi,
  MarketApi,
  OrdersApi,
  PortfolioApi,
  type CreateOrderV2Request,
} from "kalshi-typescript";
import { z } from "zod";
import { dollarsToUnits, type Units } from "../../money/money.ts";
import { fullJitterDelay, realSleep, type Sleep } from "../../router/backoff.ts";
import type { KalshiCredentials } from "./credentials.ts";
import { kalshiEndpoints, type KalshiEndpoints, type KalshiEnvironmentName } from "./environment.ts";
import { classifyKalshiFailure, KalshiError, KalshiRateLimitedError } from "./errors.ts";
import { EndpointCosts, TokenBucketLimiter, type BucketLimit } from "./rateLimiter.ts";

// ---------------------------------------------------------------- parsing

const Dollars = z.string().regex(/^-?\d*\.?\d+$/, "expected a dollar string");
const Fp = z.string().regex(/^-?\d*\.?\d+$/, "expected a fixed-point count string");
const units = (s: string): Units => dollarsToUnits(s);
/** Contracts from a fixed-point string, kept on its 0.01 grid (tapedeck places whole contracts; the exchange may report fractions). */
const count = (s: string): number => Math.round(Number(s) * 100) / 100;

const BucketSchema = z.object({ refill_rate: z.number().positive(), bucket_capacity: z.number().positive() });
const LimitsSchema = z.object({ usage_tier: z.string(), read: BucketSchema, write: BucketSchema });
const CostsSchema = z.object({
  default_cost: z.number().positive(),
  endpoint_costs: z.array(z.object({ method: z.string(), path: z.string(), cost: z.number().nonnegative() })),
});
const BalanceSchema = z.object({ balance_dollars: Dollars });
const PositionSchema = z.object({
  ticker: z.string(),
  position_fp: Fp,
  market_exposure_dollars: Dollars,
  realized_pnl_dollars: Dollars,
  fees_paid_dollars: Dollars,
});
const PositionsSchema = z.object({ market_positions: z.array(PositionSchema).nullable(), cursor: z.string().optional() });
const OrderSchema = z.object({
  order_id: z.string(),
  client_order_id: z.string(),
  ticker: z.string(),
  book_side: z.enum(["bid", "ask"]),
  outcome_side: z.enum(["yes", "no"]),
  action: z.enum(["buy", "sell"]).optional(),
  status: z.enum(["resting", "canceled", "executed"]),
  yes_price_dollars: Dollars,
  fill_count_fp: Fp,
  remaining_count_fp: Fp,
  initial_count_fp: Fp,
  taker_fees_dollars: Dollars,
  maker_fees_dollars: Dollars,
  taker_fill_cost_dollars: Dollars,
  maker_fill_cost_dollars: Dollars,
});
const OrdersSchema = z.object({ orders: z.array(OrderSchema).nullable(), cursor: z.string().optional() });
const FillSchema = z.object({
  fill_id: z.string(),
  order_id: z.string(),
  ticker: z.string(),
  book_side: z.enum(["bid", "ask"]),
  count_fp: Fp,
  yes_price_dollars: Dollars,
  is_taker: z.boolean(),
  fee_cost: Dollars,
  ts: z.number().optional(),
  created_time: z.string().optional(),
});
const FillsSchema = z.object({ fills: z.array(FillSchema).nullable(), cursor: z.string().optional() });
const CreateOrderSchema = z.object({
  order_id: z.string(),
  client_order_id: z.string().optional(),
  fill_count: Fp,
  remaining_count: Fp,
  average_fill_price: Dollars.optional(),
  average_fee_paid: Dollars.optional(),
  ts_ms: z.number().optional(),
});
const CancelSchema = z.object({ order_id: z.string(), reduced_by: Fp });
const DecreaseSchema = z.object({ order_id: z.string(), remaining_count: Fp });
const AmendSchema = z.object({ order_id: z.string(), remaining_count: Fp.optional(), fill_count: Fp.optional() });
const MarketSchema = z.object({
  ticker: z.string(),
  event_ticker: z.string(),
  status: z.string(),
  close_time: z.string().optional(),
  result: z.string().optional(),
});

// ---------------------------------------------------------------- results

/** A position as the exchange holds it: signed (> 0 YES, < 0 NO). */
export interface ExchangePosition {
  ticker: string;
  position: number;
  exposureUnits: Units;
  realizedPnlUnits: Units;
  feesPaidUnits: Units;
}

export interface ExchangeOrder {
  orderId: string;
  clientOrderId: string;
  ticker: string;
  bookSide: "bid" | "ask";
  outcome: "yes" | "no";
  status: "resting" | "canceled" | "executed";
  yesPriceUnits: Units;
  filled: number;
  remaining: number;
  initial: number;
  /** The order's fees so far (taker + maker), units. */
  feesUnits: Units;
  /** What its fills cost (taker + maker), units. */
  fillCostUnits: Units;
}

export interface ExchangeFill {
  fillId: string;
  orderId: string;
  ticker: string;
  bookSide: "bid" | "ask";
  count: number;
  yesPriceUnits: Units;
  isTaker: boolean;
  feeUnits: Units;
  /** Epoch ms. */
  ts: number;
}

export interface OrderAck {
  orderId: string;
  filled: number;
  remaining: number;
  averageFillPriceUnits: Units | null;
  ts: number;
}

/** A V2 limit order: `bid` buys YES at up to `yesPriceUnits`, `ask` sells YES (buys NO) at down to it. */
export interface NewOrder {
  ticker: string;
  bookSide: "bid" | "ask";
  count: number;
  yesPriceUnits: Units;
  clientOrderId: string;
  timeInForce: "fill_or_kill" | "good_till_canceled" | "immediate_or_cancel";
  postOnly?: boolean;
  reduceOnly?: boolean;
}

export interface KalshiLimits {
  usageTier: string;
  read: BucketLimit;
  write: BucketLimit;
}

// ---------------------------------------------------------------- client

export interface KalshiClientOptions {
  credentials: KalshiCredentials;
  /** Default demo. */
  environment?: KalshiEnvironmentName;
  /** Point at another host speaking Kalshi's API (the loopback fake). */
  restBase?: string;
  /** Per-request timeout, ms (default 10 s). A write that times out has an unknown outcome. */
  timeoutMs?: number;
  /** Retries after a 429 (any call) or a 5xx/no answer (reads only). Default 4. */
  maxRetries?: number;
  backoff?: { baseMs: number; capMs: number };
  now?: () => number;
  sleep?: Sleep;
  rng?: () => number;
}

/** The share of the published refill rate we spend. */
const PACING_MARGIN = 0.9;

interface Apis {
  orders: OrdersApi;
  portfolio: PortfolioApi;
  market: MarketApi;
  exchange: ExchangeApi;
}

/**
 * The axios type the SDK was compiled against (its CommonJS typings). Ours is
 * the same runtime object from axios's ESM typings; TypeScript sees two
 * unrelated declarations of one class.
 */
type SdkAxios = NonNullable<ConstructorParameters<typeof OrdersApi>[2]>;

interface Call {
  method: "GET" | "POST" | "DELETE";
  /** Path template, as the endpoint-cost table names it. */
  path: string;
}

export class KalshiClient {
  readonly endpoints: KalshiEndpoints;
  readonly limits: KalshiLimits;
  /** 429s seen (each retried or surfaced). */
  rateLimitedCount = 0;

  readonly #apis: Apis;
  readonly #read: TokenBucketLimiter;
  readonly #write: TokenBucketLimiter;
  readonly #costs: EndpointCosts;
  readonly #opts: Required<Pick<KalshiClientOptions, "maxRetries" | "sleep" | "rng">> & { backoff: { baseMs: number; capMs: number } };

  private constructor(
    endpoints: KalshiEndpoints,
    apis: Apis,
    limits: KalshiLimits,
    costs: EndpointCosts,
    opts: KalshiClientOptions,
  ) {
    this.endpoints = endpoints;
    this.#apis = apis;
    this.limits = limits;
    this.#costs = costs;
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? realSleep;
    // Our clock and the exchange's see a request at different instants (network jitter), so pace at a
    // margin under the published refill rate; otherwise a request sent just in time can land just early.
    const paced = (b: BucketLimit): BucketLimit => ({ refill_rate: b.refill_rate * PACING_MARGIN, bucket_capacity: b.bucket_capacity });
    this.#read = new TokenBucketLimiter(paced(limits.read), now, sleep);
    this.#write = new TokenBucketLimiter(paced(limits.write), now, sleep);
    this.#opts = { maxRetries: opts.maxRetries ?? 4, sleep, rng: opts.rng ?? Math.random, backoff: opts.backoff ?? { baseMs: 200, capMs: 5_000 } };
  }

  /** Build the client and read the account's rate limits and endpoint costs (the first two requests it makes). */
  static async connect(opts: KalshiClientOptions): Promise<KalshiClient> {
    const endpoints = kalshiEndpoints(opts.environment ?? "demo", { restBase: opts.restBase });
    const timeout = opts.timeoutMs ?? 10_000;
    const configuration = new Configuration({
      apiKey: opts.credentials.keyId(),
      privateKeyPem: opts.credentials.privateKeyPem(),
      basePath: endpoints.restBase,
    });
    // One private instance per API object: each installs its own signing hook on the instance it gets.
    const http = (): SdkAxios => axios.create({ timeout }) as AxiosInstance as unknown as SdkAxios;
    const account = new AccountApi(configuration, endpoints.restBase, http());
    const apis = {
      orders: new OrdersApi(configuration, endpoints.restBase, http()),
      portfolio: new PortfolioApi(configuration, endpoints.restBase, http()),
      market: new MarketApi(configuration, endpoints.restBase, http()),
      exchange: new ExchangeApi(configuration, endpoints.restBase, http()),
    };
    const sleep = opts.sleep ?? realSleep;
    // Before the limits are known, read them without a bucket (two requests), retrying a 429 like any call.
    const bootstrap = async <T>(call: Call, fn: () => Promise<AxiosResponse<unknown>>, schema: z.ZodType<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return parse(call, schema, (await fn()).data);
        } catch (e) {
          const err = toKalshiError(call, e);
          if (!(err instanceof KalshiRateLimitedError) || attempt >= (opts.maxRetries ?? 4)) throw err;
          await sleep(fullJitterDelay(attempt, opts.backoff ?? { baseMs: 200, capMs: 5_000 }, opts.rng ?? Math.random));
        }
      }
    };
    const limits = await bootstrap({ method: "GET", path: "/account/limits" }, () => account.getAccountApiLimits(), LimitsSchema);
    const costs = await bootstrap({ method: "GET", path: "/account/endpoint_costs" }, () => account.getAccountEndpointCosts(), CostsSchema);
    return new KalshiClient(
      endpoints,
      apis,
      { usageTier: limits.usage_tier, read: limits.read, write: limits.write },
      new EndpointCosts(costs.default_cost, costs.endpoint_costs),
      opts,
    );
  }

  /** Tokens waited for so far, ms (read, write). */
  waitedMs(): { read: number; write: number } {
    return { read: this.#read.waitedMs, write: this.#write.waitedMs };
  }

  // ------------------------------------------------------------ account reads

  async balanceUnits(): Promise<Units> {
    const b = await this.#call({ method: "GET", path: "/portfolio/balance" }, () => this.#apis.portfolio.getBalance(), BalanceSchema);
    return units(b.balance_dollars);
  }

  async positions(ticker?: string): Promise<ExchangePosition[]> {
    const out: ExchangePosition[] = [];
    await this.#paged(
      { method: "GET", path: "/portfolio/positions" },
      (cursor) => this.#apis.portfolio.getPositions(cursor, 1000, undefined, ticker),
      PositionsSchema,
      (page) => {
        for (const p of page.market_positions ?? []) {
          const position = count(p.position_fp);
          if (position === 0) continue; // Kalshi lists markets traded and closed again with a zero position
          out.push({
            ticker: p.ticker,
            position,
            exposureUnits: units(p.market_exposure_dollars),
            realizedPnlUnits: units(p.realized_pnl_dollars),
            feesPaidUnits: units(p.fees_paid_dollars),
          });
        }
      },
    );
    return out;
  }

  async orders(filter: { ticker?: string; status?: "resting" | "canceled" | "executed" } = {}): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    await this.#paged(
      { method: "GET", path: "/portfolio/orders" },
      (cursor) => this.#apis.orders.getOrders(filter.ticker, undefined, undefined, undefined, filter.status, 1000, cursor),
      OrdersSchema,
      (page) => {
        for (const o of page.orders ?? []) out.push(toOrder(o));
      },
    );
    return out;
  }

  async order(orderId: string): Promise<ExchangeOrder> {
    const r = await this.#call(
      { method: "GET", path: "/portfolio/orders/{order_id}" },
      () => this.#apis.orders.getOrder(orderId),
      z.object({ order: OrderSchema }),
    );
    return toOrder(r.order);
  }

  async fills(filter: { ticker?: string; orderId?: string; minTs?: number } = {}): Promise<ExchangeFill[]> {
    const out: ExchangeFill[] = [];
    await this.#paged(
      { method: "GET", path: "/portfolio/fills" },
      (cursor) =>
        this.#apis.portfolio.getFills(
          filter.ticker,
          filter.orderId,
          filter.minTs === undefined ? undefined : Math.floor(filter.minTs / 1000),
          undefined,
          1000,
          cursor,
        ),
      FillsSchema,
      (page) => {
        for (const f of page.fills ?? []) {
          out.push({
            fillId: f.fill_id,
            orderId: f.order_id,
            ticker: f.ticker,
            bookSide: f.book_side,
            count: count(f.count_fp),
            yesPriceUnits: units(f.yes_price_dollars),
            isTaker: f.is_taker,
            feeUnits: units(f.fee_cost),
            ts: f.created_time ? Date.parse(f.created_time) : (f.ts ?? 0) * 1000,
          });
        }
      },
    );
    return out;
  }

  async market(ticker: string): Promise<z.infer<typeof MarketSchema>> {
    const r = await this.#call({ method: "GET", path: "/markets/{ticker}" }, () => this.#apis.market.getMarket(ticker), z.object({ market: MarketSchema }));
    return r.market;
  }

  // ------------------------------------------------------------ writes (V2)

  async createOrder(o: NewOrder): Promise<OrderAck> {
    const body: CreateOrderV2Request = {
      ticker: o.ticker,
      side: o.bookSide,
      count: o.count.toFixed(2),
      price: (o.yesPriceUnits / 10_000).toFixed(4),
      time_in_force: o.timeInForce,
      self_trade_prevention_type: "taker_at_cross",
      client_order_id: o.clientOrderId,
      ...(o.postOnly ? { post_only: true } : {}),
      ...(o.reduceOnly ? { reduce_only: true } : {}),
    };
    const r = await this.#call({ method: "POST", path: "/portfolio/events/orders" }, () => this.#apis.orders.createOrderV2(body), CreateOrderSchema);
    return {
      orderId: r.order_id,
      filled: count(r.fill_count),
      remaining: count(r.remaining_count),
      averageFillPriceUnits: r.average_fill_price === undefined ? null : units(r.average_fill_price),
      ts: r.ts_ms ?? Date.now(),
    };
  }

  /** Cancel the rest of an order; returns how many contracts that took off. */
  async cancelOrder(orderId: string): Promise<number> {
    const r = await this.#call(
      { method: "DELETE", path: "/portfolio/events/orders/{order_id}" },
      () => this.#apis.orders.cancelOrderV2(orderId),
      CancelSchema,
    );
    return count(r.reduced_by);
  }

  /** Cancel every resting order of the account (the kill switch's first move). */
  async cancelAll(): Promise<void> {
    await this.#call({ method: "DELETE", path: "/portfolio/events/orders" }, () => this.#apis.orders.cancelAllOrders(), z.unknown());
  }

  /** Reduce what rests: by `reduceBy` contracts or to `reduceTo`. Returns what remains. */
  async decreaseOrder(orderId: string, by: { reduceBy: number } | { reduceTo: number }): Promise<number> {
    const req = "reduceBy" in by ? { reduce_by: by.reduceBy.toFixed(2) } : { reduce_to: by.reduceTo.toFixed(2) };
    const r = await this.#call(
      { method: "POST", path: "/portfolio/events/orders/{order_id}/decrease" },
      () => this.#apis.orders.decreaseOrderV2(orderId, req),
      DecreaseSchema,
    );
    return count(r.remaining_count);
  }

  /** New price and total count (filled + wanted remaining). */
  async amendOrder(orderId: string, a: { ticker: string; bookSide: "bid" | "ask"; yesPriceUnits: Units; totalCount: number }): Promise<{ remaining: number | null }> {
    const r = await this.#call(
      { method: "POST", path: "/portfolio/events/orders/{order_id}/amend" },
      () =>
        this.#apis.orders.amendOrderV2(orderId, {
          ticker: a.ticker,
          side: a.bookSide,
          price: (a.yesPriceUnits / 10_000).toFixed(4),
          count: a.totalCount.toFixed(2),
        }),
      AmendSchema,
    );
    return { remaining: r.remaining_count === undefined ? null : count(r.remaining_count) };
  }

  // ------------------------------------------------------------ plumbing

  async #paged<T extends { cursor?: string | undefined }>(
    call: Call,
    fn: (cursor: string | undefined) => Promise<AxiosResponse<unknown>>,
    schema: z.ZodType<T>,
    each: (page: T) => void,
  ): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.#call(call, () => fn(cursor), schema);
      each(r);
      if (!r.cursor) return;
      cursor = r.cursor;
    }
    throw new Error(`Kalshi ${call.method} ${call.path}: more than 1000 pages`);
  }

  async #call<T>(call: Call, fn: () => Promise<AxiosResponse<unknown>>, schema: z.ZodType<T>): Promise<T> {
    const write = call.method !== "GET";
    const bucket = write ? this.#write : this.#read;
    const cost = this.#costs.cost(call.method, call.path);
    for (let attempt = 0; ; attempt++) {
      await bucket.acquire(cost);
      let response: AxiosResponse<unknown>;
      try {
        response = await fn();
      } catch (e) {
        const err = toKalshiError({ ...call }, e);
        const retryable =
          err instanceof KalshiRateLimitedError || (!write && (err.kind === "server" || err.kind === "network"));
        if (err instanceof KalshiRateLimitedError) {
          this.rateLimitedCount++;
          bucket.drain();
        }
        if (!retryable || attempt >= this.#opts.maxRetries) throw err;
        await this.#opts.sleep(fullJitterDelay(attempt, this.#opts.backoff, this.#opts.rng));
        continue;
      }
      return parse(call, schema, response.data);
    }
  }
}

function toOrder(o: z.infer<typeof OrderSchema>): ExchangeOrder {
  return {
    orderId: o.order_id,
    clientOrderId: o.client_order_id,
    ticker: o.ticker,
    bookSide: o.book_side,
    outcome: o.outcome_side,
    status: o.status,
    yesPriceUnits: units(o.yes_price_dollars),
    filled: count(o.fill_count_fp),
    remaining: count(o.remaining_count_fp),
    initial: count(o.initial_count_fp),
    feesUnits: units(o.taker_fees_dollars) + units(o.maker_fees_dollars),
    fillCostUnits: units(o.taker_fill_cost_dollars) + units(o.maker_fill_cost_dollars),
  };
}

/** A response that does not have the fields we read is an error naming the field, never a silent zero. */
function parse<T>(call: Call, schema: z.ZodType<T>, data: unknown): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`Kalshi ${call.method} ${call.path}: unexpected response: ${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "invalid"}`);
}

const ErrorBody = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }) });

/** Map an axios (or other) failure to a typed error; nothing of the request's config travels with it. */
function toKalshiError(call: Call, e: unknown): KalshiError {
  const c = { method: call.method, path: call.path, write: call.method !== "GET" };
  if (e instanceof KalshiError) return e;
  if (isAxiosError(e)) {
    if (e.response) {
      const body = ErrorBody.safeParse(e.response.data);
      const code = body.success ? (body.data.error.code ?? `http_${e.response.status}`) : `http_${e.response.status}`;
      const message = body.success ? (body.data.error.message ?? "") : "";
      return classifyKalshiFailure(c, e.response.status, code, message);
    }
    return classifyKalshiFailure(c, null, e.code ?? "ENETWORK", e.code === "ECONNABORTED" ? "timed out" : "no answer");
  }
  return classifyKalshiFailure(c, null, "EUNKNOWN", e instanceof Error ? e.name : "failure");
}
