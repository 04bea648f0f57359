/**
 * A fake Kalshi exchange, in process: markets, one YES order book per market
 * with price-time matching, accounts (balances, positions, orders, fills),
 * settlement, token-bucket rate limits and scripted faults. It is what the
 * live code talks to in tests and in the no-keys demo of `tapedeck trade`
 * (so it lives outside test/). The live code under test is the same code that
 * talks to Kalshi: it reaches this class only over the wire, through the REST
 * endpoints in rest.ts and the WebSocket server that attaches to `start()`'s
 * http.Server.
 *
 * ## Wire conventions (Kalshi's, see shared/KALSHI.md)
 * - Prices are dollar strings with 4 decimals ("0.4500"), sizes fixed-point
 *   strings with 2 decimals ("10.00"). Internally prices are integer units of
 *   $0.0001 (harness/money) and sizes whole contracts.
 * - One book per market, on YES: `bid` buys YES, `ask` sells YES. Buying NO at
 *   q is an `ask` at 1 − q. Positions are signed (`position_fp` > 0 is YES,
 *   < 0 is NO); a YES and a NO contract held together net out and pay $1.
 * - Book messages list resting bids per side the way Kalshi's feed does:
 *   `yes_dollars_fp` = YES bids, `no_dollars_fp` = NO bids (= YES asks at
 *   1 − p). A delta's `side` says which of the two lists changed.
 *
 * ## Events (for the WebSocket server; subscribe with `exchange.on(kind, fn)`)
 * Every payload is the `msg` of the Kalshi WebSocket message of the same
 * channel, so the server wraps it as `{ type, sid, seq, msg }`:
 * | event            | WS `type`             | channel               | private |
 * |------------------|-----------------------|-----------------------|---------|
 * | `book_snapshot`  | `orderbook_snapshot`  | `orderbook_delta`     | no      |
 * | `book_delta`     | `orderbook_delta`     | `orderbook_delta`     | no      |
 * | `ticker`         | `ticker`              | `ticker`              | no      |
 * | `trade`          | `trade`               | `trade`               | no      |
 * | `lifecycle`      | `market_lifecycle_v2` | `market_lifecycle_v2` | no      |
 * | `fill`           | `fill`                | `fill`                | yes     |
 * | `order_update`   | `user_order`          | `user_orders`         | yes     |
 * | `drop_sockets`   | (fault) close every WebSocket connection abruptly      |
 * Private events carry `account` (the key id whose connection may see them)
 * next to `msg`. Book events carry the market's book `seq` (1, 2, 3, … per
 * market, counting snapshots and deltas); `skipBookSeq` makes a gap. A
 * server that numbers per subscription instead may renumber, but must carry
 * a gap through. `bookSnapshot(ticker)` gives the current book with its seq,
 * for a new subscription.
 *
 * ## Faults (scripted, each consumed once unless `times` says otherwise)
 * `failNext` (an HTTP status without Retry-After: 429, 500, 503),
 * `hangNextSubmit` (the order is executed, the response never comes),
 * `garbleNextSubmit` (executed, answered with a renamed field),
 * `cancelByExchange` (the exchange cancels a resting order on its own),
 * `forgetOrder` (the exchange no longer has an order), `setPosition` (a
 * position the client did not trade), `skipBookSeq`, `dropSockets`.
 */
import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { DEFAULT_FEE_SCHEDULE, fillFee, maxOrderFee, orderFee, type FeeSchedule } from "../../broker/fees.ts";
import { CONTRACT_PAYOUT, isValidPrice, type Units } from "../../money/money.ts";
import { createRestHandler } from "./rest.ts";

// ---------------------------------------------------------------- wire shapes

export type BookSide = "bid" | "ask";
export type OrderStatus = "resting" | "canceled" | "executed";
export type TimeInForce = "fill_or_kill" | "good_till_canceled" | "immediate_or_cancel";

/** GET /portfolio/orders item (Kalshi's `Order`, the fields this fake fills in). */
export interface WireOrder {
  order_id: string;
  user_id: string;
  client_order_id: string;
  ticker: string;
  side: "yes" | "no";
  action: "buy" | "sell";
  outcome_side: "yes" | "no";
  book_side: BookSide;
  type: "limit";
  status: OrderStatus;
  yes_price_dollars: string;
  no_price_dollars: string;
  fill_count_fp: string;
  remaining_count_fp: string;
  initial_count_fp: string;
  taker_fill_cost_dollars: string;
  maker_fill_cost_dollars: string;
  taker_fees_dollars: string;
  maker_fees_dollars: string;
  created_time: string;
  last_update_time: string;
}

/** GET /portfolio/fills item and (with `client_order_id`, `post_position_fp`) the `fill` channel's msg. */
export interface WireFill {
  fill_id: string;
  trade_id: string;
  order_id: string;
  client_order_id: string;
  ticker: string;
  market_ticker: string;
  side: "yes" | "no";
  action: "buy" | "sell";
  outcome_side: "yes" | "no";
  book_side: BookSide;
  count_fp: string;
  yes_price_dollars: string;
  no_price_dollars: string;
  is_taker: boolean;
  fee_cost: string;
  created_time: string;
  ts: number;
  post_position_fp: string;
}

/** GET /portfolio/positions `market_positions[]` item. */
export interface WirePosition {
  ticker: string;
  exchange_index: number;
  total_traded_dollars: string;
  position_fp: string;
  market_exposure_dollars: string;
  realized_pnl_dollars: string;
  fees_paid_dollars: string;
  last_updated_ts: string;
}

export interface BookSnapshotMsg {
  market_ticker: string;
  /** YES bids, [price dollars, size fp], best (highest) first. */
  yes_dollars_fp: Array<[string, string]>;
  /** NO bids (YES asks at 1 − p), best (highest NO price) first. */
  no_dollars_fp: Array<[string, string]>;
}
export interface BookDeltaMsg {
  market_ticker: string;
  price_dollars: string;
  /** Signed change of the size resting at that price. */
  delta_fp: string;
  side: "yes" | "no";
  ts: string;
}
export interface TickerMsg {
  market_ticker: string;
  price_dollars: string | null;
  yes_bid_dollars: string | null;
  yes_ask_dollars: string | null;
  volume_fp: string;
  open_interest_fp: string;
  ts: number;
}
export interface TradeMsg {
  trade_id: string;
  market_ticker: string;
  yes_price_dollars: string;
  no_price_dollars: string;
  count_fp: string;
  taker_side: "yes" | "no";
  ts: number;
}
export type LifecycleEventType = "activated" | "deactivated" | "close_date_updated" | "determined" | "settled";
export interface LifecycleMsg {
  market_ticker: string;
  event_type: LifecycleEventType;
  open_ts: number;
  close_ts: number;
  result: "yes" | "no" | "" ;
  settled_ts: number | null;
}

/** The events the exchange emits, by name (see the table above). */
export interface ExchangeEvents {
  book_snapshot: { seq: number; msg: BookSnapshotMsg };
  book_delta: { seq: number; msg: BookDeltaMsg };
  ticker: { msg: TickerMsg };
  trade: { msg: TradeMsg };
  lifecycle: { msg: LifecycleMsg };
  fill: { account: string; msg: WireFill };
  order_update: { account: string; msg: WireOrder };
  drop_sockets: { reason: string };
}
export type ExchangeEventKind = keyof ExchangeEvents;

// ---------------------------------------------------------------- model

export interface FakeMarketSpec {
  ticker: string;
  eventTicker?: string;
  seriesTicker?: string;
  title?: string;
  /** Epoch ms; defaults: now, and a day later. */
  openTime?: number;
  closeTime?: number;
}

export interface FakeMarket {
  ticker: string;
  eventTicker: string;
  seriesTicker: string;
  title: string;
  openTime: number;
  closeTime: number;
  status: "open" | "closed" | "settled";
  result: "yes" | "no" | null;
  lastPrice: Units | null;
  volume: number;
}

interface RestingOrder {
  id: string;
  account: string;
  clientOrderId: string;
  ticker: string;
  bookSide: BookSide;
  /** YES price, units. */
  price: Units;
  initial: number;
  filled: number;
  remaining: number;
  status: OrderStatus;
  /** What the account asked for, to report side/action the way it was meant. */
  outcome: "yes" | "no";
  action: "buy" | "sell";
  takerCost: Units;
  makerCost: Units;
  fillFees: Units[];
  takerFees: Units;
  makerFees: Units;
  createdTs: number;
  updatedTs: number;
  /** Arrival order, for time priority. */
  arrival: number;
}

interface PositionState {
  /** Signed: > 0 YES, < 0 NO. */
  position: number;
  /** What the open position cost (fees excluded), units. */
  exposure: Units;
  realized: Units;
  fees: Units;
  traded: Units;
  updatedTs: number;
}

export interface FakeAccount {
  keyId: string;
  /** SPKI PEM; null for the house account, which signs nothing. */
  publicKeyPem: string | null;
  balance: Units;
  /** The house provides liquidity: its balance is never checked. */
  house: boolean;
  positions: Map<string, PositionState>;
  fills: WireFill[];
  /** Every fee charged to this account, ever (the exchange's revenue from it), units. */
  feesPaid: Units;
  read: TokenBucket;
  write: TokenBucket;
}

export interface BucketLimit {
  refill_rate: number;
  bucket_capacity: number;
}

export interface FakeLimits {
  usage_tier: string;
  read: BucketLimit;
  write: BucketLimit;
  /** Tokens per request unless `endpointCosts` names it. */
  defaultCost: number;
  endpointCosts: Array<{ method: string; path: string; cost: number }>;
}

/** Kalshi's Basic tier: 200 read / 100 write tokens a second, 10 a request (legacy order endpoints 10×). */
export const BASIC_LIMITS: FakeLimits = {
  usage_tier: "basic",
  read: { refill_rate: 200, bucket_capacity: 200 },
  write: { refill_rate: 100, bucket_capacity: 100 },
  defaultCost: 10,
  endpointCosts: [
    { method: "POST", path: "/portfolio/orders", cost: 100 },
    { method: "DELETE", path: "/portfolio/orders/{order_id}", cost: 100 },
  ],
};

export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    readonly limit: BucketLimit,
    now: number,
  ) {
    this.#tokens = limit.bucket_capacity;
    this.#last = now;
  }
  /** Take `cost` tokens if the bucket holds them. */
  take(cost: number, now: number): boolean {
    this.#tokens = Math.min(this.limit.bucket_capacity, this.#tokens + ((now - this.#last) / 1000) * this.limit.refill_rate);
    this.#last = now;
    if (this.#tokens + 1e-9 < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}

/** What a create-order call asks for (the V2 body, parsed). */
export interface CreateOrderInput {
  ticker: string;
  side: BookSide;
  count: number;
  /** YES price, units. */
  price: Units;
  timeInForce: TimeInForce;
  clientOrderId: string | null;
  postOnly: boolean;
  reduceOnly: boolean;
}

export interface CreateOrderResult {
  order_id: string;
  client_order_id: string;
  fill_count: string;
  remaining_count: string;
  average_fill_price: string | undefined;
  average_fee_paid: string | undefined;
  ts_ms: number;
}

/** A refusal with Kalshi's error shape: HTTP status, `code`, message. */
export class ExchangeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ExchangeError";
  }
}

/** A scripted HTTP-level fault, consumed by the REST layer before it serves a matching request. */
export type HttpFault =
  | { kind: "status"; status: number; code: string; times: number; method: string | null; pathPrefix: string | null }
  | { kind: "hang_after_execute"; times: number }
  | { kind: "garble_after_execute"; times: number };

export interface FakeExchangeOptions {
  /** The exchange's clock (ms); tests may drive it. Default Date.now. */
  now?: () => number;
  limits?: FakeLimits;
  fees?: FeeSchedule;
}

export interface StartedExchange {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** REST base to give the client: `${origin}/trade-api/v2`. */
  restBase: string;
  /** WebSocket URL: `ws://127.0.0.1:<port>/trade-api/ws/v2`. */
  wsUrl: string;
  /** The server: a WebSocket server attaches to its `upgrade` event. */
  server: Server;
  close(): Promise<void>;
}

const HOUSE = "house";

export class FakeExchange {
  readonly #emitter = new EventEmitter();
  readonly #now: () => number;
  readonly #limits: FakeLimits;
  readonly #fees: FeeSchedule;
  readonly #markets = new Map<string, FakeMarket>();
  readonly #orders = new Map<string, RestingOrder>();
  readonly #accounts = new Map<string, FakeAccount>();
  readonly #bookSeq = new Map<string, number>();
  /** Orders whose rest is on the book (takers are not until they rest). */
  readonly #booked = new Set<string>();
  readonly #faults: HttpFault[] = [];
  #nextOrder = 1;
  #nextFill = 1;
  #nextTrade = 1;
  #arrival = 0;
  #started: StartedExchange | null = null;

  constructor(options: FakeExchangeOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#limits = options.limits ?? BASIC_LIMITS;
    this.#fees = options.fees ?? DEFAULT_FEE_SCHEDULE;
    this.#emitter.setMaxListeners(100);
    this.#accounts.set(HOUSE, this.#newAccount(HOUSE, null, 0, true));
  }

  // ------------------------------------------------------------ events

  on<K extends ExchangeEventKind>(kind: K, listener: (event: ExchangeEvents[K]) => void): () => void {
    this.#emitter.on(kind, listener);
    return () => this.#emitter.off(kind, listener);
  }

  #emit<K extends ExchangeEventKind>(kind: K, event: ExchangeEvents[K]): void {
    this.#emitter.emit(kind, event);
  }

  now(): number {
    return this.#now();
  }

  // ------------------------------------------------------------ setup

  addAccount(a: { keyId: string; publicKeyPem: string; balanceDollars: number }): FakeAccount {
    const acc = this.#newAccount(a.keyId, a.publicKeyPem, Math.round(a.balanceDollars * 10_000), false);
    this.#accounts.set(a.keyId, acc);
    return acc;
  }

  account(keyId: string): FakeAccount | undefined {
    return this.#accounts.get(keyId);
  }

  #newAccount(keyId: string, publicKeyPem: string | null, balance: Units, house: boolean): FakeAccount {
    const now = this.#now();
    return {
      keyId,
      publicKeyPem,
      balance,
      house,
      positions: new Map(),
      fills: [],
      feesPaid: 0,
      read: new TokenBucket(this.#limits.read, now),
      write: new TokenBucket(this.#limits.write, now),
    };
  }

  addMarket(spec: FakeMarketSpec): FakeMarket {
    const now = this.#now();
    const m: FakeMarket = {
      ticker: spec.ticker,
      eventTicker: spec.eventTicker ?? spec.ticker.split("-").slice(0, 2).join("-"),
      seriesTicker: spec.seriesTicker ?? spec.ticker.split("-")[0]!,
      title: spec.title ?? spec.ticker,
      openTime: spec.openTime ?? now,
      closeTime: spec.closeTime ?? now + 86_400_000,
      status: "open",
      result: null,
      lastPrice: null,
      volume: 0,
    };
    this.#markets.set(m.ticker, m);
    this.#bookSeq.set(m.ticker, 0);
    this.#emit("lifecycle", { msg: this.#lifecycleMsg(m, "activated") });
    return m;
  }

  market(ticker: string): FakeMarket | undefined {
    return this.#markets.get(ticker);
  }
  markets(): FakeMarket[] {
    return [...this.#markets.values()];
  }

  /** Rest house liquidity: a YES bid (`bid`) or YES ask (`ask`) of `count` at `priceDollars` (YES price). */
  seedLiquidity(ticker: string, side: BookSide, priceDollars: number, count: number): string {
    const r = this.placeOrder(HOUSE, {
      ticker,
      side,
      count,
      price: Math.round(priceDollars * 10_000),
      timeInForce: "good_till_canceled",
      clientOrderId: null,
      postOnly: false,
      reduceOnly: false,
    });
    return r.order_id;
  }

  /** A house taker order: trades against resting orders (the way the test makes a user's resting order fill). */
  houseTakes(ticker: string, side: BookSide, priceDollars: number, count: number): CreateOrderResult {
    return this.placeOrder(HOUSE, {
      ticker,
      side,
      count,
      price: Math.round(priceDollars * 10_000),
      timeInForce: "immediate_or_cancel",
      clientOrderId: null,
      postOnly: false,
      reduceOnly: false,
    });
  }

  // ------------------------------------------------------------ rate limits

  limits(): FakeLimits {
    return this.#limits;
  }

  /** Charge a request to the account's bucket; false means answer 429 (without Retry-After). */
  chargeRequest(keyId: string, method: string, routePath: string): boolean {
    const acc = this.#accounts.get(keyId);
    if (!acc) return false;
    const cost = this.#limits.endpointCosts.find((c) => c.method === method && c.path === routePath)?.cost ?? this.#limits.defaultCost;
    const bucket = method === "GET" ? acc.read : acc.write;
    return bucket.take(cost, this.#now());
  }

  // ------------------------------------------------------------ faults

  /** The next `times` requests (matching method and path prefix, when given) get `status` without Retry-After. */
  failNext(status: number, opts: { times?: number; method?: string; pathPrefix?: string; code?: string } = {}): void {
    this.#faults.push({
      kind: "status",
      status,
      code: opts.code ?? (status === 429 ? "too_many_requests" : "internal_server_error"),
      times: opts.times ?? 1,
      method: opts.method ?? null,
      pathPrefix: opts.pathPrefix ?? null,
    });
  }

  /** The next create-order request is executed, but its response never comes (the client times out). */
  hangNextSubmit(times = 1): void {
    this.#faults.push({ kind: "hang_after_execute", times });
  }

  /** The next create-order request is executed, but answered with a field renamed (`order_id` → `id`), as after an API change. */
  garbleNextSubmit(times = 1): void {
    this.#faults.push({ kind: "garble_after_execute", times });
  }

  /** For the REST layer: the fault that applies to this request, consumed. */
  takeFault(method: string, routePath: string, isSubmit: boolean): HttpFault | null {
    for (let i = 0; i < this.#faults.length; i++) {
      const f = this.#faults[i]!;
      const applies =
        f.kind === "hang_after_execute" || f.kind === "garble_after_execute"
          ? isSubmit
          : (f.method === null || f.method === method) && (f.pathPrefix === null || routePath.startsWith(f.pathPrefix));
      if (!applies) continue;
      f.times -= 1;
      if (f.times <= 0) this.#faults.splice(i, 1);
      return f;
    }
    return null;
  }

  /** The exchange cancels a resting order on its own (e.g. a market pause); `order_update` says so. */
  cancelByExchange(orderId: string): void {
    const o = this.#orders.get(orderId);
    if (!o || o.status !== "resting") throw new Error(`no resting order ${orderId}`);
    this.#endOrder(o, "canceled");
  }

  /** The exchange loses an order: it leaves the book and every listing, silently (no event). */
  forgetOrder(orderId: string): void {
    const o = this.#orders.get(orderId);
    if (!o) throw new Error(`no order ${orderId}`);
    if (o.status === "resting") this.#bookChange(o, -o.remaining);
    this.#booked.delete(orderId);
    this.#orders.delete(orderId);
  }

  /** Set an account's position outright (a discrepancy the client did not trade), exposure at `costDollars`. */
  setPosition(keyId: string, ticker: string, positionFp: number, costDollars = 0): void {
    const acc = this.#mustAccount(keyId);
    if (positionFp === 0) {
      acc.positions.delete(ticker);
      return;
    }
    const p = this.#position(acc, ticker);
    p.position = positionFp;
    p.exposure = Math.round(costDollars * 10_000);
    p.updatedTs = this.#now();
  }

  /** The next book message of this market skips a seq number (a gap the client must notice). */
  skipBookSeq(ticker: string): void {
    this.#bookSeq.set(ticker, (this.#bookSeq.get(ticker) ?? 0) + 1);
  }

  /** Close every WebSocket connection abruptly (the WebSocket server listens for this). */
  dropSockets(reason = "fault"): void {
    this.#emit("drop_sockets", { reason });
  }

  // ------------------------------------------------------------ market life

  closeMarket(ticker: string): void {
    const m = this.#mustMarket(ticker);
    m.status = "closed";
    for (const o of [...this.#orders.values()]) if (o.ticker === ticker && o.status === "resting") this.#endOrder(o, "canceled");
    this.#emit("lifecycle", { msg: this.#lifecycleMsg(m, "deactivated") });
  }

  /** Determine and settle: $1 per winning contract on net positions; positions close. */
  settle(ticker: string, result: "yes" | "no"): void {
    const m = this.#mustMarket(ticker);
    if (m.status === "open") this.closeMarket(ticker);
    m.result = result;
    this.#emit("lifecycle", { msg: this.#lifecycleMsg(m, "determined") });
    for (const acc of this.#accounts.values()) {
      const p = acc.positions.get(ticker);
      if (!p) continue;
      const wins = result === "yes" ? Math.max(0, p.position) : Math.max(0, -p.position);
      const payout = wins * CONTRACT_PAYOUT;
      acc.balance += payout;
      p.realized += payout - p.exposure;
      acc.positions.delete(ticker);
    }
    m.status = "settled";
    this.#emit("lifecycle", { msg: this.#lifecycleMsg(m, "settled") });
  }

  #lifecycleMsg(m: FakeMarket, event_type: LifecycleEventType): LifecycleMsg {
    return {
      market_ticker: m.ticker,
      event_type,
      open_ts: Math.floor(m.openTime / 1000),
      close_ts: Math.floor(m.closeTime / 1000),
      result: m.result ?? "",
      settled_ts: event_type === "settled" ? Math.floor(this.#now() / 1000) : null,
    };
  }

  // ------------------------------------------------------------ orders

  /**
   * Place an order for an account: validate, deduplicate by client order id,
   * match against the book (price-time priority, fills at the resting price),
   * rest or end the remainder by its time in force. Throws ExchangeError on a
   * refusal. Emits fills, order updates, book deltas, trades and a ticker.
   */
  placeOrder(keyId: string, input: CreateOrderInput): CreateOrderResult {
    const acc = this.#mustAccount(keyId);
    const m = this.#markets.get(input.ticker);
    if (!m) throw new ExchangeError(404, "market_not_found", `market ${input.ticker} not found`);
    if (m.status !== "open") throw new ExchangeError(400, "market_closed", `market ${input.ticker} is ${m.status}`);
    if (!isValidPrice(input.price) || input.price % 100 !== 0) throw new ExchangeError(400, "invalid_price", `price must be a whole cent in (0, 1)`);
    if (!Number.isInteger(input.count) || input.count <= 0) throw new ExchangeError(400, "invalid_count", `count must be a positive whole number`);
    if (input.clientOrderId !== null) {
      for (const o of this.#orders.values()) {
        if (o.account === keyId && o.clientOrderId === input.clientOrderId) {
          throw new ExchangeError(409, "order_already_exists", `an order with client_order_id ${input.clientOrderId} already exists: ${o.id}`);
        }
      }
    }
    const pos = acc.positions.get(input.ticker)?.position ?? 0;
    if (input.reduceOnly && !((input.side === "ask" && pos > 0) || (input.side === "bid" && pos < 0))) {
      throw new ExchangeError(400, "reduce_only_would_increase", `reduce_only order would not reduce the position`);
    }
    if (!acc.house) {
      const cost = orderCost(input.side, input.price, input.count) + this.#maxFee(input.side, input.price, input.count);
      if (cost > acc.balance - this.#reserved(acc.keyId)) {
        throw new ExchangeError(400, "insufficient_balance", `insufficient balance for an order costing ${dollars(cost)}`);
      }
    }
    const now = this.#now();
    const o: RestingOrder = {
      id: `FK-${String(this.#nextOrder++).padStart(6, "0")}`,
      account: keyId,
      clientOrderId: input.clientOrderId ?? `auto-${this.#nextOrder}`,
      ticker: input.ticker,
      bookSide: input.side,
      price: input.price,
      initial: input.count,
      filled: 0,
      remaining: input.count,
      status: "resting",
      outcome: input.side === "bid" ? "yes" : "no",
      action: "buy",
      takerCost: 0,
      makerCost: 0,
      fillFees: [],
      takerFees: 0,
      makerFees: 0,
      createdTs: now,
      updatedTs: now,
      arrival: this.#arrival++,
    };
    const crosses = this.#crossing(o);
    if (input.postOnly && crosses.length > 0) throw new ExchangeError(400, "post_only_cross", "post_only order would take liquidity");
    if (input.timeInForce === "fill_or_kill") {
      const available = crosses.reduce((s, c) => s + c.remaining, 0);
      if (available < input.count) {
        // Nothing trades; the order is created and cancelled at once, as Kalshi reports it.
        this.#orders.set(o.id, o);
        this.#endOrder(o, "canceled");
        return this.#createResult(o);
      }
    }
    this.#orders.set(o.id, o);
    this.#emitOrder(o);
    for (const maker of crosses) {
      if (o.remaining === 0) break;
      this.#trade(o, maker);
    }
    if (o.remaining > 0) {
      if (input.timeInForce === "good_till_canceled") this.#bookChange(o, o.remaining);
      else this.#endOrder(o, "canceled");
    } else {
      this.#endOrder(o, "executed");
    }
    return this.#createResult(o);
  }

  #createResult(o: RestingOrder): CreateOrderResult {
    const cost = o.takerCost + o.makerCost;
    const fees = o.takerFees + o.makerFees;
    return {
      order_id: o.id,
      client_order_id: o.clientOrderId,
      fill_count: fp(o.filled),
      remaining_count: fp(o.remaining),
      average_fill_price: o.filled > 0 ? dollars(Math.round(cost / o.filled)) : undefined,
      average_fee_paid: o.filled > 0 ? dollars(Math.round(fees / o.filled)) : undefined,
      ts_ms: o.updatedTs,
    };
  }

  /** Cancel the rest of a resting order; returns the count cancelled. */
  cancelOrder(keyId: string, orderId: string): { order: RestingOrder; reducedBy: number } {
    const o = this.#orders.get(orderId);
    if (!o || o.account !== keyId) throw new ExchangeError(404, "order_not_found", `order ${orderId} not found`);
    if (o.status !== "resting") throw new ExchangeError(400, "order_not_resting", `order ${orderId} is ${o.status}`);
    const reducedBy = o.remaining;
    this.#endOrder(o, "canceled");
    return { order: o, reducedBy };
  }

  /** Cancel every resting order of the account (optionally one market's). */
  cancelAll(keyId: string, ticker?: string): string[] {
    const ids: string[] = [];
    for (const o of [...this.#orders.values()]) {
      if (o.account === keyId && o.status === "resting" && (ticker === undefined || o.ticker === ticker)) {
        this.#endOrder(o, "canceled");
        ids.push(o.id);
      }
    }
    return ids;
  }

  /** Reduce the rest of a resting order by `reduceBy` or to `reduceTo`. */
  decreaseOrder(keyId: string, orderId: string, by: { reduceBy?: number; reduceTo?: number }): RestingOrder {
    const o = this.#orders.get(orderId);
    if (!o || o.account !== keyId) throw new ExchangeError(404, "order_not_found", `order ${orderId} not found`);
    if (o.status !== "resting") throw new ExchangeError(400, "order_not_resting", `order ${orderId} is ${o.status}`);
    const target = by.reduceTo ?? o.remaining - (by.reduceBy ?? 0);
    if (!Number.isInteger(target) || target < 0 || target > o.remaining) throw new ExchangeError(400, "invalid_count", "bad reduce_by/reduce_to");
    this.#bookChange(o, target - o.remaining);
    o.remaining = target;
    o.updatedTs = this.#now();
    if (o.remaining === 0) this.#endOrder(o, "canceled");
    else this.#emitOrder(o);
    return o;
  }

  /** Amend price and total count (filled + new remaining); a crossing price trades at once. */
  amendOrder(keyId: string, orderId: string, priceUnits: Units, totalCount: number): RestingOrder {
    const o = this.#orders.get(orderId);
    if (!o || o.account !== keyId) throw new ExchangeError(404, "order_not_found", `order ${orderId} not found`);
    if (o.status !== "resting") throw new ExchangeError(400, "order_not_resting", `order ${orderId} is ${o.status}`);
    if (!isValidPrice(priceUnits) || priceUnits % 100 !== 0) throw new ExchangeError(400, "invalid_price", "price must be a whole cent in (0, 1)");
    const remaining = totalCount - o.filled;
    if (!Number.isInteger(remaining) || remaining <= 0) throw new ExchangeError(400, "invalid_count", "count must exceed what has filled");
    this.#bookChange(o, -o.remaining);
    o.price = priceUnits;
    o.remaining = remaining;
    o.initial = totalCount;
    o.arrival = this.#arrival++; // an amend loses time priority
    o.updatedTs = this.#now();
    for (const maker of this.#crossing(o)) {
      if (o.remaining === 0) break;
      this.#trade(o, maker);
    }
    if (o.remaining > 0) {
      this.#bookChange(o, o.remaining);
      this.#emitOrder(o);
    } else this.#endOrder(o, "executed");
    return o;
  }

  order(keyId: string, orderId: string): RestingOrder | undefined {
    const o = this.#orders.get(orderId);
    return o && o.account === keyId ? o : undefined;
  }

  orders(keyId: string, filter: { ticker?: string; status?: OrderStatus } = {}): WireOrder[] {
    const out: WireOrder[] = [];
    for (const o of this.#orders.values()) {
      if (o.account !== keyId) continue;
      if (filter.ticker !== undefined && o.ticker !== filter.ticker) continue;
      if (filter.status !== undefined && o.status !== filter.status) continue;
      out.push(this.wireOrder(o));
    }
    return out;
  }

  fills(keyId: string, filter: { ticker?: string; orderId?: string } = {}): WireFill[] {
    return this.#mustAccount(keyId).fills.filter(
      (f) => (filter.ticker === undefined || f.ticker === filter.ticker) && (filter.orderId === undefined || f.order_id === filter.orderId),
    );
  }

  positions(keyId: string): WirePosition[] {
    const acc = this.#mustAccount(keyId);
    const out: WirePosition[] = [];
    for (const [ticker, p] of acc.positions) {
      out.push({
        ticker,
        exchange_index: 0,
        total_traded_dollars: dollars(p.traded),
        position_fp: fp(p.position),
        market_exposure_dollars: dollars(p.exposure),
        realized_pnl_dollars: dollars(p.realized),
        fees_paid_dollars: dollars(p.fees),
        last_updated_ts: new Date(p.updatedTs).toISOString(),
      });
    }
    return out;
  }

  /** Cash, units, resting orders' collateral included. */
  balanceUnits(keyId: string): Units {
    return this.#mustAccount(keyId).balance;
  }

  /**
   * What GET /portfolio/balance reports as `balance_dollars`: cash available
   * for trading, i.e. less what resting orders hold as collateral (Kalshi's
   * docs: "the amount available for trading").
   */
  availableUnits(keyId: string): Units {
    return this.#mustAccount(keyId).balance - this.#reserved(keyId);
  }

  portfolioValueUnits(keyId: string): Units {
    let v = 0;
    for (const p of this.#mustAccount(keyId).positions.values()) v += p.exposure;
    return v;
  }

  // ------------------------------------------------------------ book

  /** The current book of a market, as a snapshot message, with its current seq (the next message is seq + 1). */
  bookSnapshot(ticker: string): { seq: number; msg: BookSnapshotMsg } {
    this.#mustMarket(ticker);
    const yes = new Map<Units, number>();
    const no = new Map<Units, number>();
    for (const o of this.#orders.values()) {
      if (o.ticker !== ticker || o.status !== "resting" || o.remaining === 0) continue;
      if (o.bookSide === "bid") yes.set(o.price, (yes.get(o.price) ?? 0) + o.remaining);
      else no.set(CONTRACT_PAYOUT - o.price, (no.get(CONTRACT_PAYOUT - o.price) ?? 0) + o.remaining);
    }
    const levels = (m: Map<Units, number>): Array<[string, string]> =>
      [...m.entries()].sort((a, b) => b[0] - a[0]).map(([p, q]) => [dollars(p), fp(q)]);
    return { seq: this.#bookSeq.get(ticker) ?? 0, msg: { market_ticker: ticker, yes_dollars_fp: levels(yes), no_dollars_fp: levels(no) } };
  }

  /** Emit a snapshot as the next book message (seq advances), e.g. for a resubscription. */
  emitBookSnapshot(ticker: string): { seq: number; msg: BookSnapshotMsg } {
    const snap = this.bookSnapshot(ticker);
    const seq = snap.seq + 1;
    this.#bookSeq.set(ticker, seq);
    const event = { seq, msg: snap.msg };
    this.#emit("book_snapshot", event);
    return event;
  }

  /** Best YES bid and ask, units. */
  bestPrices(ticker: string): { bid: Units | null; ask: Units | null } {
    let bid: Units | null = null;
    let ask: Units | null = null;
    for (const o of this.#orders.values()) {
      if (o.ticker !== ticker || o.status !== "resting" || o.remaining === 0) continue;
      if (o.bookSide === "bid") bid = bid === null ? o.price : Math.max(bid, o.price);
      else ask = ask === null ? o.price : Math.min(ask, o.price);
    }
    return { bid, ask };
  }

  // ------------------------------------------------------------ http

  /** Serve REST (rest.ts) on 127.0.0.1; a WebSocket server attaches to the returned `server`. */
  async start(port = 0): Promise<StartedExchange> {
    if (this.#started) return this.#started;
    const sockets = new Set<Socket>();
    const server = createServer(createRestHandler(this));
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${bound}`;
    this.#started = {
      origin,
      restBase: `${origin}/trade-api/v2`,
      wsUrl: `ws://127.0.0.1:${bound}/trade-api/ws/v2`,
      server,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        this.#started = null;
      },
    };
    return this.#started;
  }

  // ------------------------------------------------------------ internals

  #mustAccount(keyId: string): FakeAccount {
    const a = this.#accounts.get(keyId);
    if (!a) throw new ExchangeError(401, "unauthorized", "unknown key");
    return a;
  }
  #mustMarket(ticker: string): FakeMarket {
    const m = this.#markets.get(ticker);
    if (!m) throw new ExchangeError(404, "market_not_found", `market ${ticker} not found`);
    return m;
  }

  /** The most an order's fees can come to: a bid buys YES at up to `price`, an ask buys NO at up to 1 − price. */
  #maxFee(side: BookSide, price: Units, count: number): Units {
    return maxOrderFee("buy", side === "bid" ? price : CONTRACT_PAYOUT - price, count, this.#fees);
  }

  #reserved(keyId: string): Units {
    let r = 0;
    for (const o of this.#orders.values()) {
      if (o.account === keyId && o.status === "resting") r += orderCost(o.bookSide, o.price, o.remaining);
    }
    return r;
  }

  /** Resting orders of other accounts this order would trade against, best price first, then oldest. */
  #crossing(o: RestingOrder): RestingOrder[] {
    const out: RestingOrder[] = [];
    for (const r of this.#orders.values()) {
      if (r === o || r.ticker !== o.ticker || r.status !== "resting" || r.remaining === 0 || r.bookSide === o.bookSide) continue;
      if (r.account === o.account) continue; // self-trade prevention: never trade with yourself
      if (o.bookSide === "bid" ? r.price <= o.price : r.price >= o.price) out.push(r);
    }
    out.sort((a, b) => (o.bookSide === "bid" ? a.price - b.price : b.price - a.price) || a.arrival - b.arrival);
    return out;
  }

  #trade(taker: RestingOrder, maker: RestingOrder): void {
    const count = Math.min(taker.remaining, maker.remaining);
    const price = maker.price;
    const now = this.#now();
    const tradeId = `FT-${String(this.#nextTrade++).padStart(6, "0")}`;
    this.#bookChange(maker, -count);
    for (const [o, liquidity] of [
      [taker, "taker"],
      [maker, "maker"],
    ] as const) {
      const sidePrice = o.bookSide === "bid" ? price : CONTRACT_PAYOUT - price;
      const fee = fillFee(count, sidePrice, liquidity, this.#fees);
      o.remaining -= count;
      o.filled += count;
      o.updatedTs = now;
      o.fillFees.push(fee);
      if (liquidity === "taker") {
        o.takerCost += count * sidePrice;
        o.takerFees += fee;
      } else {
        o.makerCost += count * sidePrice;
        o.makerFees += fee;
      }
      const acc = this.#accounts.get(o.account)!;
      const post = this.#applyFill(acc, o, count, price, fee, now);
      // Kalshi: a fill's `trade_id` is the legacy name of its `fill_id` (one per side of a trade).
      const fillId = `FF-${String(this.#nextFill++).padStart(6, "0")}`;
      const f: WireFill = {
        fill_id: fillId,
        trade_id: fillId,
        order_id: o.id,
        client_order_id: o.clientOrderId,
        ticker: o.ticker,
        market_ticker: o.ticker,
        side: o.outcome,
        action: o.action,
        outcome_side: o.outcome,
        book_side: o.bookSide,
        count_fp: fp(count),
        yes_price_dollars: dollars(price),
        no_price_dollars: dollars(CONTRACT_PAYOUT - price),
        is_taker: liquidity === "taker",
        fee_cost: dollars(fee),
        created_time: new Date(now).toISOString(),
        ts: Math.floor(now / 1000),
        post_position_fp: fp(post),
      };
      if (!acc.house) {
        acc.fills.push(f);
        this.#emit("fill", { account: acc.keyId, msg: f });
      }
      if (o === maker) {
        if (o.remaining === 0) this.#endOrder(o, "executed");
        else this.#emitOrder(o);
      }
    }
    const m = this.#markets.get(taker.ticker)!;
    m.lastPrice = price;
    m.volume += count;
    this.#emit("trade", {
      msg: {
        trade_id: tradeId,
        market_ticker: taker.ticker,
        yes_price_dollars: dollars(price),
        no_price_dollars: dollars(CONTRACT_PAYOUT - price),
        count_fp: fp(count),
        taker_side: taker.bookSide === "bid" ? "yes" : "no",
        ts: Math.floor(now / 1000),
      },
    });
  }

  /** Cash and position of one side of a trade (netting YES against NO pays $1 a pair). Returns the new position. */
  #applyFill(acc: FakeAccount, o: RestingOrder, count: number, yesPrice: Units, fee: Units, now: number): number {
    const p = this.#position(acc, o.ticker);
    const sidePrice = o.bookSide === "bid" ? yesPrice : CONTRACT_PAYOUT - yesPrice;
    const before = p.position;
    const delta = o.bookSide === "bid" ? count : -count;
    const netted = Math.sign(before) === -Math.sign(delta) ? Math.min(Math.abs(before), count) : 0;
    // Cost basis: netted contracts leave at their average cost; the rest add this fill's cost.
    const avg = before !== 0 ? p.exposure / Math.abs(before) : 0;
    const released = Math.round(avg * netted);
    const proceeds = netted * CONTRACT_PAYOUT - netted * sidePrice;
    acc.balance -= count * sidePrice + fee;
    acc.feesPaid += fee;
    acc.balance += netted * CONTRACT_PAYOUT;
    p.realized += proceeds - released; // fees are reported apart (fees_paid_dollars)
    p.exposure += (count - netted) * sidePrice - released;
    p.position = before + delta;
    p.fees += fee;
    p.traded += count * sidePrice;
    p.updatedTs = now;
    if (p.position === 0) {
      p.exposure = 0;
      acc.positions.delete(o.ticker);
    }
    return p.position;
  }

  #position(acc: FakeAccount, ticker: string): PositionState {
    let p = acc.positions.get(ticker);
    if (!p) {
      p = { position: 0, exposure: 0, realized: 0, fees: 0, traded: 0, updatedTs: this.#now() };
      acc.positions.set(ticker, p);
    }
    return p;
  }

  /** End an order: take its rest off the book, charge the cent rounding of its fees, emit its last update. */
  #endOrder(o: RestingOrder, status: "canceled" | "executed"): void {
    if (o.status === "resting" && o.remaining > 0) this.#bookChange(o, -o.remaining);
    this.#booked.delete(o.id);
    o.remaining = 0;
    o.status = status;
    o.updatedTs = this.#now();
    const charged = o.takerFees + o.makerFees;
    const extra = orderFee(o.fillFees) - charged;
    if (extra > 0) {
      const acc = this.#accounts.get(o.account)!;
      acc.balance -= extra;
      acc.feesPaid += extra;
      const p = acc.positions.get(o.ticker);
      if (p) p.fees += extra;
      if (o.takerFees > 0 || o.makerFees === 0) o.takerFees += extra;
      else o.makerFees += extra;
    }
    this.#emitOrder(o);
  }

  /**
   * A change of `delta` contracts resting at the order's price. Only quantity
   * that rested is in the book: a taker's own size never was, so taking it
   * away changes nothing there.
   */
  #bookChange(o: RestingOrder, delta: number): void {
    if (delta === 0) return;
    if (delta > 0) this.#booked.add(o.id);
    else if (!this.#booked.has(o.id)) return;
    const side = o.bookSide === "bid" ? "yes" : "no";
    const price = o.bookSide === "bid" ? o.price : CONTRACT_PAYOUT - o.price;
    const seq = (this.#bookSeq.get(o.ticker) ?? 0) + 1;
    this.#bookSeq.set(o.ticker, seq);
    this.#emit("book_delta", {
      seq,
      msg: { market_ticker: o.ticker, price_dollars: dollars(price), delta_fp: fp(delta), side, ts: new Date(this.#now()).toISOString() },
    });
    this.#emitTicker(o.ticker);
  }

  #emitTicker(ticker: string): void {
    const m = this.#markets.get(ticker)!;
    const { bid, ask } = this.bestPrices(ticker);
    this.#emit("ticker", {
      msg: {
        market_ticker: ticker,
        price_dollars: m.lastPrice === null ? null : dollars(m.lastPrice),
        yes_bid_dollars: bid === null ? null : dollars(bid),
        yes_ask_dollars: ask === null ? null : dollars(ask),
        volume_fp: fp(m.volume),
        open_interest_fp: fp(0),
        ts: Math.floor(this.#now() / 1000),
      },
    });
  }

  #emitOrder(o: RestingOrder): void {
    if (o.account === HOUSE) return;
    this.#emit("order_update", { account: o.account, msg: this.wireOrder(o) });
  }

  wireOrder(o: RestingOrder): WireOrder {
    return {
      order_id: o.id,
      user_id: o.account,
      client_order_id: o.clientOrderId,
      ticker: o.ticker,
      side: o.outcome,
      action: o.action,
      outcome_side: o.outcome,
      book_side: o.bookSide,
      type: "limit",
      status: o.status,
      yes_price_dollars: dollars(o.price),
      no_price_dollars: dollars(CONTRACT_PAYOUT - o.price),
      fill_count_fp: fp(o.filled),
      remaining_count_fp: fp(o.remaining),
      initial_count_fp: fp(o.initial),
      taker_fill_cost_dollars: dollars(o.takerCost),
      maker_fill_cost_dollars: dollars(o.makerCost),
      taker_fees_dollars: dollars(o.takerFees),
      maker_fees_dollars: dollars(o.makerFees),
      created_time: new Date(o.createdTs).toISOString(),
      last_update_time: new Date(o.updatedTs).toISOString(),
    };
  }
}

export type { RestingOrder as FakeOrder };

/** What an order may cost at worst, before fees: a bid pays the YES price, an ask the NO price. */
function orderCost(side: BookSide, price: Units, count: number): Units {
  return count * (side === "bid" ? price : CONTRACT_PAYOUT - price);
}

/** Units to Kalshi's dollar string, 4 decimals. */
export function dollars(units: Units): string {
  const sign = units < 0 ? "-" : "";
  const abs = Math.abs(Math.round(units));
  return `${sign}${Math.floor(abs / 10_000)}.${String(abs % 10_000).padStart(4, "0")}`;
}

/** Whole contracts to Kalshi's fixed-point count string, 2 decimals. */
export function fp(count: number): string {
  return count.toFixed(2);
}
