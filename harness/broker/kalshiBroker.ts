/**
 * The Kalshi broker: the engine's execution client for real orders (DESIGN.md
 * "Broker = execution client"). It turns the engine's orders into V2 limit
 * orders, and what Kalshi says about them (the order response, the private
 * `fill` and `user_orders` WebSocket channels the live source feeds in, and a
 * REST cross-check) into execution reports. It holds no portfolio.
 *
 * Safety rules, each tested in test/live/kalshiBroker.test.ts:
 * - The engine's client order id goes to Kalshi as `client_order_id`, which
 *   Kalshi deduplicates: a resubmission after a crash is answered "already
 *   exists", and the broker adopts the order it finds instead of placing a
 *   second one.
 * - A write whose outcome is unknown (a timeout, a dropped connection, a 5xx
 *   after the body left, an answer it cannot read) sends no report: the order stays pending in the
 *   engine (its buying power stays reserved) and its market is BLOCKED, every
 *   further order for it refused, until `resolveUnknown()` (reconciliation)
 *   has found out from the exchange whether it exists.
 * - Fills are deduplicated by fill id, whichever path brought them (WebSocket
 *   or REST); an order's end is reported only once its fills add up to what
 *   the exchange says it filled.
 * - `halt` (kill switch, daily loss, shutdown) refuses every new order;
 *   `killAll` also cancels every resting order on the account.
 *
 * Side mapping (one YES book): buy YES = bid at L; sell YES = ask at L; buy NO
 * at L = ask at 1 − L; sell NO at L = bid at 1 − L. Sells are `reduce_only`,
 * so a sell can never open the opposite position.
 */
import type { MarketEvent } from "../events/types.ts";
import { CONTRACT_PAYOUT, dollarsToUnits, type Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import type { Broker, ClientOrder, OrderRequest } from "./broker.ts";
import type { ExecutionReport, ReportSink } from "./executionReport.ts";
import { orderFee } from "./fees.ts";
import type { ExchangeFill, ExchangeOrder, KalshiClient, NewOrder } from "../live/kalshi/client.ts";
import { KalshiError, KalshiRejectedError } from "../live/kalshi/errors.ts";
import type { FillMsg, UserOrderMsg } from "../live/kalshiMessages.ts";

/** What the broker needs of the client (tests may pass a wrapper). */
export type KalshiTradingClient = Pick<KalshiClient, "createOrder" | "cancelOrder" | "cancelAll" | "decreaseOrder" | "amendOrder" | "orders" | "order" | "fills">;

export type TimeInForce = NewOrder["timeInForce"];

export interface KalshiBrokerOptions {
  client: KalshiTradingClient;
  /** Wall clock for report times. */
  now?: () => number;
  /** Default good-till-canceled: the order rests until filled or cancelled (the engine cancels). */
  timeInForce?: TimeInForce;
  /** One line per noteworthy thing (never a credential: the broker holds none). */
  log?: (line: string) => void;
}

export const REASON_MARKET_BLOCKED = "market_blocked_unknown_outcome";
export const REASON_NOT_ON_EXCHANGE = "unknown_outcome_not_on_exchange";
export const REASON_HALTED = "trading_halted";

type State = "submitting" | "unknown" | "working" | "ended";

interface Tracked {
  clientOrderId: string;
  order: OrderRequest;
  wire: NewOrder;
  venueOrderId: string | null;
  state: State;
  accepted: boolean;
  filled: number;
  fillIds: Set<string>;
  fillFees: Units[];
  cancelRequested: boolean;
  /** The strategy reduced what rests: an end short of the count is that reduction, not the exchange's doing. */
  decreased: boolean;
  /** The exchange's last word on the order's fees (taker + maker), when known. */
  exchangeFeesUnits: Units;
}

/** A fill as the broker applies it, from either path. */
interface FillIn {
  fillId: string;
  orderId: string;
  count: number;
  yesPriceUnits: Units;
  isTaker: boolean;
  feeUnits: Units;
}

/** What the broker knows about one of its orders (for reconciliation and shutdown). */
export interface BrokerOrderState {
  clientOrderId: string;
  venueOrderId: string | null;
  ticker: string;
  state: State;
  contracts: number;
  filled: number;
}

export class KalshiBroker implements Broker {
  readonly #client: KalshiTradingClient;
  readonly #now: () => number;
  readonly #tif: TimeInForce;
  readonly #log: (line: string) => void;
  #sink: ReportSink | null = null;
  readonly #tracked = new Map<string, Tracked>();
  readonly #byVenue = new Map<string, Tracked>();
  /** Fills that arrived before their order's id was known, by venue order id. */
  readonly #early = new Map<string, FillIn[]>();
  /** Markets blocked by a write with an unknown outcome → the orders in doubt. */
  readonly #blocked = new Map<string, Set<string>>();
  #halted: string | null = null;

  constructor(opts: KalshiBrokerOptions) {
    this.#client = opts.client;
    this.#now = opts.now ?? Date.now;
    this.#tif = opts.timeInForce ?? "good_till_canceled";
    this.#log = opts.log ?? (() => {});
  }

  // ------------------------------------------------------------ Broker

  onReport(sink: ReportSink): void {
    this.#sink = sink;
  }

  onMarketEvent(_event: MarketEvent, _view: MarketView): void {
    // The exchange fills orders; market data changes nothing here.
  }

  async submit(order: ClientOrder, _view?: MarketView): Promise<void> {
    const { clientOrderId } = order;
    if (this.#halted !== null) return this.#emit({ kind: "rejected", clientOrderId, ts: this.#now(), venueOrderId: null, reason: `${REASON_HALTED}: ${this.#halted}` });
    if (this.#blocked.has(order.ticker)) {
      return this.#emit({ kind: "rejected", clientOrderId, ts: this.#now(), venueOrderId: null, reason: REASON_MARKET_BLOCKED });
    }
    const wire = toWire(order, this.#tif);
    const t: Tracked = {
      clientOrderId,
      order: { ticker: order.ticker, side: order.side, action: order.action, limitUnits: order.limitUnits, contracts: order.contracts, reason: order.reason },
      wire,
      venueOrderId: null,
      state: "submitting",
      accepted: false,
      filled: 0,
      fillIds: new Set(),
      fillFees: [],
      cancelRequested: false,
      decreased: false,
      exchangeFeesUnits: 0,
    };
    this.#tracked.set(clientOrderId, t);
    let ack;
    try {
      ack = await this.#client.createOrder(wire);
    } catch (e) {
      if (e instanceof KalshiRejectedError && isDuplicateOrder(e)) {
        // A resubmission (after a crash): the order exists; adopt it, never place a second.
        this.#log(`order ${clientOrderId} already exists on the exchange: adopting it`);
        if (await this.#adopt(t)) return;
        return this.#unknown(t, "order_already_exists but not listed");
      }
      if (e instanceof KalshiError && e.outcomeUnknown) {
        // The private channel may have named the order while the answer was lost: then it is not in doubt.
        if (t.venueOrderId !== null) return void (await this.#sync(t).catch((x: unknown) => this.#log(`order ${clientOrderId}: ${describe(x)}`)));
        return this.#unknown(t, `${e.kind} ${e.code}`);
      }
      if (!(e instanceof KalshiError)) {
        // Not a refusal: e.g. a 2xx whose body we could not read (a renamed field). The order may be live: in doubt.
        return this.#unknown(t, `unreadable answer: ${describe(e)}`);
      }
      this.#tracked.delete(clientOrderId);
      return this.#emit({ kind: "rejected", clientOrderId, ts: this.#now(), venueOrderId: null, reason: e.code });
    }
    this.#accept(t, ack.orderId);
    // Whatever traded on arrival, or an order that is already over: learn its fills now (REST), not later.
    // If that read fails, the private channel or the next cross-check (reconciliation) brings them.
    if (ack.filled > 0 || ack.remaining === 0) await this.#sync(t).catch((e: unknown) => this.#log(`order ${clientOrderId}: fills not read yet (${describe(e)})`));
  }

  async cancel(clientOrderId: string): Promise<void> {
    const t = this.#tracked.get(clientOrderId);
    if (!t || t.state !== "working" || t.venueOrderId === null) return;
    t.cancelRequested = true;
    try {
      await this.#client.cancelOrder(t.venueOrderId);
    } catch (e) {
      // Rejected: not resting any more (filled, or cancelled by the exchange); the sync below finds out which.
      // Anything else (rate limited, no answer, 5xx): the order may still rest; it stays working, the engine may ask again.
      if (!(e instanceof KalshiRejectedError)) {
        t.cancelRequested = false;
        this.#log(`cancel of ${clientOrderId} failed: ${describe(e)}`);
        return;
      }
    }
    await this.#sync(t).catch((e: unknown) => this.#log(`order ${clientOrderId}: state not read after cancel (${describe(e)})`));
  }

  /** Reduce the contracts still resting (the strategy asked for less). */
  async decrease(clientOrderId: string, reduceTo: number): Promise<void> {
    const t = this.#working(clientOrderId);
    t.decreased = true;
    await this.#client.decreaseOrder(t.venueOrderId!, { reduceTo });
    if (reduceTo === 0) await this.#sync(t);
  }

  /** Move a resting order's limit (units for the order's side); the count stays. */
  async amend(clientOrderId: string, limitUnits: Units): Promise<void> {
    const t = this.#working(clientOrderId);
    const yes = t.order.side === "yes" ? limitUnits : CONTRACT_PAYOUT - limitUnits;
    await this.#client.amendOrder(t.venueOrderId!, { ticker: t.order.ticker, bookSide: t.wire.bookSide, yesPriceUnits: yes, totalCount: t.order.contracts });
    t.order = { ...t.order, limitUnits };
    t.wire = { ...t.wire, yesPriceUnits: yes };
    await this.#sync(t);
  }

  // ------------------------------------------------------------ private channels (the live source's PrivateListener)

  fill(msg: FillMsg, _receivedAt?: number): void {
    this.#fillIn({
      fillId: msg.trade_id,
      orderId: msg.order_id,
      count: Number(msg.count_fp),
      yesPriceUnits: dollarsToUnits(msg.yes_price_dollars),
      isTaker: msg.is_taker,
      feeUnits: msg.fee_cost === undefined ? 0 : dollarsToUnits(msg.fee_cost),
    });
  }

  order(msg: UserOrderMsg, _receivedAt?: number): void {
    const t = this.#byVenue.get(msg.order_id) ?? (msg.client_order_id ? this.#tracked.get(msg.client_order_id) : undefined);
    if (!t || t.state === "ended") return;
    if (t.venueOrderId === null) this.#accept(t, msg.order_id);
    const fees = (msg.taker_fees_dollars ? dollarsToUnits(msg.taker_fees_dollars) : 0) + (msg.maker_fees_dollars ? dollarsToUnits(msg.maker_fees_dollars) : 0);
    t.exchangeFeesUnits = Math.max(t.exchangeFeesUnits, fees);
    if (msg.status === "canceled" || msg.status === "executed") {
      const filled = msg.fill_count_fp === undefined ? null : Number(msg.fill_count_fp);
      if (filled !== null && filled <= t.filled) this.#end(t, msg.status);
      else void this.#sync(t).catch((e: unknown) => this.#log(`sync of ${t.clientOrderId} failed: ${describe(e)}`));
    }
  }

  // ------------------------------------------------------------ reconciliation hooks

  /** Orders this broker has not seen end, for reconciliation and shutdown. */
  openOrders(): BrokerOrderState[] {
    const out: BrokerOrderState[] = [];
    for (const t of this.#tracked.values()) {
      if (t.state === "ended") continue;
      out.push({ clientOrderId: t.clientOrderId, venueOrderId: t.venueOrderId, ticker: t.order.ticker, state: t.state, contracts: t.order.contracts, filled: t.filled });
    }
    return out;
  }

  /** Markets refusing orders until an unknown outcome is settled. */
  blockedMarkets(): string[] {
    return [...this.#blocked.keys()];
  }

  isKnownOrder(venueOrderId: string, clientOrderId: string): boolean {
    return this.#byVenue.has(venueOrderId) || this.#tracked.has(clientOrderId);
  }

  /**
   * Settle every write whose outcome is unknown by asking the exchange for
   * its client order id: found → adopted (accepted, fills, end); not found →
   * rejected. A market is unblocked when none of its orders is in doubt.
   * Returns the orders settled each way.
   */
  async resolveUnknown(): Promise<{ adopted: string[]; rejected: string[] }> {
    const adopted: string[] = [];
    const rejected: string[] = [];
    for (const [ticker, ids] of [...this.#blocked]) {
      const listed = await this.#client.orders({ ticker });
      for (const id of [...ids]) {
        const t = this.#tracked.get(id)!;
        if (t.state !== "unknown") continue; // the private channel settled it meanwhile
        const found = listed.find((o) => o.clientOrderId === id);
        if (found) {
          this.#accept(t, found.orderId);
          await this.#sync(t, found);
          adopted.push(id);
        } else {
          this.#tracked.delete(id);
          this.#emit({ kind: "rejected", clientOrderId: id, ts: this.#now(), venueOrderId: null, reason: REASON_NOT_ON_EXCHANGE });
          rejected.push(id);
        }
        ids.delete(id);
      }
      if (ids.size === 0) this.#blocked.delete(ticker);
    }
    return { adopted, rejected };
  }

  /** The REST cross-check of every working order: fills the WebSocket missed, ends it did not report. */
  async syncAll(): Promise<void> {
    for (const t of [...this.#tracked.values()]) {
      if (t.state !== "working") continue;
      try {
        await this.#sync(t);
      } catch (e) {
        // The exchange does not know the order: reconciliation's `order_missing_on_exchange` decides.
        if (!(e instanceof KalshiRejectedError)) throw e;
        this.#log(`order ${t.clientOrderId} (${t.venueOrderId ?? "?"}): ${e.code}`);
      }
    }
  }

  /** Reconciliation found the exchange no longer has this order: end it locally (cancelled, with the reason). */
  forgetOrder(clientOrderId: string, reason: string): void {
    const t = this.#tracked.get(clientOrderId);
    if (!t || t.state === "ended") return;
    if (t.state !== "working") this.#accept(t, t.venueOrderId ?? clientOrderId);
    this.#finish(t, "cancelled", reason);
  }

  // ------------------------------------------------------------ halting

  get haltedReason(): string | null {
    return this.#halted;
  }

  /** Refuse every new order from now on. */
  halt(reason: string): void {
    if (this.#halted === null) {
      this.#halted = reason;
      this.#log(`trading halted: ${reason}`);
    }
  }

  /** Kill switch: halt, cancel every resting order on the account, and report what that ended. */
  async killAll(reason: string): Promise<void> {
    this.halt(reason);
    // Marked first: the exchange's cancel messages may come back before its HTTP answer does.
    for (const t of this.#tracked.values()) if (t.state === "working") t.cancelRequested = true;
    try {
      await this.#client.cancelAll();
    } catch (e) {
      // One by one, then: this run's orders at least.
      this.#log(`cancel-all failed (${describe(e)}); cancelling this run's orders one by one`);
      for (const t of [...this.#tracked.values()]) {
        if (t.state !== "working" || t.venueOrderId === null) continue;
        await this.#client.cancelOrder(t.venueOrderId).catch((x: unknown) => this.#log(`cancel of ${t.clientOrderId} failed: ${describe(x)}`));
      }
    }
    // Reading back what the cancels ended must not undo the kill: the caller still stops (a later reconciliation reads it).
    await this.syncAll().catch((e: unknown) => this.#log(`after the kill switch, orders not read back yet (${describe(e)})`));
  }

  /**
   * Graceful shutdown: halt; cancel this run's resting orders, or keep them (they stay on the exchange).
   * An order whose cancel failed (no answer, rate limited) counts as kept: it may still rest.
   */
  async shutdown(opts: { cancelResting: boolean }): Promise<{ cancelled: number; kept: number }> {
    this.halt("shutdown");
    let cancelled = 0;
    let kept = 0;
    for (const t of [...this.#tracked.values()]) {
      if (t.state !== "working") continue;
      if (opts.cancelResting) {
        await this.cancel(t.clientOrderId);
        // cancel() leaves cancelRequested set only when the exchange took the cancel (or the order had ended already).
        if (t.cancelRequested) cancelled++;
        else kept++;
      } else kept++;
    }
    return { cancelled, kept };
  }

  // ------------------------------------------------------------ internals

  #working(clientOrderId: string): Tracked {
    const t = this.#tracked.get(clientOrderId);
    if (!t || t.state !== "working" || t.venueOrderId === null) throw new Error(`order ${clientOrderId} is not working`);
    return t;
  }

  #emit(r: ExecutionReport): void {
    if (!this.#sink) throw new Error("KalshiBroker: onReport was never called");
    this.#sink(r);
  }

  #unknown(t: Tracked, why: string): void {
    t.state = "unknown";
    const set = this.#blocked.get(t.order.ticker) ?? new Set<string>();
    set.add(t.clientOrderId);
    this.#blocked.set(t.order.ticker, set);
    this.#log(`order ${t.clientOrderId}: outcome unknown (${why}); market ${t.order.ticker} blocked until reconciliation`);
  }

  /** An order in doubt is known now (the exchange named it): its market is blocked no longer on its account. */
  #settled(t: Tracked): void {
    const ids = this.#blocked.get(t.order.ticker);
    if (!ids) return;
    ids.delete(t.clientOrderId);
    if (ids.size === 0) this.#blocked.delete(t.order.ticker);
  }

  async #adopt(t: Tracked): Promise<boolean> {
    const listed = await this.#client.orders({ ticker: t.order.ticker });
    const found = listed.find((o) => o.clientOrderId === t.clientOrderId);
    if (!found) return false;
    this.#accept(t, found.orderId);
    await this.#sync(t, found);
    return true;
  }

  #accept(t: Tracked, venueOrderId: string): void {
    t.venueOrderId = venueOrderId;
    this.#byVenue.set(venueOrderId, t);
    if (t.state === "unknown") this.#settled(t);
    if (t.state === "submitting" || t.state === "unknown") t.state = "working";
    if (!t.accepted) {
      t.accepted = true;
      this.#emit({ kind: "accepted", clientOrderId: t.clientOrderId, ts: this.#now(), venueOrderId });
    }
    const early = this.#early.get(venueOrderId);
    if (early) {
      this.#early.delete(venueOrderId);
      for (const f of early) this.#fillIn(f);
    }
  }

  #fillIn(f: FillIn): void {
    const t = this.#byVenue.get(f.orderId);
    if (!t) {
      const list = this.#early.get(f.orderId) ?? [];
      if (!list.some((x) => x.fillId === f.fillId)) list.push(f);
      this.#early.set(f.orderId, list);
      return;
    }
    if (t.state === "ended" || t.fillIds.has(f.fillId)) return;
    t.fillIds.add(f.fillId);
    t.filled += f.count;
    t.fillFees.push(f.feeUnits);
    const leaves = Math.max(0, t.order.contracts - t.filled);
    const fields = {
      clientOrderId: t.clientOrderId,
      ts: this.#now(),
      venueOrderId: t.venueOrderId!,
      fillId: f.fillId,
      priceUnits: t.order.side === "yes" ? f.yesPriceUnits : CONTRACT_PAYOUT - f.yesPriceUnits,
      contracts: f.count,
      feeUnits: f.feeUnits,
      liquidity: f.isTaker ? ("taker" as const) : ("maker" as const),
      leaves,
    };
    if (leaves === 0) {
      t.state = "ended";
      this.#emit({ ...fields, kind: "filled", orderFeeUnits: this.#orderFee(t) });
    } else this.#emit({ ...fields, kind: "partially_filled" });
  }

  /** The REST cross-check of one order: its fills, then its end if the exchange says it is over. */
  async #sync(t: Tracked, known?: ExchangeOrder): Promise<void> {
    if (t.venueOrderId === null || t.state === "ended") return;
    const order = known ?? (await this.#client.order(t.venueOrderId));
    t.exchangeFeesUnits = Math.max(t.exchangeFeesUnits, order.feesUnits);
    if (order.filled > t.filled) {
      const fills: ExchangeFill[] = await this.#client.fills({ orderId: t.venueOrderId });
      fills.sort((a, b) => a.ts - b.ts || (a.fillId < b.fillId ? -1 : 1));
      for (const f of fills) this.#fillIn(f);
    }
    if (order.status !== "resting" && order.filled <= t.filled) this.#end(t, order.status);
  }

  #end(t: Tracked, status: "canceled" | "executed"): void {
    if (t.state === "ended") return;
    if (status === "executed" && t.filled >= t.order.contracts) return; // the last fill ended it
    // Cancelled on request, or expired by its own terms (immediate-or-cancel), or cancelled by the exchange on its own.
    if (t.cancelRequested) this.#finish(t, "cancelled", this.#halted ?? "requested");
    else if (t.decreased) this.#finish(t, "cancelled", "decreased");
    else if (t.wire.timeInForce !== "good_till_canceled") this.#finish(t, "expired", t.wire.timeInForce);
    else this.#finish(t, "cancelled", "exchange_cancelled");
  }

  #finish(t: Tracked, kind: "cancelled" | "expired", reason: string): void {
    t.state = "ended";
    this.#emit({
      kind,
      clientOrderId: t.clientOrderId,
      ts: this.#now(),
      venueOrderId: t.venueOrderId ?? t.clientOrderId,
      reason,
      leaves: Math.max(0, t.order.contracts - t.filled),
      orderFeeUnits: this.#orderFee(t),
    });
  }

  /** The order's whole fee: Kalshi's own figure when it gave one, else its fills' fees rounded up to the cent. */
  #orderFee(t: Tracked): Units {
    return Math.max(orderFee(t.fillFees), t.exchangeFeesUnits);
  }
}

/** The engine's order as a V2 order on the YES book. */
export function toWire(order: ClientOrder, timeInForce: TimeInForce): NewOrder {
  const yesSide = order.side === "yes";
  const buy = order.action === "buy";
  return {
    ticker: order.ticker,
    bookSide: yesSide === buy ? "bid" : "ask",
    count: order.contracts,
    yesPriceUnits: yesSide ? order.limitUnits : CONTRACT_PAYOUT - order.limitUnits,
    clientOrderId: order.clientOrderId,
    timeInForce,
    reduceOnly: !buy,
  };
}

/**
 * The exchange refused a create because the client order id is taken. The
 * exact code is not in Kalshi's public docs we have: a 409, or a code that
 * says "exists"/"duplicate", is treated as one (adopting is harmless when the
 * order is not found: the submit then stays in doubt for reconciliation).
 */
function isDuplicateOrder(e: KalshiRejectedError): boolean {
  return e.status === 409 || /already_exists|duplicate|exists/i.test(e.code);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
