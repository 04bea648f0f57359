/**
 * Forecast = the last traded price. Differs from `market` when a quote is on
 * the book: prints can lag or lead the quoted mid.
 */
import { unitsToDollars } from "../harness/money/money.ts";
import type { ForecastOutput, Strategy } from "./strategy.ts";

export function lastTradeStrategy(): Strategy {
  return {
    name: "last-trade",
    forecast(ticker, view): ForecastOutput[] {
      const last = view.market(ticker)?.lastTrade;
      if (!last) return [{ ticker, model: "last-trade", probability: null, confidence: 0, abstainReason: "no_trade" }];
      return [{ ticker, model: "last-trade", probability: unitsToDollars(last.yesPrice), confidence: 1 }];
    },
  };
}
