/**
 * The baseline every model is scored against: the market's own price at the
 * decision time, as a probability. It has no edge by definition, so it
 * should never trade once fees are counted.
 */
import { unitsToDollars } from "../harness/money/money.ts";
import type { ForecastOutput, Strategy } from "./strategy.ts";

export function marketStrategy(): Strategy {
  return {
    name: "market",
    forecast(ticker, view): ForecastOutput[] {
      const price = view.marketPrice(ticker);
      if (price === null) return [{ ticker, model: "market", probability: null, confidence: 0, abstainReason: "no_price" }];
      return [{ ticker, model: "market", probability: unitsToDollars(price), confidence: 1 }];
    },
  };
}
