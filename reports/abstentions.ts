/**
 * The report's "Abstentions by reason" table: per run and model, how many
 * forecasts abstained and why, and the share of forecasts the scored
 * figures stand on. A run whose model calls failed shows it here instead of
 * passing for a run with few forecasts.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows, type Row } from "./query.ts";
import { escapeHtml } from "./htmlText.ts";


export async function loadAbstentions(c: DuckDBConnection, ids: string): Promise<Row[]> {
  return queryRows(
    c,
    `WITH t AS (SELECT run_id, model, count(*)::BIGINT AS forecasts, count(*) FILTER (WHERE abstained)::BIGINT AS abstained FROM forecasts WHERE run_id IN (${ids}) GROUP BY ALL),
          r AS (SELECT run_id, model, string_agg(coalesce(abstain_reason, 'unknown') || ' ' || n, ', ' ORDER BY n DESC, abstain_reason) AS reasons
                  FROM (SELECT run_id, model, abstain_reason, count(*) AS n FROM forecasts WHERE run_id IN (${ids}) AND abstained GROUP BY ALL) GROUP BY ALL)
     SELECT t.run_id, t.model, t.forecasts, t.abstained, t.abstained / t.forecasts AS abstain_rate, r.reasons
       FROM t LEFT JOIN r USING (run_id, model) ORDER BY t.run_id, t.model`,
  );
}

export function abstentionsTable(rows: readonly Row[]): string {
  if (rows.length === 0) return "";
  const body = rows
    .map(
      (r) =>
        `<tr data-abstain-run="${escapeHtml(String(r["run_id"]))}" data-abstain-model="${escapeHtml(String(r["model"]))}"><td>${escapeHtml(String(r["run_id"]))}</td><td>${escapeHtml(String(r["model"]))}</td><td class="num">${String(r["forecasts"])}</td><td class="num">${String(r["abstained"])}</td><td class="num">${typeof r["abstain_rate"] === "number" ? `${(100 * r["abstain_rate"]).toFixed(1)}%` : "–"}</td><td>${escapeHtml(String(r["reasons"] ?? "–"))}</td></tr>`,
    )
    .join("");
  return `<h2>Abstentions by reason</h2><p class="caption">Forecasts without a probability, per run and model, and why (budget, malformed_output, network…). Brier, skill and ECE are measured only on the forecasts that were not abstained.</p>
<div class="scroll"><table id="abstentions"><thead><tr><th>Run</th><th>Model</th><th>Forecasts</th><th>Abstained</th><th>Rate</th><th>Reasons</th></tr></thead><tbody>${body}</tbody></table></div>`;
}
