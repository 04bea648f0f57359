/**
 * The simulated venue: fills orders against recorded data with a named fill
 * model after a latency and charges Kalshi's fees with Kalshi's rounding
 * (each fill's fee rounded up to a unit, the order's total up to the cent,
 * the difference charged when the order ends). It holds no account: what
 * happens to an order comes back to the engine as execution reports, emitted
 * synchronously inside the call that caused them. All money is integer units.
 *
 * Order life: submitted at t → `accepted` at once → fillable at t + the order
 * latency (harness/latency/orderLatency.ts) → `quote` and `book` orders are
 * immediate-or-cancel at the first event at or after that time (the rest
 * `expired`); `print-maker` (and the legacy `trade-print`) orders rest and
 * take a share of later prints until filled, until their time-to-live runs
 * out, or until the market closes (then `expired`). `cancel` ends a working
 * order. Each fill model's assumptions are in its own file under ./fills/.
 */
import { z } from "zod";
import type { MarketEvent } from "../events/types.ts";
import { isValidPrice, type Units } from "../money/money.ts";
import type { MarketView } from "../state/marketState.ts";
import type { Broker, ClientOrder } from "./broker.ts";
import type { ExecutionReport, ReportSink } from "./executionReport.ts";
import { FeeTimeline, type FeeChange } from "./feeChanges.ts";
import { FeeScheduleOverridesSchema, FeeScheduleSchema, fillFee, orderFee } from "./fees.ts";
import { orderFillableAt } from "../latency/orderLatency.ts";
import {
  fillAgainstBook,
  fillAgainstQuote,
  fillAgainstTradePrint,
  fillOnPrint,
  FILL_MODEL_NAMES,
  PrintMakerFillOptionsSchema,
  TradePrintFillOptionsSchema,
  type Fill,
  type FillModelName,
  type OrderIntent,
} from "./fillModels.ts";

export const PaperBrokerConfig = z
  .object({
    bankrollUsd: z.number().positive().default(1000),
    /** `auto` picks book when the dataset has order books, quote when it has bid/ask, else print-maker. */
    fillModel: z.enum(["auto", ...FILL_MODEL_NAMES]).default("auto"),
    /** Order latency: decision to exchange, ms of the run's clock (harness/latency/orderLatency.ts). */
    latencyMs: z.number().int().min(0).default(500),
    /** How long a resting (print-maker, trade-print) order rests before the rest expires, ms. */
    orderTtlMs: z.number().int().positive().default(15 * 60_000),
    /** Marked equity is recorded this often while positions are open, ms of simulated time (harness/portfolio/marking.ts). */
    markEveryMs: z.number().int().positive().default(3_600_000),
    /** Quotes in recorded data carry no size: the most one quote fill may take. */
    maxContractsPerQuote: z.number().int().positive().default(100),
    /** The legacy trade-print model's spread; sizing also puts this half-spread around a print when a market has no quote. */
    tradePrint: TradePrintFillOptionsSchema.default({ halfSpreadUnits: 100, participation: 0.1 }),
    /** The print-maker model's participation cap and queue-position assumption (fills/makerOnPrints.ts). */
    printMaker: PrintMakerFillOptionsSchema.default({ participation: 0.1, queueAheadContracts: null }),
    fees: z
      .object({
        default: FeeScheduleSchema.default({ takerRate: 0.07, makerRate: 0.0175, makerFees: false, multiplier: 1 }),
        series: FeeScheduleOverridesSchema.default({}),
      })
      .strict()
      .default({ default: { takerRate: 0.07, makerRate: 0.0175, makerFees: false, multiplier: 1 }, series: {} }),
  })
  .strict();
export type PaperBrokerConfig = z.infer<typeof PaperBrokerConfig>;

interface WorkingOrder {
  venueOrderId: string;
  clientOrderId: string;
  fillableAt: number;
  expiresAt: number;
  intent: OrderIntent;
  remaining: number;
  /** print-maker: contracts still ahead of this order at its price (null: never cleared). */
  queueAhead: number | null;
  /** The market's series: each fill is charged by its schedule in force at the fill's time. */
  seriesTicker: string;
  fillFees: Units[];
}

export type DatasetCapabilities = { hasBidAsk: boolean; hasOrderbook: boolean };

/** The fill model `auto` stands for on a dataset with these capabilities. */
export function resolveFillModel(configured: PaperBrokerConfig["fillModel"], dataset: DatasetCapabilities): FillModelName {
  if (configured !== "auto") return configured;
  return dataset.hasOrderbook ? "book" : dataset.hasBidAsk ? "quote" : "print-maker";
}

export class PaperBroker implements Broker {
  readonly fillModel: FillModelName;
  #sink: ReportSink | null = null;
  #working: WorkingOrder[] = [];
  #seq = 0;
  #fillSeq = 0;
  /** The latest time seen (submit or market event): when a cancel happens. */
  #now = -Infinity;

  readonly #fees: FeeTimeline;

  constructor(
    private readonly config: PaperBrokerConfig,
    dataset: DatasetCapabilities,
    /** The dataset's fee-schedule changes (feeChanges.ts), if it has any. */
    feeChanges: readonly FeeChange[] = [],
  ) {
    this.fillModel = resolveFillModel(config.fillModel, dataset);
    this.#fees = new FeeTimeline(config.fees.default, config.fees.series, feeChanges);
  }

  onReport(sink: ReportSink): void {
    this.#sink = sink;
  }

  #emit(report: ExecutionReport): void {
    if (this.#sink === null) throw new Error("PaperBroker: no report sink set (call onReport before submit)");
    this.#sink(report);
  }

  submit(order: ClientOrder, view: MarketView): void {
    const now = view.now();
    this.#now = Math.max(this.#now, now);
    if (!isValidPrice(order.limitUnits) || !Number.isSafeInteger(order.contracts) || order.contracts <= 0) {
      this.#emit({ kind: "rejected", clientOrderId: order.clientOrderId, ts: now, venueOrderId: null, reason: "invalid_order" });
      return;
    }
    const info = view.market(order.ticker)?.info;
    const fillableAt = orderFillableAt(now, this.config.latencyMs);
    const resting = this.fillModel === "print-maker" || this.fillModel === "trade-print";
    const w: WorkingOrder = {
      venueOrderId: `o${this.#seq++}`,
      clientOrderId: order.clientOrderId,
      fillableAt,
      expiresAt: fillableAt + (resting ? this.config.orderTtlMs : 0),
      intent: { ticker: order.ticker, side: order.side, action: order.action, limitUnits: order.limitUnits, contracts: order.contracts },
      remaining: order.contracts,
      queueAhead: this.config.printMaker.queueAheadContracts,
      seriesTicker: info?.seriesTicker ?? "",
      fillFees: [],
    };
    this.#working.push(w);
    this.#emit({ kind: "accepted", clientOrderId: w.clientOrderId, ts: now, venueOrderId: w.venueOrderId });
  }

  cancel(clientOrderId: string): void {
    const i = this.#working.findIndex((o) => o.clientOrderId === clientOrderId);
    if (i < 0) return; // already ended: its terminal report was sent
    const [w] = this.#working.splice(i, 1);
    this.#end(w!, "cancelled", "requested", this.#now);
  }

  onMarketEvent(event: MarketEvent, view: MarketView): void {
    this.#now = Math.max(this.#now, event.ts);
    if (this.#working.length > 0) this.#work(event, view);
    if (event.kind === "settle" && this.#working.length > 0) {
      // Orders still working on a settled market end with it.
      for (const w of this.#working.filter((o) => o.intent.ticker === event.ticker)) this.#end(w, "expired", "market_settled", event.ts);
      this.#working = this.#working.filter((o) => o.intent.ticker !== event.ticker);
    }
  }

  endOfData(ts: number): void {
    const working = this.#working;
    this.#working = [];
    for (const w of working) this.#end(w, "expired", "data_ended", ts);
  }

  #work(event: MarketEvent, view: MarketView): void {
    const ts = event.ts;
    const keep: WorkingOrder[] = [];
    for (const w of this.#working) {
      const ticker = w.intent.ticker;
      const market = view.market(ticker);
      const closed = !market || market.closed;
      if (!closed && ts >= w.fillableAt) {
        if (this.fillModel === "quote" || this.fillModel === "book") {
          let fills: Fill[] = [];
          if (this.fillModel === "quote") {
            if (market.quote) fills = fillAgainstQuote(w.intent, market.quote, { maxContractsWithoutSize: this.config.maxContractsPerQuote });
          } else if (market.book) {
            fills = fillAgainstBook(w.intent, market.book);
          }
          // Immediate-or-cancel: what did not trade now expires.
          if (this.#applyFills(w, fills, ts)) this.#end(w, "expired", "immediate_or_cancel", ts);
          continue;
        }
        if (event.kind === "trade" && event.ticker === ticker) {
          let fills: Fill[];
          if (this.fillModel === "print-maker") {
            const r = fillOnPrint({ order: w.intent, remaining: w.remaining, queueAhead: w.queueAhead }, event, this.config.printMaker);
            w.queueAhead = r.queueAhead;
            fills = r.fills;
          } else {
            fills = fillAgainstTradePrint({ order: w.intent, remaining: w.remaining }, event, this.config.tradePrint);
          }
          if (!this.#applyFills(w, fills, ts)) continue;
        }
      }
      if (closed) this.#end(w, "expired", "market_closed", ts);
      else if (ts > w.expiresAt) this.#end(w, "expired", "time_to_live", ts);
      else keep.push(w);
    }
    this.#working = keep;
  }

  /** Report the fills; false once the order is complete (its `filled` report ended it). */
  #applyFills(w: WorkingOrder, fills: readonly Fill[], ts: number): boolean {
    for (const f of fills) {
      const fee = fillFee(f.contracts, f.priceUnits, f.liquidity, this.#fees.at(w.seriesTicker, ts));
      w.fillFees.push(fee);
      w.remaining -= f.contracts;
      const fill = {
        clientOrderId: w.clientOrderId,
        ts,
        venueOrderId: w.venueOrderId,
        fillId: `f${this.#fillSeq++}`,
        priceUnits: f.priceUnits,
        contracts: f.contracts,
        feeUnits: fee,
        liquidity: f.liquidity,
        leaves: w.remaining,
      };
      if (w.remaining > 0) this.#emit({ kind: "partially_filled", ...fill });
      else {
        this.#emit({ kind: "filled", ...fill, orderFeeUnits: orderFee(w.fillFees) });
        return false;
      }
    }
    return true;
  }

  /** End the rest of an order; its fee total (rounded up to the cent) goes with the report. */
  #end(w: WorkingOrder, kind: "cancelled" | "expired", reason: string, ts: number): void {
    this.#emit({ kind, clientOrderId: w.clientOrderId, ts, venueOrderId: w.venueOrderId, reason, leaves: w.remaining, orderFeeUnits: orderFee(w.fillFees) });
  }
}
