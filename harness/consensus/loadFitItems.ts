/**
 * The fit's input from the results DB: for each member (a model in one of the
 * chosen runs) its last forecast before each market settled, joined to the
 * market's outcome and settle time. Only markets every member forecast are
 * kept (a pool needs all its members). The stored "consensus" forecasts are
 * left out: the fit builds its own pool from the members.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { num, queryRows, sqlList, str } from "../../reports/query.ts";
import type { FitItem } from "./fitWeights.ts";

export interface FitInput {
  /** Member names: the model id, or run:model where one model appears in several runs. */
  models: string[];
  /** Each member's run and forecast model ("<endpoint>/<model>"), in the order of `models`. */
  members: Array<{ name: string; runId: string; model: string }>;
  items: FitItem[];
  /** Markets dropped because a member had no forecast for them or they did not settle yes/no. */
  dropped: number;
}

export async function loadFitItems(c: DuckDBConnection, runIds: readonly string[]): Promise<FitInput> {
  const ids = sqlList(runIds);
  const last = await queryRows(
    c,
    `SELECT run_id, model, ticker, arg_max(probability, ts * 1000000 + seq) AS p
     FROM forecasts WHERE run_id IN (${ids}) AND NOT abstained AND probability IS NOT NULL AND model <> 'consensus'
     GROUP BY ALL ORDER BY run_id, model, ticker`,
  );
  const outcomes = await queryRows(
    c,
    `SELECT ticker, max(settle_ts) AS t, any_value(CASE result WHEN 'yes' THEN 1 ELSE 0 END) AS y
     FROM outcomes WHERE run_id IN (${ids}) AND result IN ('yes', 'no') GROUP BY ticker`,
  );
  const pairs = [...new Set(last.map((r) => `${str(r, "run_id")}\u0000${str(r, "model")}`))].sort();
  const modelCount = new Map<string, number>();
  for (const pair of pairs) {
    const model = pair.split("\u0000")[1] ?? "";
    modelCount.set(model, (modelCount.get(model) ?? 0) + 1);
  }
  const nameOf = (runId: string, model: string) => ((modelCount.get(model) ?? 0) > 1 ? `${runId}:${model}` : model);
  const models = pairs.map((p) => {
    const [runId = "", model = ""] = p.split("\u0000");
    return nameOf(runId, model);
  });
  const members = pairs.map((p, i) => {
    const [runId = "", model = ""] = p.split("\u0000");
    return { name: models[i]!, runId, model };
  });
  const index = new Map(models.map((m, i) => [m, i]));
  const byTicker = new Map<string, Array<number | undefined>>();
  for (const r of last) {
    const i = index.get(nameOf(str(r, "run_id"), str(r, "model")));
    if (i === undefined) continue;
    const row = byTicker.get(str(r, "ticker")) ?? new Array<number | undefined>(models.length).fill(undefined);
    row[i] = num(r, "p") ?? undefined;
    byTicker.set(str(r, "ticker"), row);
  }
  const items: FitItem[] = [];
  let dropped = 0;
  const settled = new Map(outcomes.map((o) => [str(o, "ticker"), o]));
  for (const [ticker, probs] of byTicker) {
    const o = settled.get(ticker);
    if (!o || probs.some((p) => p === undefined)) {
      dropped++;
      continue;
    }
    items.push({ key: ticker, time: num(o, "t") ?? 0, outcome: num(o, "y") === 1 ? 1 : 0, probabilities: probs as number[] });
  }
  return { models, members, items, dropped };
}
