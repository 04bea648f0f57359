/**
 * The fit's input from the results DB: one item per decision the pool would
 * have made, holding what each member had said by then.
 *
 * - Decision times: where the chosen runs hold stored "consensus" forecasts,
 *   their (market, time) pairs (when the pool was actually used); otherwise
 *   every (market, time) at which any member forecast.
 * - At each, every member's latest forecast at or before that time (as of
 *   then, never later); a decision some member had not yet forecast is
 *   dropped (a pool needs all its members).
 * - Only markets that settled yes or no; each item carries its market's
 *   settle time (`known`), so a walk-forward fold trains only on items whose
 *   forecast was made and whose outcome was known before the fold starts.
 *
 * The stored "consensus" forecasts themselves are left out: the fit builds
 * its own pool from the members.
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
  /** Decisions dropped because a member had not forecast the market by then (settled markets only). */
  dropped: number;
  /** Where the decision times came from. */
  decisionTimes: "consensus" | "members";
}

export async function loadFitItems(c: DuckDBConnection, runIds: readonly string[]): Promise<FitInput> {
  const ids = sqlList(runIds);
  const pairRows = await queryRows(
    c,
    `SELECT DISTINCT run_id, model FROM forecasts
      WHERE run_id IN (${ids}) AND NOT abstained AND probability IS NOT NULL AND model <> 'consensus' ORDER BY run_id, model`,
  );
  const [hasConsensus] = await queryRows(c, `SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id IN (${ids}) AND model = 'consensus'`);
  const fromConsensus = (num(hasConsensus, "n") ?? 0) > 0;
  // One row per decision and member: the member's latest forecast at or before the decision (ties in one ms: the later seq).
  const rows = await queryRows(
    c,
    `WITH member AS (
        SELECT run_id, model, ticker, ts, arg_max(probability, seq) AS p FROM forecasts
         WHERE run_id IN (${ids}) AND NOT abstained AND probability IS NOT NULL AND model <> 'consensus' GROUP BY ALL),
      settled AS (
        SELECT ticker, max(settle_ts) AS known, any_value(CASE result WHEN 'yes' THEN 1 ELSE 0 END) AS y
          FROM outcomes WHERE run_id IN (${ids}) AND result IN ('yes', 'no') GROUP BY ticker),
      times AS (
        SELECT DISTINCT ticker, ts FROM forecasts
         WHERE run_id IN (${ids}) AND ${fromConsensus ? "model = 'consensus'" : "NOT abstained AND probability IS NOT NULL AND model <> 'consensus'"}),
      pairs AS (SELECT DISTINCT run_id, model FROM member),
      grid AS (SELECT t.ticker, t.ts, p.run_id, p.model FROM times t JOIN settled s ON s.ticker = t.ticker CROSS JOIN pairs p)
     SELECT g.ticker, g.ts, g.run_id, g.model, m.p, s.known, s.y
       FROM grid g
       ASOF LEFT JOIN member m ON m.run_id = g.run_id AND m.model = g.model AND m.ticker = g.ticker AND g.ts >= m.ts
       JOIN settled s ON s.ticker = g.ticker
      ORDER BY g.ts, g.ticker, g.run_id, g.model`,
  );
  const pairs = pairRows.map((r) => `${str(r, "run_id")}\u0000${str(r, "model")}`);
  const modelCount = new Map<string, number>();
  for (const r of pairRows) modelCount.set(str(r, "model"), (modelCount.get(str(r, "model")) ?? 0) + 1);
  const nameOf = (runId: string, model: string) => ((modelCount.get(model) ?? 0) > 1 ? `${runId}:${model}` : model);
  const models = pairRows.map((r) => nameOf(str(r, "run_id"), str(r, "model")));
  const members = pairRows.map((r, i) => ({ name: models[i]!, runId: str(r, "run_id"), model: str(r, "model") }));
  const index = new Map(pairs.map((p, i) => [p, i]));

  // Rows come ordered by decision (ts, ticker): group them, in that order.
  const decisions = new Map<string, { ts: number; known: number; y: number; probs: Array<number | undefined> }>();
  for (const r of rows) {
    const ts = num(r, "ts") ?? 0;
    const key = `${str(r, "ticker")}@${ts}`;
    let d = decisions.get(key);
    if (!d) decisions.set(key, (d = { ts, known: num(r, "known") ?? ts, y: num(r, "y") ?? 0, probs: new Array<number | undefined>(models.length).fill(undefined) }));
    const i = index.get(`${str(r, "run_id")}\u0000${str(r, "model")}`);
    const p = num(r, "p");
    if (i !== undefined && p !== null) d.probs[i] = p;
  }
  const items: FitItem[] = [];
  let dropped = 0;
  for (const [key, d] of decisions) {
    if (d.probs.some((p) => p === undefined)) dropped++;
    else items.push({ key, time: d.ts, known: d.known, outcome: d.y === 1 ? 1 : 0, probabilities: d.probs as number[] });
  }
  return { models, members, items, dropped, decisionTimes: fromConsensus ? "consensus" : "members" };
}
