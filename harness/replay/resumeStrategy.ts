/**
 * Resume that never pays twice: a resumed run answers every decision it
 * already stored from its own forecasts rows (as redecide does), so the
 * part before the checkpoint calls no model, and a failure or a budget
 * refusal that was stored stays what the run traded on. Decisions past the
 * checkpoint go to the strategy; their model calls that were answered
 * before the crash come back from the run's call journal (the router's),
 * not from the provider.
 */
import type { ForecastOutput, Strategy } from "../../strategies/strategy.ts";
import { storedOutputs, type StoredForecasts } from "./storedForecasts.ts";

export function resumeStrategy(stored: StoredForecasts, inner: Strategy): Strategy {
  const answer = (ticker: string, ts: number): ForecastOutput[] | undefined => {
    const rows = stored.at(ticker, ts);
    if (!rows || rows.length === 0) return undefined;
    const out = storedOutputs(ticker, rows);
    // A pooled forecast took effect when its slowest member answered (strategies/llmForecaster.ts).
    const pooled = out.find((f) => f.model === "consensus");
    if (pooled) pooled.latencyMs = Math.max(0, ...out.filter((f) => f !== pooled).map((f) => f.latencyMs ?? 0));
    return out;
  };
  const prepare = inner.prepare;
  return {
    name: inner.name,
    forecast: (ticker, view, ctx) => answer(ticker, ctx.now) ?? inner.forecast(ticker, view, ctx),
    ...(prepare
      ? {
          prepare: (ticker, view, ctx) => {
            const rows = answer(ticker, ctx.now);
            return rows ? async () => rows : prepare(ticker, view, ctx);
          },
        }
      : {}),
  };
}
