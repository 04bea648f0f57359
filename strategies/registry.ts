/** Builds the Strategy a config names. */
import { lastTradeStrategy } from "./lastTrade.ts";
import { marketStrategy } from "./market.ts";
import { momentumStrategy } from "./momentum.ts";
import type { StrategyConfig } from "./runConfig.ts";
import type { Strategy } from "./strategy.ts";

export function buildStrategy(config: StrategyConfig): Strategy {
  switch (config.kind) {
    case "market":
      return marketStrategy();
    case "last-trade":
      return lastTradeStrategy();
    case "momentum":
      return momentumStrategy({ lookback: config.lookback, gain: config.gain });
  }
}
