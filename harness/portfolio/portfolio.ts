/**
 * The account, owned by the engine (DESIGN.md "Sizing and risk"): cash,
 * positions, orders in flight, the day's starting equity, the order rate.
 * It changes only through execution reports (and the settle events of the
 * market data), applied by the ExecutionEngine; sizing and risk read it
 * through `PortfolioView`. All money is integer units.
 *
 * Open positions are marked to market (harness/portfolio/marking.ts): each
 * carries the value it would fetch at the bid (long YES at the YES bid, long
 * NO at the NO bid = 10000 − YES ask), refreshed by the engine whenever its
 * market moves. Equity = cash + positions marked to bid, so the daily loss
 * limit, sizing, the equity curve (Sharpe, drawdown) and the run's P&L all
 * see the same marked positions. A position whose market has shown no price
 * yet is valued at cost until it does.
 */
import { CONTRACT_PAYOUT, type Units } from "../money/money.ts";
import type { OrderRequest } from "../broker/broker.ts";

export interface Position {
  ticker: string;
  yes: number;
  no: number;
  /** What was paid, fees included, units. */
  costUnits: Units;
  /** What the position would fetch at the bid now, units; null until its market has shown a price. */
  markUnits: Units | null;
}

/** What sizing and risk may read about the account. */
export interface PortfolioView {
  cashUnits(): Units;
  /** Cash plus open positions marked to bid. */
  equityUnits(): Units;
  /** Equity at the start of the current UTC day (for the daily loss limit). */
  dayStartEquityUnits(): Units;
  openPositionCount(): number;
  position(ticker: string): Position | undefined;
  /** Orders in flight (sent and not yet ended, acknowledged or not) for this market. */
  hasWorkingOrder(ticker: string): boolean;
  /** Orders sent to the venue in the hour before now. */
  ordersInLastHour(now: number): number;
  /** Cash not reserved by orders in flight: what a new order may spend at worst. */
  buyingPowerUnits(): Units;
}

/** An order the engine sent and the venue has not ended. */
export interface OpenOrder {
  clientOrderId: string;
  /** Null until the venue names it (`accepted`, or a first fill). */
  venueOrderId: string | null;
  /** `pending` until the venue acknowledges it. */
  state: "pending" | "working";
  order: OrderRequest;
  /** Decision time, ms of the run's clock. */
  submitTs: number;
  filled: number;
  leaves: number;
  /** Fees charged so far with its fills. */
  feesChargedUnits: Units;
  /** The most its fees can come to (the buying-power check's bound). */
  maxFeeUnits: Units;
}

/** What a settle event did to a position. */
export interface SettledPosition {
  position: Position;
  payoutUnits: Units;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export class Portfolio implements PortfolioView {
  #cash: Units;
  #positions = new Map<string, Position>();
  #open = new Map<string, OpenOrder>();
  #orderTimes: number[] = [];
  #day = -1;
  #dayStartEquity: Units;

  constructor(startingCashUnits: Units) {
    this.#cash = startingCashUnits;
    this.#dayStartEquity = startingCashUnits;
  }

  // ---- PortfolioView ----

  cashUnits(): Units {
    return this.#cash;
  }
  equityUnits(): Units {
    return this.#cash + this.markedPositionsUnits();
  }
  dayStartEquityUnits(): Units {
    return this.#dayStartEquity;
  }
  openPositionCount(): number {
    return this.#positions.size;
  }
  position(ticker: string): Position | undefined {
    return this.#positions.get(ticker);
  }
  hasWorkingOrder(ticker: string): boolean {
    for (const o of this.#open.values()) if (o.order.ticker === ticker) return true;
    return false;
  }
  ordersInLastHour(now: number): number {
    let n = 0;
    for (let i = this.#orderTimes.length - 1; i >= 0 && this.#orderTimes[i]! > now - HOUR_MS; i--) n++;
    return n;
  }
  buyingPowerUnits(): Units {
    return this.#cash - this.reservedUnits();
  }

  // ---- more reads ----

  /** Open positions at cost. */
  positionsUnits(): Units {
    let u = 0;
    for (const p of this.#positions.values()) u += p.costUnits;
    return u;
  }
  /** Open positions marked to bid (at cost where no price has been seen). */
  markedPositionsUnits(): Units {
    let u = 0;
    for (const p of this.#positions.values()) u += p.markUnits ?? p.costUnits;
    return u;
  }
  /** Open positions, in the order they were first entered (a resumed run checks them against its stored fills). */
  positions(): IterableIterator<Position> {
    return this.#positions.values();
  }
  /** What orders in flight could still cost at worst: the rest at its limit (buys) plus the fees not yet charged. */
  reservedUnits(): Units {
    let u = 0;
    for (const o of this.#open.values()) u += reservation(o);
    return u;
  }
  /** Positions at cost plus what orders in flight may still add. */
  exposureUnits(): Units {
    return this.positionsUnits() + this.reservedUnits();
  }
  openOrder(clientOrderId: string): OpenOrder | undefined {
    return this.#open.get(clientOrderId);
  }
  openOrders(): IterableIterator<OpenOrder> {
    return this.#open.values();
  }

  // ---- changes (the engine's, from reports and market data) ----

  /** A new UTC day starts at the first event stamped in it: its starting equity is fixed then. */
  observeTime(ts: number): void {
    const day = Math.floor(ts / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#dayStartEquity = this.equityUnits();
    }
  }

  /** An order leaves for the venue: it reserves buying power and counts toward the hourly rate. */
  addPending(o: Omit<OpenOrder, "venueOrderId" | "state" | "filled" | "leaves" | "feesChargedUnits">): OpenOrder {
    if (this.#open.has(o.clientOrderId)) throw new Error(`order ${o.clientOrderId} is already in flight`);
    const open: OpenOrder = { ...o, venueOrderId: null, state: "pending", filled: 0, leaves: o.order.contracts, feesChargedUnits: 0 };
    this.#open.set(o.clientOrderId, open);
    this.#orderTimes.push(o.submitTs);
    if (this.#orderTimes.length > 1000) this.#orderTimes = this.#orderTimes.slice(-500);
    return open;
  }

  accept(clientOrderId: string, venueOrderId: string): OpenOrder {
    const o = this.#get(clientOrderId);
    o.state = "working";
    o.venueOrderId = venueOrderId;
    return o;
  }

  /** A fill: cash pays notional and fee, the position grows by the contracts and their cost. */
  fill(clientOrderId: string, venueOrderId: string, f: { priceUnits: Units; contracts: number; feeUnits: Units; leaves: number }): OpenOrder {
    const o = this.accept(clientOrderId, venueOrderId); // a fill implies the acceptance
    const { ticker, side, action } = o.order;
    const sign = action === "buy" ? 1 : -1;
    const notional = f.contracts * f.priceUnits;
    this.#cash -= sign * notional + f.feeUnits;
    const p = this.#positions.get(ticker) ?? { ticker, yes: 0, no: 0, costUnits: 0, markUnits: null };
    p[side] += sign * f.contracts;
    p.costUnits += sign * notional + f.feeUnits;
    this.#positions.set(ticker, p);
    o.filled += f.contracts;
    o.leaves = f.leaves;
    o.feesChargedUnits += f.feeUnits;
    return o;
  }

  /** The order ended: charge what its total fee adds to its fills' fees (Kalshi's rounding up to the cent) and forget it. */
  end(clientOrderId: string, orderFeeUnits: Units): OpenOrder {
    const o = this.#get(clientOrderId);
    const extra = orderFeeUnits - o.feesChargedUnits;
    if (extra > 0) {
      this.#cash -= extra;
      const p = this.#positions.get(o.order.ticker);
      if (p) p.costUnits += extra;
      o.feesChargedUnits += extra;
    }
    o.leaves = 0;
    this.#open.delete(clientOrderId);
    return o;
  }

  /** Revalue a position at these prices (marking.ts); false when there is no position in this market. */
  mark(ticker: string, value: (p: Position) => Units | null): boolean {
    const p = this.#positions.get(ticker);
    if (!p) return false;
    const v = value(p);
    if (v !== null) p.markUnits = v;
    return true;
  }

  /** Pay a settled market's position out at its result (a void market refunds its cost) and close it. */
  settle(ticker: string, result: "yes" | "no" | null): SettledPosition | null {
    const p = this.#positions.get(ticker);
    if (!p) return null;
    const payoutUnits = result === null ? p.costUnits : result === "yes" ? p.yes * CONTRACT_PAYOUT : p.no * CONTRACT_PAYOUT;
    this.#cash += payoutUnits;
    this.#positions.delete(ticker);
    return { position: p, payoutUnits };
  }

  /**
   * Reconciliation in `fix` mode (harness/live/reconcile.ts): the exchange is
   * the truth, so the local position becomes what it holds. Zero contracts
   * close the position. The only change that does not come from a report.
   */
  restatePosition(ticker: string, yes: number, no: number, costUnits: Units): void {
    if (yes === 0 && no === 0) this.#positions.delete(ticker);
    else this.#positions.set(ticker, { ticker, yes, no, costUnits, markUnits: null }); // marked again at the market's next price
  }

  /** Reconciliation in `fix` mode: cash becomes the exchange's balance. */
  restateCash(units: Units): void {
    this.#cash = units;
  }

  #get(clientOrderId: string): OpenOrder {
    const o = this.#open.get(clientOrderId);
    if (!o) throw new Error(`execution report for order ${clientOrderId}, which is not in flight`);
    return o;
  }
}

function reservation(o: OpenOrder): Units {
  const notional = o.order.action === "buy" ? o.order.limitUnits * o.leaves : 0;
  return notional + Math.max(0, o.maxFeeUnits - o.feesChargedUnits);
}
