/**
 * The engine's side of execution: implements `Execution` over any `Broker`.
 *
 * - submit: derives the client order id from the run and the decision
 *   (`td-<12 hex of sha256(runId)>-<decisionSeq>`: a resubmission after a
 *   crash is the same order), checks buying power (worst-case cost = limit ×
 *   contracts + the most the fee can be, against cash less what orders in
 *   flight reserve; a failing order is stored as `rejected` with reason
 *   `insufficient_buying_power` and never reaches the broker), then sends it.
 * - every report the broker emits is queued by the sink and applied in
 *   arrival order: to the portfolio, and as rows to the Store (a fills row per
 *   fill; an orders row when the order ends; an equity row after an order
 *   that traded ends and after each settlement). Reports that arrive during
 *   a call are applied before it returns, with that call's `ev`; reports that
 *   arrive on their own (a live venue) wait for `drainReports(ev)`.
 * - settle events pay positions out at the market's result (a null result,
 *   which only a market the source says was voided gets, refunds the cost).
 * - marking (marking.ts): a position is revalued at the bid whenever its
 *   market moves; equity (cash + marked positions) is recorded every
 *   `markEveryMs` of simulated time while positions are open, and at
 *   `finish`, which also reports every position still open (its market
 *   unresolved when the data ended) at its mark: open, never refunded.
 *
 * Row figures are those the PaperBroker used to write itself, so replay
 * results (orders, fills, settlements, equity) are unchanged.
 */
import { createHash } from "node:crypto";
import type { Broker, OrderRequest } from "../broker/broker.ts";
import type { ExecutionReport, TerminalReport } from "../broker/executionReport.ts";
import { FeeTimeline, type FeeChange } from "../broker/feeChanges.ts";
import { DEFAULT_FEE_SCHEDULE, maxOrderFee, type FeeSchedule, type FeeScheduleOverrides } from "../broker/fees.ts";
import type { MarketEvent } from "../events/types.ts";
import type { Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import type { OrderRow, Store } from "../store/resultsStore.ts";
import type { Execution } from "./execution.ts";
import { DEFAULT_MARK_EVERY_MS, markFromView } from "./marking.ts";
import { Portfolio, type OpenOrder } from "./portfolio.ts";

export interface ExecutionEngineOptions {
  runId: string;
  broker: Broker;
  store: Store;
  startingCashUnits: Units;
  /** Fee terms for the buying-power bound (the venue charges the real fees). */
  fees?: { default: FeeSchedule; series: FeeScheduleOverrides };
  /** The dataset's fee-schedule changes: the bound uses the schedule in force when the order leaves. */
  feeChanges?: readonly FeeChange[];
  /** Record marked equity this often while positions are open, ms of simulated time (default hourly). */
  markEveryMs?: number;
  /** Half-spread put around the last print to find a bid on trades-only data (marking.ts). */
  markHalfSpreadUnits?: Units;
}

/** The client order id of a run's decision: the same on every attempt, so the venue sees one order. */
export function clientOrderIdFor(runId: string, decisionSeq: number): string {
  return orderIdWithPrefix(runOrderIdPrefix(runId), decisionSeq);
}

/** The run's part of its client order ids (an engine hashes it once, not per order). */
function runOrderIdPrefix(runId: string): string {
  return `td-${createHash("sha256").update(runId).digest("hex").slice(0, 12)}`;
}

function orderIdWithPrefix(prefix: string, decisionSeq: number): string {
  if (!Number.isSafeInteger(decisionSeq) || decisionSeq < 0) throw new RangeError(`decisionSeq must be a non-negative integer, got ${String(decisionSeq)}`);
  return `${prefix}-${decisionSeq}`;
}

export const INSUFFICIENT_BUYING_POWER = "insufficient_buying_power";

export class ExecutionEngine implements Execution {
  readonly portfolio: Portfolio;
  readonly #broker: Broker;
  readonly #store: Store;
  readonly #runId: string;
  readonly #orderIdPrefix: string;
  readonly #fees: FeeTimeline;
  readonly #queue: ExecutionReport[] = [];
  /** Every client order id used in this process (a repeated decisionSeq is the caller's bug). */
  readonly #used = new Set<string>();
  readonly #markEveryMs: number;
  readonly #markHalfSpread: Units;
  #nextMarkTs = -Infinity;
  /** The market view of the latest call: a fill marks its position by it before any row shows the equity. */
  #view: MarketView | null = null;

  constructor(opts: ExecutionEngineOptions) {
    this.#broker = opts.broker;
    this.#store = opts.store;
    this.#runId = opts.runId;
    this.#orderIdPrefix = runOrderIdPrefix(opts.runId);
    const fees = opts.fees ?? { default: DEFAULT_FEE_SCHEDULE, series: {} };
    this.#fees = new FeeTimeline(fees.default, fees.series, opts.feeChanges ?? []);
    this.portfolio = new Portfolio(opts.startingCashUnits);
    this.#markEveryMs = opts.markEveryMs ?? DEFAULT_MARK_EVERY_MS;
    if (!(Number.isSafeInteger(this.#markEveryMs) && this.#markEveryMs > 0)) throw new RangeError(`markEveryMs must be a positive integer, got ${String(opts.markEveryMs)}`);
    this.#markHalfSpread = opts.markHalfSpreadUnits ?? 100;
    this.#broker.onReport((r) => this.#queue.push(r));
  }

  onEvent(ev: number, event: MarketEvent, view: MarketView): void | Promise<void> {
    this.#view = view;
    // Positions are revalued before the day's start equity is taken, so the daily loss limit sees marks.
    if (event.kind !== "news") this.#mark(event.ticker, view);
    this.portfolio.observeTime(event.ts);
    const work = this.#broker.onMarketEvent(event, view);
    if (work) return work.then(() => this.#afterMarketEvent(ev, event, view));
    this.#afterMarketEvent(ev, event, view);
  }

  #afterMarketEvent(ev: number, event: MarketEvent, view: MarketView): void {
    // Per event of a replay: look at the queue before calling into it.
    if (this.#queue.length > 0) this.#apply(ev);
    if (event.kind === "settle") this.#settle(ev, event.ticker, event.result, event.ts);
    if (event.ts >= this.#nextMarkTs) {
      // Marked equity on the interval, only while something is open (flat equity changes only through rows written anyway).
      if (this.#nextMarkTs !== -Infinity && this.portfolio.openPositionCount() > 0) this.#recordEquity(ev, event.ts);
      this.#nextMarkTs = (Math.floor(event.ts / this.#markEveryMs) + 1) * this.#markEveryMs;
    }
  }

  /** Revalue this market's position (if any) at the bid the view shows now. */
  #mark(ticker: string, view: MarketView): void {
    this.portfolio.mark(ticker, (p) => markFromView(view, ticker, p, this.#markHalfSpread));
  }

  /**
   * The data ended: every position still open (its market unresolved) is
   * reported at its mark, open, never refunded; the final marked equity is
   * recorded. `view` is the state after the last event.
   */
  finish(ev: number, ts: number, view: MarketView): void {
    // Orders still working when the data ends expire, so their fee rounding is charged and their rows written.
    this.#broker.endOfData?.(ts);
    if (this.#queue.length > 0) this.#apply(ev);
    for (const p of this.portfolio.positions()) {
      this.#mark(p.ticker, view);
      const mark = p.markUnits ?? p.costUnits;
      this.#store.openPosition(ev, { ts, ticker: p.ticker, yesContracts: p.yes, noContracts: p.no, costUnits: p.costUnits, markUnits: mark, pnlUnits: mark - p.costUnits });
    }
    if (this.portfolio.openPositionCount() > 0) this.#recordEquity(ev, ts);
  }

  submit(ev: number, decisionSeq: number, order: OrderRequest, view: MarketView): void | Promise<void> {
    const clientOrderId = orderIdWithPrefix(this.#orderIdPrefix, decisionSeq);
    this.#view = view;
    if (this.#used.has(clientOrderId)) throw new Error(`decision ${decisionSeq} of run ${this.#runId} already placed order ${clientOrderId}`);
    this.#used.add(clientOrderId);
    const now = view.now();
    const info = view.market(order.ticker)?.info;
    const schedule = this.#fees.at(info?.seriesTicker ?? "", now);
    const maxFeeUnits = maxOrderFee(order.action, order.limitUnits, order.contracts, schedule);
    const worst = (order.action === "buy" ? order.limitUnits * order.contracts : 0) + maxFeeUnits;
    const available = this.portfolio.buyingPowerUnits();
    if (worst > available) {
      this.#store.order(ev, orderRow(order, clientOrderId, clientOrderId, now, "rejected", 0, 0, `${order.reason}; rejected: ${INSUFFICIENT_BUYING_POWER} (worst case ${worst} > ${available} units)`));
      return;
    }
    this.portfolio.addPending({ clientOrderId, order: { ...order }, submitTs: now, maxFeeUnits });
    const sent = this.#broker.submit({ ...order, clientOrderId }, view);
    if (sent) return sent.then(() => void this.#apply(ev));
    this.#apply(ev);
  }

  /** Ask the venue to cancel the rest of an order in flight; the `cancelled` report does the rest. Not in `Execution` (the pipeline never cancels yet). */
  cancel(ev: number, clientOrderId: string): void | Promise<void> {
    if (!this.portfolio.openOrder(clientOrderId)) return;
    const asked = this.#broker.cancel(clientOrderId);
    if (asked) return asked.then(() => void this.#apply(ev));
    this.#apply(ev);
  }

  drainReports(ev: number): number {
    return this.#apply(ev);
  }

  #apply(ev: number): number {
    let n = 0;
    // Reports emitted while one is applied (none today) join the end of the queue.
    while (this.#queue.length > 0) {
      this.#applyOne(ev, this.#queue.shift()!);
      n++;
    }
    return n;
  }

  #applyOne(ev: number, r: ExecutionReport): void {
    const p = this.portfolio;
    switch (r.kind) {
      case "accepted":
        p.accept(r.clientOrderId, r.venueOrderId);
        return;
      case "partially_filled":
      case "filled": {
        const o = p.fill(r.clientOrderId, r.venueOrderId, r);
        if (this.#view !== null) this.#mark(o.order.ticker, this.#view);
        this.#store.fill(ev, {
          fillId: r.fillId,
          orderId: r.venueOrderId,
          ts: r.ts,
          ticker: o.order.ticker,
          side: o.order.side,
          action: o.order.action,
          priceUnits: r.priceUnits,
          contracts: r.contracts,
          feeUnits: r.feeUnits,
          liquidity: r.liquidity,
        });
        if (r.kind === "filled") this.#end(ev, r);
        return;
      }
      case "rejected":
      case "cancelled":
      case "expired":
        this.#end(ev, r);
        return;
    }
  }

  /** An order ended: charge the rest of its fee, write its row, and the equity after it if it traded. */
  #end(ev: number, r: TerminalReport): void {
    const orderFeeUnits = r.kind === "rejected" ? 0 : r.orderFeeUnits;
    const o = this.portfolio.end(r.clientOrderId, orderFeeUnits);
    const venueOrderId = r.venueOrderId ?? o.venueOrderId ?? o.clientOrderId;
    this.#store.order(ev, orderRow(o.order, venueOrderId, o.clientOrderId, o.submitTs, statusOf(r, o), o.filled, o.feesChargedUnits, reasonOf(r, o)));
    if (o.filled > 0) this.#recordEquity(ev, r.ts);
  }

  #settle(ev: number, ticker: string, result: "yes" | "no" | null, ts: number): void {
    const settled = this.portfolio.settle(ticker, result);
    if (!settled) return;
    const { position: pos, payoutUnits } = settled;
    this.#store.settlement(ev, {
      ts,
      ticker,
      result,
      yesContracts: pos.yes,
      noContracts: pos.no,
      costUnits: pos.costUnits,
      payoutUnits,
      pnlUnits: payoutUnits - pos.costUnits,
    });
    this.#recordEquity(ev, ts);
  }

  #recordEquity(ev: number, ts: number): void {
    const cash = this.portfolio.cashUnits();
    const positions = this.portfolio.markedPositionsUnits();
    this.#store.equity(ev, { ts, cashUnits: cash, positionsUnits: positions, equityUnits: cash + positions, aiSpendNusd: 0 });
  }
}

/**
 * The stored status: `rejected` and `cancelled` as reported; an order that
 * ended by its own terms (`filled`, `expired`) is `filled`, `partial` or
 * `unfilled` by what traded, as the paper broker always wrote it.
 */
function statusOf(r: TerminalReport, o: OpenOrder): OrderRow["status"] {
  if (r.kind === "rejected") return "rejected";
  if (r.kind === "cancelled") return "cancelled";
  return o.filled === 0 ? "unfilled" : o.filled >= o.order.contracts ? "filled" : "partial";
}

/** Why it was placed; for orders the venue refused or cancelled, also why that happened. */
function reasonOf(r: TerminalReport, o: OpenOrder): string {
  if (r.kind === "rejected" || r.kind === "cancelled") return `${o.order.reason}; ${r.kind}: ${r.reason}`;
  return o.order.reason;
}

function orderRow(
  order: OrderRequest,
  orderId: string,
  clientOrderId: string,
  ts: number,
  status: OrderRow["status"],
  filled: number,
  feeUnits: Units,
  reason: string,
): OrderRow {
  return {
    orderId,
    clientOrderId,
    ts,
    ticker: order.ticker,
    side: order.side,
    action: order.action,
    limitUnits: order.limitUnits,
    contracts: order.contracts,
    status,
    filled,
    feeUnits,
    reason,
  };
}
