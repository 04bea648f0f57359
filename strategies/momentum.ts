/**
 * A simple rule: prices that moved keep moving a little. Forecast = last
 * price + gain × (last − price `lookback` trades ago), clipped to
 * [0.01, 0.99]. Confidence grows with the number of prints seen and the
 * size of the move. It exists to prove the spine with something that trades.
 */
import { z } from "zod";
import { unitsToDollars } from "../harness/money/money.ts";
import type { ForecastOutput, Strategy } from "./strategy.ts";

export const MomentumParams = z
  .object({
    lookback: z.number().int().min(1).default(5),
    gain: z.number().min(0).max(5).default(0.5),
  })
  .strict();
export type MomentumParams = z.infer<typeof MomentumParams>;

export function momentumStrategy(params: MomentumParams): Strategy {
  return {
    name: "momentum",
    forecast(ticker, view): ForecastOutput[] {
      const trades = view.market(ticker)?.recentTrades ?? [];
      if (trades.length <= params.lookback) {
        return [{ ticker, model: "momentum", probability: null, confidence: 0, abstainReason: "not_enough_trades" }];
      }
      const last = unitsToDollars(trades[trades.length - 1]!.yesPrice);
      const before = unitsToDollars(trades[trades.length - 1 - params.lookback]!.yesPrice);
      const move = last - before;
      const p = Math.min(0.99, Math.max(0.01, last + params.gain * move));
      const confidence = Math.min(1, 0.5 + Math.abs(move) * 5) * Math.min(1, trades.length / (2 * params.lookback));
      return [{ ticker, model: "momentum", probability: p, confidence, rationale: `move ${move.toFixed(4)} over ${params.lookback} prints` }];
    },
  };
}
