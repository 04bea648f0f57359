/**
 * The simulated venue: fills orders against recorded data with a named fill
 * model after a latency, charges Kalshi's fees with Kalshi's rounding, and
 * settles positions at each market's result (a void market refunds what was
 * paid, fees included). All money is integer units.
 *
 * Order life: submitted at t → becomes fillable at t + latency → `quote` and
 * `book` orders are immediate-or-cancel at the first event at or after that
 * time; `trade-print` orders rest and take a share of later prints until
 * filled, until their time-to-live runs out, or until the market closes.
 */
import { z } from "zod";
import type { MarketEvent } from "../events/types.ts";
import { CONTRACT_PAYOUT, type Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import type { Store } from "../store/resultsStore.ts";
import type { Broker, OrderRequest, PortfolioView, Position } from "./broker.ts";
import { FeeScheduleOverridesSchema, FeeScheduleSchema, fillFee, orderFee, scheduleFor, type FeeSchedule } from "./fees.ts";
import {
  fillAgainstBook,
  fillAgainstQuote,
  fillAgainstTradePrint,
  TradePrintFillOptionsSchema,
  type Fill,
  type FillModelName,
  type OrderIntent,
} from "./fillModels.ts";

export const PaperBrokerConfig = z
  .object({
    bankrollUsd: z.number().positive().default(1000),
    /** `auto` picks book when the dataset has order books, quote when it has bid/ask, else trade-print. */
    fillModel: z.enum(["auto", "quote", "book", "trade-print"]).default("auto"),
    /** Decision-to-exchange latency, ms of the run's clock. */
    latencyMs: z.number().int().min(0).default(500),
    /** How long a trade-print order rests before the rest is cancelled, ms. */
    orderTtlMs: z.number().int().positive().default(15 * 60_000),
    /** Quotes in recorded data carry no size: the most one quote fill may take. */
    maxContractsPerQuote: z.number().int().positive().default(100),
    tradePrint: TradePrintFillOptionsSchema.default({ halfSpreadUnits: 100, participation: 0.1 }),
    fees: z
      .object({
        default: FeeScheduleSchema.default({ takerRate: 0.07, makerRate: 0.0175, makerFees: false, multiplier: 1 }),
        series: FeeScheduleOverridesSchema.default({}),
      })
      .default({ default: { takerRate: 0.07, makerRate: 0.0175, makerFees: false, multiplier: 1 }, series: {} }),
  })
  .strict();
export type PaperBrokerConfig = z.infer<typeof PaperBrokerConfig>;

interface WorkingOrder {
  id: string;
  clientOrderId: string;
  submitTs: number;
  fillableAt: number;
  expiresAt: number;
  intent: OrderIntent;
  remaining: number;
  reason: string;
  feeSchedule: FeeSchedule;
  fillFees: Units[];
  filled: number;
}

interface MutablePosition extends Position {}

const DAY_MS = 86_400_000;

export class PaperBroker implements Broker {
  readonly portfolio: PortfolioView;
  readonly fillModel: FillModelName;
  #cash: Units;
  #positions = new Map<string, MutablePosition>();
  #working: WorkingOrder[] = [];
  #orderTimes: number[] = [];
  #seq = 0;
  #fillSeq = 0;
  #day = -1;
  #dayStartEquity: Units;

  constructor(
    private readonly config: PaperBrokerConfig,
    private readonly store: Store,
    dataset: { hasBidAsk: boolean; hasOrderbook: boolean },
  ) {
    this.#cash = Math.round(config.bankrollUsd * 10_000);
    this.#dayStartEquity = this.#cash;
    this.fillModel =
      config.fillModel !== "auto" ? config.fillModel : dataset.hasOrderbook ? "book" : dataset.hasBidAsk ? "quote" : "trade-print";
    const self = this;
    this.portfolio = {
      cashUnits: () => self.#cash,
      equityUnits: () => self.#equity(),
      dayStartEquityUnits: () => self.#dayStartEquity,
      openPositionCount: () => self.#positions.size,
      position: (t) => self.#positions.get(t),
      hasWorkingOrder: (t) => self.#working.some((o) => o.intent.ticker === t),
      ordersInLastHour: (now) => {
        let n = 0;
        for (let i = self.#orderTimes.length - 1; i >= 0 && self.#orderTimes[i]! > now - 3_600_000; i--) n++;
        return n;
      },
    };
  }

  #equity(): Units {
    let e = this.#cash;
    for (const p of this.#positions.values()) e += p.costUnits;
    return e;
  }

  submit(ev: number, order: OrderRequest, view: MarketView): void {
    const now = view.now();
    const seq = this.#seq++;
    const info = view.market(order.ticker)?.info;
    this.#orderTimes.push(now);
    if (this.#orderTimes.length > 1000) this.#orderTimes = this.#orderTimes.slice(-500);
    const w: WorkingOrder = {
      id: `o${seq}`,
      // Idempotent on the venue: the same run decision always maps to the same id.
      clientOrderId: `td-${seq}-${order.ticker}-${now}`,
      submitTs: now,
      fillableAt: now + this.config.latencyMs,
      expiresAt: now + this.config.latencyMs + (this.fillModel === "trade-print" ? this.config.orderTtlMs : 0),
      intent: { ticker: order.ticker, side: order.side, action: order.action, limitUnits: order.limitUnits, contracts: order.contracts },
      remaining: order.contracts,
      reason: order.reason,
      feeSchedule: scheduleFor(info?.seriesTicker ?? "", this.config.fees.series, this.config.fees.default),
      fillFees: [],
      filled: 0,
    };
    this.#working.push(w);
  }

  onEvent(ev: number, event: MarketEvent, view: MarketView): void {
    const ts = event.ts;
    const day = Math.floor(ts / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#dayStartEquity = this.#equity();
    }
    if (this.#working.length > 0) this.#work(ev, event, view);
    if (event.kind === "settle") this.#settle(ev, event.ticker, event.result, ts);
  }

  #work(ev: number, event: MarketEvent, view: MarketView): void {
    const ts = event.ts;
    const keep: WorkingOrder[] = [];
    for (const w of this.#working) {
      const ticker = w.intent.ticker;
      const market = view.market(ticker);
      const closed = !market || market.closed;
      if (!closed && ts >= w.fillableAt) {
        let fills: Fill[] = [];
        if (this.fillModel === "quote") {
          const q = market.quote;
          if (q) fills = fillAgainstQuote(w.intent, q, { maxContractsWithoutSize: this.config.maxContractsPerQuote });
          this.#applyFills(ev, w, fills, ts);
          this.#finish(ev, w, ts);
          continue;
        }
        if (this.fillModel === "book") {
          if (market.book) fills = fillAgainstBook(w.intent, market.book);
          this.#applyFills(ev, w, fills, ts);
          this.#finish(ev, w, ts);
          continue;
        }
        if (event.kind === "trade" && event.ticker === ticker && event.ts >= w.fillableAt) {
          fills = fillAgainstTradePrint({ order: w.intent, remaining: w.remaining }, event, this.config.tradePrint);
          this.#applyFills(ev, w, fills, ts);
        }
      }
      if (w.remaining === 0 || closed || ts > w.expiresAt) this.#finish(ev, w, ts);
      else keep.push(w);
    }
    this.#working = keep;
  }

  #applyFills(ev: number, w: WorkingOrder, fills: Fill[], ts: number): void {
    for (const f of fills) {
      const fee = fillFee(f.contracts, f.priceUnits, f.liquidity, w.feeSchedule);
      w.fillFees.push(fee);
      w.remaining -= f.contracts;
      w.filled += f.contracts;
      const notional = f.contracts * f.priceUnits;
      const sign = w.intent.action === "buy" ? 1 : -1;
      this.#cash -= sign * notional + fee;
      const p = this.#positions.get(w.intent.ticker) ?? { ticker: w.intent.ticker, yes: 0, no: 0, costUnits: 0 };
      p[w.intent.side] += sign * f.contracts;
      p.costUnits += sign * notional + fee;
      this.#positions.set(w.intent.ticker, p);
      this.store.fill(ev, {
        fillId: `f${this.#fillSeq++}`,
        orderId: w.id,
        ts,
        ticker: w.intent.ticker,
        side: w.intent.side,
        action: w.intent.action,
        priceUnits: f.priceUnits,
        contracts: f.contracts,
        feeUnits: fee,
        liquidity: f.liquidity,
      });
    }
  }

  /** Close the order: charge the rounding up of its fee total to the cent, and write it. */
  #finish(ev: number, w: WorkingOrder, ts: number): void {
    const total = orderFee(w.fillFees);
    const roundUp = total - w.fillFees.reduce((a, b) => a + b, 0);
    if (roundUp > 0) {
      this.#cash -= roundUp;
      const p = this.#positions.get(w.intent.ticker);
      if (p) p.costUnits += roundUp;
    }
    this.store.order(ev, {
      orderId: w.id,
      clientOrderId: w.clientOrderId,
      ts: w.submitTs,
      ticker: w.intent.ticker,
      side: w.intent.side,
      action: w.intent.action,
      limitUnits: w.intent.limitUnits,
      contracts: w.intent.contracts,
      status: w.filled === 0 ? "unfilled" : w.remaining === 0 ? "filled" : "partial",
      filled: w.filled,
      feeUnits: total,
      reason: w.reason,
    });
    if (w.filled > 0) this.#recordEquity(ev, ts);
  }

  #settle(ev: number, ticker: string, result: "yes" | "no" | null, ts: number): void {
    // Orders still working on a settled market are cancelled first.
    for (const w of this.#working.filter((o) => o.intent.ticker === ticker)) this.#finish(ev, w, ts);
    this.#working = this.#working.filter((o) => o.intent.ticker !== ticker);
    const p = this.#positions.get(ticker);
    if (!p) return;
    const payout = result === null ? p.costUnits : result === "yes" ? p.yes * CONTRACT_PAYOUT : p.no * CONTRACT_PAYOUT;
    this.#cash += payout;
    this.#positions.delete(ticker);
    this.store.settlement(ev, {
      ts,
      ticker,
      result,
      yesContracts: p.yes,
      noContracts: p.no,
      costUnits: p.costUnits,
      payoutUnits: payout,
      pnlUnits: payout - p.costUnits,
    });
    this.#recordEquity(ev, ts);
  }

  #recordEquity(ev: number, ts: number): void {
    let positions = 0;
    for (const p of this.#positions.values()) positions += p.costUnits;
    this.store.equity(ev, { ts, cashUnits: this.#cash, positionsUnits: positions, equityUnits: this.#cash + positions, aiSpendNusd: 0 });
  }
}
