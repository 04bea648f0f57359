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

/**
 * The request for one model's answer, built from the view now (the messages
 * are plain strings: later events cannot change them), and the call that
 * sends it.
 */
function prepareAsk(router: ForecastRouter, options: LlmForecasterOptions, ticker: string, view: MarketView, ctx: StrategyContext, agent: string) {
  const market = view.market(ticker)!;
  const price = view.marketPrice(ticker);
  const messages = buildMessages(options.template, {
    now: ctx.now,
    market,
    marketPrice: price === null ? null : unitsToDollars(price),
    news: options.newsItems > 0 ? options.selectNews(ticker, view, options.newsItems) : [],
    recentTrades: options.recentTrades,
  });
  return () =>
    router.complete<ForecastAnswer>({
      task: options.task,
      agent,
      messages,
      answer: forecastAnswer,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
}

function toForecast(ticker: string, outcome: RouterOutcome<ForecastAnswer>, fallbackModel: string): ForecastOutput {
  if (!outcome.ok) {
    // Name the abstention after the model that was last tried, so it is counted against that model.
    const last = outcome.trace[outcome.trace.length - 1];
    const model = last ? `${last.provider}/${last.model}` : fallbackModel;
    // The last call row tried (its prompt and raw answer are in llm_transcripts): what `tapedeck show --market` opens.
    const callId = [...outcome.trace].reverse().find((t) => t.callId !== undefined)?.callId;
    return { ticker, model, probability: null, confidence: 0, abstainReason: outcome.errorClass, ...(callId !== undefined ? { llmCallId: callId } : {}) };
  }
  const a = outcome.answer;
  return {
    ticker,
    model: `${outcome.provider}/${outcome.model}`,
    probability: a.probability,
    confidence: a.confidence,
    rationale: a.rationale.slice(0, 500),
    llmCallId: outcome.callId,
    latencyMs: outcome.result.latencyMs,
  };
}

export function llmForecaster(router: ForecastRouter, options: LlmForecasterOptions, name = "llm"): Strategy {
  const prepare = (ticker: string, view: MarketView, ctx: StrategyContext) => {
    const send = prepareAsk(router, options, ticker, view, ctx, name);
    return async () => [toForecast(ticker, await send(), `route:${options.task}`)];
  };
  return { name, prepare, forecast: (ticker, view, ctx) => prepare(ticker, view, ctx)() };
}

/** The agent column of a consensus member's forecasts: how redecide and the weight fit find a member again. */
export function memberAgent(strategyName: string, task: string): string {
  return `${strategyName}:${task}`;
}

export interface ConsensusMember {
  /** Router task whose route names this member's model chain. */
  task: string;
  weight: number;
}

export interface ConsensusOptions extends Omit<LlmForecasterOptions, "task">, PoolRule {
  members: readonly ConsensusMember[];
}

export interface PoolRule {
  pool: PoolKind;
  extremize: number;
  minMembers: number;
  maxSpread: number;
}

/**
 * The pooled forecast (model "consensus") from members' answers: abstains
 * when too few answered or when they disagree by more than maxSpread. The
 * confidence is the weighted mean of member confidences, scaled down by the
 * spread. Pure: redecide re-pools stored member forecasts with it.
 */
export function poolMembers(
  ticker: string,
  members: ReadonlyArray<{ probability: number | null; confidence: number; weight: number }>,
  rule: PoolRule,
): ForecastOutput {
  const answered = members.filter((m) => m.probability !== null && m.weight > 0);
  if (answered.length < rule.minMembers) {
    return { ticker, model: "consensus", probability: null, confidence: 0, abstainReason: `members_answered_${answered.length}` };
  }
  const ps = answered.map((m) => m.probability!);
  const ws = answered.map((m) => m.weight);
  const spread = Math.max(...ps) - Math.min(...ps);
  if (spread > rule.maxSpread) return { ticker, model: "consensus", probability: null, confidence: 0, abstainReason: "disagreement" };
  const wsum = ws.reduce((a, b) => a + b, 0);
  const confidence = answered.reduce((a, m) => a + m.weight * m.confidence, 0) / wsum;
  return {
    ticker,
    model: "consensus",
    probability: pool(rule.pool, ps, ws, rule.extremize),
    confidence: confidence * (1 - spread),
    rationale: `${rule.pool} pool of ${answered.length} models, spread ${spread.toFixed(3)}`,
  };
}

/**
 * Asks every member (in parallel), stores each member's forecast, and adds
 * the pooled one (model "consensus"), which is the one that gets sized.
 */
export function consensusStrategy(router: ForecastRouter, options: ConsensusOptions, name = "consensus"): Strategy {
  const prepare = (ticker: string, view: MarketView, ctx: StrategyContext) => {
    const sends = options.members.map((m) => prepareAsk(router, { ...options, task: m.task }, ticker, view, ctx, memberAgent(name, m.task)));
    return async (): Promise<ForecastOutput[]> => {
      const outcomes = await Promise.all(sends.map((send) => send()));
      const members = outcomes.map((o, i) => ({ ...toForecast(ticker, o, `route:${options.members[i]!.task}`), agent: memberAgent(name, options.members[i]!.task) }));
      const pooled = poolMembers(
        ticker,
        members.map((f, i) => ({ probability: f.probability, confidence: f.confidence, weight: options.members[i]!.weight })),
        options,
      );
      // The pooled forecast takes effect when the slowest member has answered.
      const slowest = Math.max(0, ...members.map((m) => m.latencyMs ?? 0));
      return [...members, { ...pooled, decide: true, latencyMs: slowest }];
    };
  };
  return { name, prepare, forecast: (ticker, view, ctx) => prepare(ticker, view, ctx)() };
}
