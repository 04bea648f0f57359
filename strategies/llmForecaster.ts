/**
 * The LLM forecaster: builds a versioned prompt from what is visible now
 * (market text, time to close, quote, recent trades, matched headlines),
 * asks the router (through the response cache) for a structured answer and
 * turns it into a forecast. A bad answer — a failed call, malformed or
 * out-of-range output, a refused budget — is an abstention with its reason,
 * never a crash. The consensus strategy asks several routes and pools them.
 */
import { forecastAnswer, type ForecastAnswer } from "../providers/forecastAnswer.ts";
import type { RouterOutcome, RouterRequest } from "../harness/router/router.ts";
import type { AnswerSpec } from "../providers/forecastAnswer.ts";
import { unitsToDollars } from "../harness/money/money.ts";
import type { MarketView } from "../harness/state/marketState.ts";
import type { NewsEvent } from "../harness/events/types.ts";
import { buildMessages, type PromptTemplate } from "./prompts/forecastPrompt.ts";
import type { ForecastOutput, Strategy, StrategyContext } from "./strategy.ts";
import { pool, type PoolKind } from "../harness/consensus/pools.ts";

/** What the forecaster needs from a router: Router and the cached router both fit. */
export interface ForecastRouter {
  complete<T>(request: RouterRequest & { answer: AnswerSpec<T> }): Promise<RouterOutcome<T>>;
}

/** Headlines relevant to a market, newest first. */
export type NewsSelector = (ticker: string, view: MarketView, limit: number) => readonly NewsEvent[];

export interface LlmForecasterOptions {
  task: string;
  template: PromptTemplate;
  newsItems: number;
  recentTrades: number;
  selectNews: NewsSelector;
  temperature?: number;
  seed?: number;
}

/** One model's answer as a forecast row (or an abstention with the router's reason). */
async function ask(router: ForecastRouter, options: LlmForecasterOptions, ticker: string, view: MarketView, ctx: StrategyContext, agent: string) {
  const market = view.market(ticker)!;
  const price = view.marketPrice(ticker);
  const messages = buildMessages(options.template, {
    now: ctx.now,
    market,
    marketPrice: price === null ? null : unitsToDollars(price),
    news: options.newsItems > 0 ? options.selectNews(ticker, view, options.newsItems) : [],
    recentTrades: options.recentTrades,
  });
  const outcome = await router.complete<ForecastAnswer>({
    task: options.task,
    agent,
    messages,
    answer: forecastAnswer,
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  return outcome;
}

function toForecast(ticker: string, outcome: RouterOutcome<ForecastAnswer>, fallbackModel: string): ForecastOutput {
  if (!outcome.ok) {
    return { ticker, model: fallbackModel, probability: null, confidence: 0, abstainReason: outcome.errorClass };
  }
  const a = outcome.answer;
  return {
    ticker,
    model: `${outcome.provider}/${outcome.model}`,
    probability: a.probability,
    confidence: a.confidence,
    rationale: a.rationale.slice(0, 500),
    llmCallId: outcome.callId,
  };
}

export function llmForecaster(router: ForecastRouter, options: LlmForecasterOptions, name = "llm"): Strategy {
  return {
    name,
    async forecast(ticker, view, ctx) {
      return [toForecast(ticker, await ask(router, options, ticker, view, ctx, name), `route:${options.task}`)];
    },
  };
}

export interface ConsensusMember {
  /** Router task whose route names this member's model chain. */
  task: string;
  weight: number;
}

export interface ConsensusOptions extends Omit<LlmForecasterOptions, "task"> {
  members: readonly ConsensusMember[];
  pool: PoolKind;
  extremize: number;
  /** Fewer answering members than this: hold (abstain) rather than act. */
  minMembers: number;
  /** Largest spread (max − min probability) at which members count as agreeing; above it the pooled forecast abstains. */
  maxSpread: number;
}

/**
 * Asks every member (in parallel), stores each member's forecast, and adds
 * the pooled one (model "consensus"), which is the one that gets sized.
 * The pooled confidence is the weighted mean of member confidences, scaled
 * down by disagreement.
 */
export function consensusStrategy(router: ForecastRouter, options: ConsensusOptions, name = "consensus"): Strategy {
  return {
    name,
    async forecast(ticker, view, ctx) {
      const outcomes = await Promise.all(options.members.map((m) => ask(router, { ...options, task: m.task }, ticker, view, ctx, `${name}:${m.task}`)));
      const members = outcomes.map((o, i) => toForecast(ticker, o, `route:${options.members[i]!.task}`));
      const answered = members.map((f, i) => ({ f, w: options.members[i]!.weight })).filter((x) => x.f.probability !== null && x.w > 0);
      let pooled: ForecastOutput;
      if (answered.length < options.minMembers) {
        pooled = { ticker, model: "consensus", probability: null, confidence: 0, abstainReason: `members_answered_${answered.length}` };
      } else {
        const ps = answered.map((x) => x.f.probability!);
        const ws = answered.map((x) => x.w);
        const spread = Math.max(...ps) - Math.min(...ps);
        if (spread > options.maxSpread) {
          pooled = { ticker, model: "consensus", probability: null, confidence: 0, abstainReason: "disagreement" };
        } else {
          const wsum = ws.reduce((a, b) => a + b, 0);
          const conf = answered.reduce((a, x) => a + x.w * x.f.confidence, 0) / wsum;
          pooled = {
            ticker,
            model: "consensus",
            probability: pool(options.pool, ps, ws, options.extremize),
            confidence: conf * (1 - spread),
            rationale: `${options.pool} pool of ${answered.length} models, spread ${spread.toFixed(3)}`,
          };
        }
      }
      return [...members, { ...pooled, decide: true }];
    },
  };
}
