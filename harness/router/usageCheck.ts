/**
 * Usage numbers and provider-reported cost are data from outside, checked
 * like any input before they reach the budget, the ledger or a BIGINT
 * column. Tokens must be non-negative integers no larger than
 * MAX_USAGE_TOKENS; a reported cost must be a finite, non-negative dollar
 * amount no larger than MAX_REPORTED_COST_USD. Anything else is an anomaly:
 * the call is charged its reserved worst case (from the price table) and
 * the odd figure is replaced by the worst-case one in the call log, so one
 * silly number can neither crash a run nor give money back to a budget.
 *
 * An answer with more output tokens than max_tokens asked for is flagged
 * `over_cap`: its cost is computed but the budget is charged at most the
 * reservation (what the request allowed; tokens past the cap were not
 * asked for), and the router counts it.
 */
import type { ProviderResult, Usage } from "../../providers/provider.ts";
import { costNusd, type ModelPrice } from "./pricing.ts";

/** Bound on any one token count (no model has a context near ten million tokens). */
export const MAX_USAGE_TOKENS = 10_000_000;
/** Bound on a provider-reported cost of one call, in dollars. */
export const MAX_REPORTED_COST_USD = 10_000;

export type UsageAnomaly = "bad_tokens" | "bad_reported_cost" | "no_usage" | "over_cap" | "above_reservation";

export interface CheckedUsage {
  /** Usage fit for the call log (odd figures replaced by their worst case). */
  usage: Usage;
  /** What the budget is charged: never above the reservation. */
  chargeNusd: number;
  /** The provider's own cost, when it reported a valid one (kept in reported_cost_nusd). */
  reportedNusd?: number;
  anomalies: UsageAnomaly[];
  /** The cost the figures would give before the reservation capped it (for the log). */
  claimedNusd: number;
}

function validCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_USAGE_TOKENS;
}

/**
 * Check a paid or free call's usage. `promptBytes` and `maxTokens` give the
 * worst case the reservation was computed from; `reservedNusd` is that
 * reservation.
 */
export function checkUsage(result: ProviderResult, price: ModelPrice, promptBytes: number, maxTokens: number, reservedNusd: number): CheckedUsage {
  const anomalies: UsageAnomaly[] = [];
  const raw = result.usage as Partial<Record<keyof Usage, unknown>> | undefined;
  const input = validCount(raw?.inputTokens) ? raw.inputTokens : undefined;
  const output = validCount(raw?.outputTokens) ? raw.outputTokens : undefined;
  const cached = validCount(raw?.cachedInputTokens) ? raw.cachedInputTokens : undefined;
  let worst = false;
  if (input === undefined || output === undefined || cached === undefined) {
    anomalies.push("bad_tokens");
    worst = true;
  }
  const usage: Usage = {
    inputTokens: input ?? promptBytes,
    outputTokens: output ?? maxTokens,
    cachedInputTokens: Math.min(cached ?? 0, input ?? promptBytes),
  };
  const paid = price.inputPusd > 0 || price.outputPusd > 0 || price.cachedInputPusd > 0;
  if (!worst && paid && usage.inputTokens === 0 && usage.outputTokens === 0 && result.text.length > 0) {
    // An answer arrived but no usage did: nothing proves the call was free.
    anomalies.push("no_usage");
    worst = true;
  }
  if (usage.outputTokens > maxTokens) anomalies.push("over_cap");
  let reportedNusd: number | undefined;
  const reported = result.reportedCostUsd as unknown;
  if (reported !== undefined) {
    if (typeof reported === "number" && Number.isFinite(reported) && reported >= 0 && reported <= MAX_REPORTED_COST_USD) reportedNusd = Math.round(reported * 1e9);
    else {
      anomalies.push("bad_reported_cost");
      worst = true;
    }
  }
  let claimedNusd = reservedNusd;
  if (!worst) {
    try {
      claimedNusd = reportedNusd ?? costNusd(price, usage);
    } catch {
      anomalies.push("bad_tokens"); // figures within bounds whose cost still overflows: charge the worst case
    }
  }
  if (claimedNusd > reservedNusd) anomalies.push("above_reservation");
  return { usage, chargeNusd: Math.min(claimedNusd, reservedNusd), ...(reportedNusd !== undefined ? { reportedNusd } : {}), anomalies, claimedNusd };
}
