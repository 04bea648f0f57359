/** Builds the Strategy a config names, with the model router when it calls models. */
import { lastTradeStrategy } from "./lastTrade.ts";
import { consensusStrategy, llmForecaster, type ForecastRouter, type NewsSelector } from "./llmForecaster.ts";
import { marketStrategy } from "./market.ts";
import { momentumStrategy } from "./momentum.ts";
import { promptTemplate } from "./prompts/forecastPrompt.ts";
import type { StrategyConfig } from "./runConfig.ts";
import type { Strategy } from "./strategy.ts";

export interface StrategyDeps {
  router?: ForecastRouter;
  selectNews: NewsSelector;
}

export function buildStrategy(config: StrategyConfig, deps: StrategyDeps): Strategy {
  switch (config.kind) {
    case "market":
      return marketStrategy();
    case "last-trade":
      return lastTradeStrategy();
    case "momentum":
      return momentumStrategy({ lookback: config.lookback, gain: config.gain });
    case "llm":
    case "consensus": {
      if (!deps.router) throw new Error(`strategy "${config.kind}" needs a model router`);
      const common = {
        template: promptTemplate(config.prompt),
        newsItems: config.newsItems,
        recentTrades: config.recentTrades,
        selectNews: deps.selectNews,
        ...(config.temperature !== undefined ? { temperature: config.temperature } : {}),
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
      };
      if (config.kind === "llm") return llmForecaster(deps.router, { ...common, task: config.task });
      return consensusStrategy(deps.router, {
        ...common,
        members: config.members,
        pool: config.pool,
        extremize: config.extremize,
        minMembers: config.minMembers,
        maxSpread: config.maxSpread,
      });
    }
  }
}
