/**
 * The Sizer seam: from one forecast and the visible market to a decision
 * (buy YES, buy NO, or hold, with the reason) and at most one order.
 * The default is fractional Kelly on the effective price (ask + fee) gated
 * by the risk limits; it is pure given its inputs, which is what lets
 * `redecide` re-run it over stored forecasts.
 */
import type { OrderRequest, PortfolioView } from "../broker/broker.ts";
import { DEFAULT_FEE_SCHEDULE, scheduleFor, type FeeSchedule, type FeeScheduleOverrides } from "../broker/fees.ts";
import type { MarketView } from "../state/marketState.ts";
import type { DecisionRow } from "../store/resultsStore.ts";
import { sizeBestSide } from "./kelly.ts";
import { checkRisk, type RiskLimits } from "./riskLimits.ts";

export interface SizerInput {
  ticker: string;
  probability: number;
  confidence: number;
}

export interface SizerOutput {
  decision: DecisionRow;
  order: OrderRequest | null;
}

export interface Sizer {
  decide(input: SizerInput, view: MarketView, portfolio: PortfolioView): SizerOutput;
}

export class KellySizer implements Sizer {
  constructor(
    private readonly limits: Readonly<RiskLimits>,
    private readonly fees: { default: FeeSchedule; series: FeeScheduleOverrides } = { default: DEFAULT_FEE_SCHEDULE, series: {} },
    /** The spread assumed around a print when a market has no quote (the trade-print fill model's). */
    private readonly printHalfSpreadUnits = 100,
  ) {}

  decide(input: SizerInput, view: MarketView, portfolio: PortfolioView): SizerOutput {
    const now = view.now();
    const market = view.market(input.ticker);
    const hold = (reason: string, extra: Partial<DecisionRow> = {}): SizerOutput => ({
      decision: {
        ts: now,
        ticker: input.ticker,
        action: "hold",
        probability: input.probability,
        confidence: input.confidence,
        priceUnits: null,
        edge: null,
        kellyFraction: null,
        contracts: 0,
        reason,
        ...extra,
      },
      order: null,
    });
    if (!market || market.closed) return hold("market_closed");
    if (portfolio.hasWorkingOrder(input.ticker)) return hold("order_working");

    const { yesBid, yesAsk } = executablePrices(view, input.ticker, this.printHalfSpreadUnits);
    if (yesBid === null && yesAsk === null) return hold("no_price");
    const schedule = scheduleFor(market.info.seriesTicker, this.fees.series, this.fees.default);
    const equity = portfolio.equityUnits();
    const sized = sizeBestSide({
      probability: input.probability,
      yesBid,
      yesAsk,
      bankrollUnits: equity,
      kellyMultiplier: this.limits.kellyFraction,
      maxPositionFraction: this.limits.maxPositionFraction,
      feeSchedule: schedule,
    });
    if (!sized) return hold("no_edge");
    const extra = {
      priceUnits: Math.round(sized.effectivePriceUnits),
      edge: sized.edge,
      kellyFraction: sized.kellyFraction,
    };
    if (sized.contracts === 0) return hold("size_zero", extra);

    const verdict = checkRisk(
      this.limits,
      {
        openPositions: portfolio.openPositionCount(),
        hasPositionIn: (t) => portfolio.position(t) !== undefined,
        tradesInLastHour: portfolio.ordersInLastHour(now),
        dayStartEquityUnits: portfolio.dayStartEquityUnits(),
        equityUnits: equity,
        marketVolume: market.volume,
      },
      { ticker: input.ticker, confidence: input.confidence, edge: sized.edge, contracts: sized.contracts, costUnits: sized.costUnits },
    );
    if (!verdict.ok) return hold(`risk:${verdict.rule}`, extra);

    const askUnits = sized.side === "yes" ? yesAsk! : 10_000 - yesBid!;
    return {
      decision: {
        ts: now,
        ticker: input.ticker,
        action: sized.side === "yes" ? "buy_yes" : "buy_no",
        probability: input.probability,
        confidence: input.confidence,
        contracts: sized.contracts,
        reason: "edge",
        ...extra,
      },
      order: { ticker: input.ticker, side: sized.side, action: "buy", limitUnits: askUnits, contracts: sized.contracts, reason: "edge" },
    };
  }
}

/**
 * Prices an order could trade at now. With a quote, its bid and ask. A
 * trades-only dataset has none: the last print is taken as the mid and the
 * half-spread the trade-print fill model assumes is put around it, so sizing
 * and the fill model price the same spread.
 */
export function executablePrices(view: MarketView, ticker: string, halfSpreadUnits = 100): { yesBid: number | null; yesAsk: number | null } {
  const m = view.market(ticker);
  if (!m) return { yesBid: null, yesAsk: null };
  if (m.quote && (m.quote.yesBid !== null || m.quote.yesAsk !== null)) return { yesBid: m.quote.yesBid, yesAsk: m.quote.yesAsk };
  if (m.book) {
    const bestYesBid = m.book.yes[0]?.[0] ?? null;
    const bestNoBid = m.book.no[0]?.[0] ?? null;
    return { yesBid: bestYesBid, yesAsk: bestNoBid === null ? null : 10_000 - bestNoBid };
  }
  if (m.lastTrade) {
    const mid = m.lastTrade.yesPrice;
    const bid = mid - halfSpreadUnits;
    const ask = mid + halfSpreadUnits;
    return { yesBid: bid > 0 ? bid : null, yesAsk: ask < 10_000 ? ask : null };
  }
  return { yesBid: null, yesAsk: null };
}
