/**
 * Promotion gates: what a config must have shown in replay before
 * `tapedeck trade <config> --live` may place real orders with it. The results
 * DB must hold a COMPLETED replay of the EXACT config hash, and that run's
 * metrics must pass every gate. Each gate's value is reported, so a refusal
 * names the gate and the figure that failed it.
 *
 * | gate                     | passes when (defaults)                                                 |
 * |--------------------------|-------------------------------------------------------------------------|
 * | scored_forecasts         | ≥ minScoredForecasts (100) forecasts scored against outcomes           |
 * | brier_skill_lower_bound  | the 95% bootstrap interval of Brier skill vs the market has lo > 0      |
 * | net_pnl_usd              | P&L after fees and AI spend > minNetPnlUsd (0)                          |
 * | max_drawdown_fraction    | max drawdown < maxDrawdownFraction (0.25) of peak equity                |
 * | ai_usd_per_day           | AI spend per simulated day ≤ the router's daily budget (no AI spend, or a budget, required) |
 *
 * The gates are not part of the config (changing a threshold must not change
 * the config hash the replay was run under); they come from a gates file or
 * the defaults. `checkPromotion` reads; `recordPromotion` writes a
 * `promotions` row (when, config hash, run id, gates and values, decision,
 * environment); `authorizeLive` is the one call `trade --live` makes.
 */
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import type { KalshiEnvironmentName } from "./kalshi/environment.ts";

export const PromotionGatesConfig = z
  .object({
    minScoredForecasts: z.number().int().min(1).default(100),
    /** Brier skill's 95% lower bound must be above this. */
    minBrierSkillLowerBound: z.number().min(-1).max(1).default(0),
    /** P&L after fees and AI spend must be above this, dollars. */
    minNetPnlUsd: z.number().default(0),
    /** Max drawdown as a fraction of peak equity must be below this. */
    maxDrawdownFraction: z.number().gt(0).max(1).default(0.25),
    /** AI spend per simulated day may be at most this share of the router's daily budget. */
    maxAiBudgetShare: z.number().gt(0).max(1).default(1),
  })
  .strict();
export type PromotionGatesConfig = z.infer<typeof PromotionGatesConfig>;
export const DEFAULT_PROMOTION_GATES: PromotionGatesConfig = PromotionGatesConfig.parse({});

export function loadPromotionGates(path: string | undefined): PromotionGatesConfig {
  if (path === undefined) return DEFAULT_PROMOTION_GATES;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: cannot read gates (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = PromotionGatesConfig.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${path}: field ${i?.path.join(".") || "(root)"}: ${i?.message ?? "invalid"}`);
  }
  return parsed.data;
}

export type GateName = "scored_forecasts" | "brier_skill_lower_bound" | "net_pnl_usd" | "max_drawdown_fraction" | "ai_usd_per_day";

export interface GateResult {
  gate: GateName;
  /** The run's figure (null when the run has none). */
  value: number | null;
  /** What it is held against, in words, e.g. "> 0", "≥ 100", "≤ 5 (router daily budget)". */
  threshold: string;
  passed: boolean;
  detail: string | null;
}

export interface PromotionCheck {
  passed: boolean;
  configHash: string;
  /** The completed replay judged (the newest), or null when there is none. */
  runId: string | null;
  /** The model whose forecasts were scored. */
  model: string | null;
  environment: KalshiEnvironmentName;
  gates: GateResult[];
  /** One line: why not (names the first failing gate and its value), or null when passed. */
  reason: string | null;
}

async function rows<T>(c: DuckDBConnection, schema: z.ZodType<T>, what: string, sql: string, params: Array<string | number>): Promise<T[]> {
  return (await c.runAndReadAll(sql, params)).getRowObjectsJS().map((row, i) => {
    const r = schema.safeParse(row);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new Error(`results DB ${what} row ${i + 1}: field ${issue?.path.join(".") || "(row)"}: ${issue?.message ?? "invalid"}`);
  });
}
/** DuckDB hands DOUBLE as number and BIGINT as bigint: both read as a number. */
const Num = z.union([z.number(), z.bigint()]).transform(Number);
const RunRow = z.object({
  run_id: z.string(),
  kind: z.string(),
  status: z.string(),
  config_hash: z.string(),
  config_json: z.string(),
  sim_start: Num.nullable(),
  sim_end: Num.nullable(),
});
const MetricRow = z.object({ model: z.string(), metric: z.string(), value: Num.nullable(), lo: Num.nullable(), hi: Num.nullable() });
type MetricRow = z.infer<typeof MetricRow>;

/** The newest completed replay of this exact config hash, judged against the gates. */
export async function checkPromotion(
  c: DuckDBConnection,
  configHash: string,
  environment: KalshiEnvironmentName,
  gates: PromotionGatesConfig = DEFAULT_PROMOTION_GATES,
  opts: { cwd?: string } = {},
): Promise<PromotionCheck> {
  const runs = await rows(
    c,
    z.object({ run_id: z.string() }),
    "runs",
    `SELECT run_id FROM runs WHERE config_hash = $1 AND kind IN ('replay', 'sweep') AND status = 'completed' ORDER BY finished_at DESC NULLS LAST, started_at DESC LIMIT 1`,
    [configHash],
  );
  if (runs.length === 0) {
    return { passed: false, configHash, runId: null, model: null, environment, gates: [], reason: `no completed replay of config ${configHash} in the results DB: run \`tapedeck replay\` with it first` };
  }
  return checkRun(c, runs[0]!.run_id, environment, gates, opts);
}

/** Judge one run (what `tapedeck promote <run>` shows). */
export async function checkRun(
  c: DuckDBConnection,
  runId: string,
  environment: KalshiEnvironmentName,
  gates: PromotionGatesConfig = DEFAULT_PROMOTION_GATES,
  opts: { cwd?: string } = {},
): Promise<PromotionCheck> {
  const [run] = await rows(c, RunRow, "runs", `SELECT run_id, kind, status, config_hash, config_json, sim_start, sim_end FROM runs WHERE run_id = $1`, [runId]);
  if (!run) throw new Error(`run ${runId} is not in the results database`);
  const configHash = run.config_hash;
  const base = { configHash, runId, environment };
  // A sweep variant is a replay of its own config; a redecide reuses another config's forecasts, so it cannot vouch for this one.
  if ((run.kind !== "replay" && run.kind !== "sweep") || run.status !== "completed") {
    return { ...base, passed: false, model: null, gates: [], reason: `run ${runId} is a ${run.status} ${run.kind} run; only a completed replay can promote a config` };
  }
  const metrics = await rows(c, MetricRow, "metrics", `SELECT model, metric, value, lo, hi FROM metrics WHERE run_id = $1`, [runId]);
  const get = (model: string, metric: string) => metrics.find((m) => m.model === model && m.metric === metric);
  const model = actingModel(metrics);

  const out: GateResult[] = [];
  // 1. enough scored forecasts
  const scored = model === null ? 0 : (get(model, "scored")?.value ?? 0);
  out.push({ gate: "scored_forecasts", value: scored, threshold: `≥ ${gates.minScoredForecasts}`, passed: scored >= gates.minScoredForecasts, detail: model === null ? "no forecasts" : `model ${model}` });
  // 2. Brier skill against the market, lower bound of the 95% interval
  const skill = model === null ? undefined : get(model, "brier_skill");
  const lo = skill?.lo ?? null;
  out.push({
    gate: "brier_skill_lower_bound",
    value: lo,
    threshold: `> ${gates.minBrierSkillLowerBound}`,
    passed: lo !== null && lo > gates.minBrierSkillLowerBound,
    detail: skill === undefined ? "no Brier skill (no market prices with the forecasts?)" : lo === null ? "no interval (bootstrapSamples 0?)" : `skill ${fmt(skill.value)} [${fmt(lo)}, ${fmt(skill.hi)}]`,
  });
  // A figure the run lacks fails its gate (value null): a gate never passes on a figure it could not read.
  const missing = (metric: string) => `the run has no ${metric} metric`;
  // 3. P&L after fees and AI spend
  const pnl = get("*", "pnl_usd")?.value ?? null;
  const ai = get("*", "ai_spend_usd")?.value ?? null;
  const net = get("*", "net_pnl_usd")?.value ?? (pnl !== null && ai !== null ? pnl - ai : null);
  out.push({
    gate: "net_pnl_usd",
    value: net,
    threshold: `> ${gates.minNetPnlUsd}`,
    passed: net !== null && net > gates.minNetPnlUsd,
    detail: net === null ? missing(pnl === null ? "pnl_usd" : "ai_spend_usd") : `P&L after fees ${fmt(pnl)} − AI ${fmt(ai)}`,
  });
  // 4. drawdown
  const dd = get("*", "max_drawdown_fraction")?.value ?? null;
  out.push({
    gate: "max_drawdown_fraction",
    value: dd,
    threshold: `< ${gates.maxDrawdownFraction}`,
    passed: dd !== null && dd < gates.maxDrawdownFraction,
    detail: dd === null ? missing("max_drawdown_fraction") : `max drawdown $${fmt(get("*", "max_drawdown_usd")?.value ?? null)}`,
  });
  // 5. AI cost per simulated day against the router's daily budget
  const days = Math.max(1 / 24, ((run.sim_end ?? 0) - (run.sim_start ?? 0)) / 86_400_000);
  const perDay = ai === null ? null : ai / days;
  const budget = routerDailyBudgetUsd(run.config_json, opts.cwd);
  if (ai === null || perDay === null) {
    out.push({ gate: "ai_usd_per_day", value: null, threshold: budget.usd === null ? "= 0 (no router daily budget)" : `≤ ${fmt(budget.usd * gates.maxAiBudgetShare)}`, passed: false, detail: missing("ai_spend_usd") });
  } else if (budget.usd === null) {
    out.push({ gate: "ai_usd_per_day", value: perDay, threshold: "= 0 (no router daily budget)", passed: ai === 0, detail: budget.why });
  } else {
    const cap = budget.usd * gates.maxAiBudgetShare;
    out.push({ gate: "ai_usd_per_day", value: perDay, threshold: `≤ ${fmt(cap)} (router daily budget ${fmt(budget.usd)})`, passed: perDay <= cap, detail: `$${fmt(ai)} over ${fmt(days)} simulated days` });
  }

  const failed = out.find((g) => !g.passed);
  return {
    ...base,
    passed: failed === undefined,
    model,
    gates: out,
    reason: failed ? `gate ${failed.gate} failed: ${failed.value === null ? "no value" : fmt(failed.value)} (needs ${failed.threshold}${failed.detail ? `; ${failed.detail}` : ""})` : null,
  };
}

/** The run's only model, else its "consensus", else the one with the most scored forecasts. */
function actingModel(metrics: readonly MetricRow[]): string | null {
  const scored = metrics.filter((m) => m.model !== "*" && m.metric === "scored").map((m) => ({ model: m.model, n: m.value ?? 0 }));
  if (scored.length === 0) return null;
  if (scored.length === 1) return scored[0]!.model;
  if (scored.some((s) => s.model === "consensus")) return "consensus";
  scored.sort((a, b) => b.n - a.n || (a.model < b.model ? -1 : 1));
  return scored[0]!.model;
}

const RouterBudget = z.object({ budget: z.object({ dailyUsd: z.union([z.number(), z.string()]).optional() }).optional() });

/** The router's daily budget in dollars from a stored config (inline router, or the path it names). */
function routerDailyBudgetUsd(configJson: string, cwd = process.cwd()): { usd: number | null; why: string } {
  let config: unknown;
  try {
    config = JSON.parse(configJson);
  } catch {
    return { usd: null, why: "stored config is not JSON" };
  }
  const router = (config as { router?: unknown }).router;
  if (router === undefined) return { usd: null, why: "no router (a rule strategy spends nothing)" };
  let routerObj: unknown = router;
  if (typeof router === "string") {
    try {
      routerObj = JSON.parse(readFileSync(router.startsWith("/") ? router : `${cwd}/${router}`, "utf8"));
    } catch {
      return { usd: null, why: `router file ${router} unreadable` };
    }
  }
  const parsed = RouterBudget.safeParse(routerObj);
  const daily = parsed.success ? parsed.data.budget?.dailyUsd : undefined;
  if (daily === undefined) return { usd: null, why: "the router sets no budget.dailyUsd" };
  const usd = Number(daily);
  return Number.isFinite(usd) ? { usd, why: "" } : { usd: null, why: `budget.dailyUsd ${String(daily)} is not a number` };
}

function fmt(v: number | null): string {
  if (v === null) return "n/a";
  return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

/** Write a `promotions` row for a check (decision promoted or refused). Returns its id. */
export async function recordPromotion(c: DuckDBConnection, check: PromotionCheck, now: number = Date.now()): Promise<string> {
  const id = `promo-${randomUUID()}`;
  await c.run(
    `INSERT INTO promotions (promotion_id, ts, config_hash, run_id, gates_json, decision, environment) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, now, check.configHash, check.runId ?? "", JSON.stringify({ model: check.model, gates: check.gates, reason: check.reason }), check.passed ? "promoted" : "refused", check.environment],
  );
  return id;
}

export interface LiveAuthorization {
  allowed: boolean;
  check: PromotionCheck;
  /** Why not, one line (the gate and its value, or the missing credentials / confirmation). */
  reason: string | null;
  promotionId: string;
}

/**
 * The check `tapedeck trade <config> --live` makes before it places an order:
 * the config's replay passed the gates; production also needs credentials and
 * the explicit real-money confirmation; demo needs neither. Every attempt,
 * allowed or refused, is a `promotions` row.
 */
export async function authorizeLive(
  c: DuckDBConnection,
  o: {
    configHash: string;
    environment: KalshiEnvironmentName;
    hasCredentials: boolean;
    confirmedRealMoney: boolean;
    gates?: PromotionGatesConfig;
    cwd?: string;
    now?: number;
  },
): Promise<LiveAuthorization> {
  const check = await checkPromotion(c, o.configHash, o.environment, o.gates ?? DEFAULT_PROMOTION_GATES, o.cwd === undefined ? {} : { cwd: o.cwd });
  let reason = check.reason;
  if (reason === null && o.environment === "production") {
    if (!o.hasCredentials) reason = "production needs Kalshi credentials (KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY or KALSHI_PRIVATE_KEY_PATH)";
    else if (!o.confirmedRealMoney) reason = "production trades real money: add --i-understand-this-trades-real-money";
  }
  const final: PromotionCheck = { ...check, passed: reason === null, reason };
  const promotionId = await recordPromotion(c, final, o.now);
  return { allowed: reason === null, check: final, reason, promotionId };
}
