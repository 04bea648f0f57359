/**
 * A strategy turns what is visible now into forecasts. It never decides
 * sizes or places orders: deciding is kept apart (harness/sizing), so that
 * stored forecasts can be re-decided without calling a model again.
 */
import type { MarketView } from "../harness/state/marketState.ts";

export interface ForecastOutput {
  ticker: string;
  /** Which model or rule produced it ("market", "momentum", "openrouter/deepseek-chat", "consensus"). */
  model: string;
  /** P(YES) in [0, 1]; null means the strategy abstained (see abstainReason). */
  probability: number | null;
  /** How much to trust it, in [0, 1]. */
  confidence: number;
  rationale?: string;
  abstainReason?: string;
  llmCallId?: string;
  /** Who asked, when not the strategy itself (a consensus member: "consensus:<task>"). */
  agent?: string;
  /** Only the forecast marked `decide` (default: the last one) is sized; the others are stored and scored. */
  decide?: boolean;
  /** How long the model took to answer (ms): what the `recorded` model latency delays the decision by. */
  latencyMs?: number;
}

export interface StrategyContext {
  /** The simulated (replay) or wall (live) time of the decision. */
  now: number;
}

export interface Strategy {
  readonly name: string;
  /** Forecasts for one market at now. May be async (model calls); rule strategies return synchronously. */
  forecast(ticker: string, view: MarketView, ctx: StrategyContext): ForecastOutput[] | Promise<ForecastOutput[]>;
  /**
   * Strategies that call models: read everything the forecast needs from
   * `view` NOW (synchronously, copying values) and return the work that asks
   * the models. The pipeline's read-ahead cursor calls this with its own
   * state at the decision's time, then moves on while the request is in
   * flight, so the returned function must not read `view` again.
   * Strategies without it are asked through `forecast` at decision time.
   */
  prepare?(ticker: string, view: MarketView, ctx: StrategyContext): () => Promise<ForecastOutput[]>;
  /** Internal state for checkpoints (none for stateless strategies). */
  close?(): Promise<void>;
}
