/**
 * Re-deciding from stored forecasts: a strategy that answers from a parent
 * run's forecasts table instead of calling any model, and a filter that asks
 * it exactly when the parent forecast. With a consensus config the pooled
 * forecast is recomputed from the stored member forecasts under the new
 * weights and pool; everything downstream (sizing, risk, broker, metrics)
 * runs as in any replay, on the same recorded market data.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import type { MarketEvent } from "../events/types.ts";
import type { EventFilter, FilterVerdict } from "../filter/eventFilter.ts";
import { memberAgent, poolMembers } from "../../strategies/llmForecaster.ts";
import type { StrategyConfig } from "../../strategies/runConfig.ts";
import type { ForecastOutput, Strategy } from "../../strategies/strategy.ts";

/** A stored forecast row as read back from DuckDB (checked: the file may come from another version). */
const StoredRow = z.object({
  ticker: z.string(),
  ts: z.number(),
  model: z.string(),
  agent: z.string().nullable(),
  probability: z.number().nullable(),
  confidence: z.number().nullable(),
  abstain_reason: z.string().nullable(),
  rationale: z.string().nullable(),
  llm_call_id: z.string().nullable(),
  /** The answering call's latency, for the `recorded` model latency. */
  latency_ms: z.number().nullable(),
});
export type StoredRow = z.infer<typeof StoredRow>;

/** Stored rows as the forecasts they were. */
export function storedOutputs(ticker: string, rows: readonly StoredRow[]): ForecastOutput[] {
  return rows.map((r) => ({
    ticker,
    model: r.model,
    probability: r.probability,
    confidence: r.confidence ?? 0,
    ...(r.agent ? { agent: r.agent } : {}),
    ...(r.abstain_reason ? { abstainReason: r.abstain_reason } : {}),
    ...(r.rationale ? { rationale: r.rationale } : {}),
    ...(r.llm_call_id ? { llmCallId: r.llm_call_id } : {}),
    ...(r.latency_ms !== null ? { latencyMs: r.latency_ms } : {}),
  }));
}

export class StoredForecasts {
  /** ticker → ts → rows in their original order. */
  readonly #rows = new Map<string, Map<number, StoredRow[]>>();
  /** ts → tickers forecast then, in first-forecast order. */
  readonly #byTs = new Map<number, string[]>();
  count = 0;
  /** The latest decision time with a stored forecast (-Infinity when none). */
  lastTs = Number.NEGATIVE_INFINITY;

  static async load(c: DuckDBConnection, runId: string): Promise<StoredForecasts> {
    const reader = await c.runAndReadAll(
      `SELECT f.ticker, f.ts::DOUBLE AS ts, f.model, f.agent, f.probability, f.confidence, f.abstain_reason, f.rationale, f.llm_call_id,
              (SELECT max(c.latency_ms) FROM llm_calls c WHERE c.call_id = f.llm_call_id) AS latency_ms
         FROM forecasts f WHERE f.run_id = $1 ORDER BY f.seq`,
      [runId],
    );
    const stored = new StoredForecasts();
    for (const raw of reader.getRowObjectsJS()) {
      const checked = StoredRow.safeParse(raw);
      if (!checked.success) throw new Error(`run ${runId}: a stored forecast row does not read back: ${z.prettifyError(checked.error)}`);
      const r = checked.data;
      let byTs = stored.#rows.get(r.ticker);
      if (!byTs) stored.#rows.set(r.ticker, (byTs = new Map()));
      let list = byTs.get(r.ts);
      if (!list) byTs.set(r.ts, (list = []));
      if (list.length === 0) {
        const tickers = stored.#byTs.get(r.ts);
        if (tickers) tickers.push(r.ticker);
        else stored.#byTs.set(r.ts, [r.ticker]);
      }
      list.push(r);
      stored.count++;
      if (r.ts > stored.lastTs) stored.lastTs = r.ts;
    }
    return stored;
  }

  at(ticker: string, ts: number): readonly StoredRow[] | undefined {
    return this.#rows.get(ticker)?.get(ts);
  }

  /**
   * Passes every market the parent run forecast at a time, on the first event
   * stamped with that time, whatever the event (a news item, another
   * market's trade, a batch released by a later event): the pipeline decides
   * once all events of the timestamp are applied, as the parent did.
   */
  filter(): EventFilter {
    const dropped: Record<string, number> = {};
    let lastTs = Number.NaN;
    return {
      select: (event: MarketEvent): FilterVerdict[] => {
        if (event.ts === lastTs) return [];
        lastTs = event.ts;
        return (this.#byTs.get(event.ts) ?? []).map((ticker) => ({ ticker, reason: "stored_forecast" }));
      },
      dropped: () => dropped,
    };
  }

  /** Answers from the stored rows; a consensus config re-pools the members with its own weights. */
  strategy(config: StrategyConfig, parentStrategyName: string): Strategy {
    return {
      name: parentStrategyName,
      forecast: (ticker, _view, ctx): ForecastOutput[] => {
        const rows = this.at(ticker, ctx.now) ?? [];
        const out = storedOutputs(ticker, rows);
        if (config.kind !== "consensus") return out;
        const members = config.members.map((m) => {
          const row = rows.find((r) => r.agent === memberAgent(parentStrategyName, m.task));
          return { probability: row?.probability ?? null, confidence: row?.confidence ?? 0, weight: m.weight };
        });
        const kept = out.filter((f) => f.model !== "consensus");
        return [...kept, { ...poolMembers(ticker, members, config), decide: true }];
      },
    };
  }
}
