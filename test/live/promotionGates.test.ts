/**
 * The promotion gates `trade --live` checks: refused for a config never
 * replayed, refused for a real replay that fails a gate (naming the gate and
 * its value), accepted for a completed replay whose metrics pass every gate,
 * with a `promotions` row written for each attempt. Production additionally
 * needs credentials and the real-money flag. The passing run is a hand-built
 * results row set (figures chosen here, not produced by the code under test).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import yargs from "yargs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { promoteCommand } from "../../harness/cli/promote.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { authorizeLive, checkPromotion, loadPromotionGates, PromotionGatesConfig } from "../../harness/live/promotionGates.ts";
import { runReplay, type ReplayOutcome } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { configHash, loadRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const DAY = 86_400_000;
const GOOD_HASH = "feedc0ffee123456";

/** A completed replay of GOOD_HASH over 10 simulated days whose metrics pass the default gates. */
async function insertPassingRun(db: Db, runId: string, overrides: Record<string, number> = {}, without: readonly string[] = []): Promise<void> {
  const c = db.connection;
  const config = { name: "good", strategy: { kind: "llm" }, router: { budget: { dailyUsd: "5" } } };
  await c.run(
    `INSERT INTO runs (run_id, kind, config_hash, config_json, status, started_at, finished_at, sim_start, sim_end) VALUES ($1, 'replay', $2, $3, 'completed', 1, 2, $4, $5)`,
    [runId, overrides.hash === undefined ? GOOD_HASH : String(overrides.hash), JSON.stringify(config), 1_700_000_000_000, 1_700_000_000_000 + 10 * DAY],
  );
  const m: Array<[string, string, number, number | null, number | null]> = [
    ["openrouter/deepseek-chat", "scored", 250, null, null],
    ["openrouter/deepseek-chat", "brier_skill", 0.08, overrides.skillLo ?? 0.02, 0.14],
    ["*", "pnl_usd", 42.5, null, null],
    ["*", "ai_spend_usd", overrides.ai ?? 12, null, null],
    ["*", "net_pnl_usd", 42.5 - (overrides.ai ?? 12), null, null],
    ["*", "max_drawdown_fraction", overrides.dd ?? 0.08, null, null],
    ["*", "max_drawdown_usd", 80, null, null],
  ];
  for (const [model, metric, value, lo, hi] of m.filter(([, metric]) => !without.includes(metric))) {
    await c.run(`INSERT INTO metrics (run_id, model, metric, value, lo, hi) VALUES ($1, $2, $3, $4, $5, $6)`, [runId, model, metric, value, lo, hi]);
  }
}

describe("promotion gates", () => {
  let db: Db;
  let dbPath: string;
  let market: ReplayOutcome;
  let marketHash: string;

  beforeAll(async () => {
    dbPath = join(tempDir(), "results.duckdb");
    db = await DuckDbStore.open(dbPath);
    const config = loadRunConfig(join(ROOT, "strategies/configs/market.json"));
    marketHash = configHash(config);
    market = await runReplay({ config, datasetDir: join(ROOT, "datasets/sample"), db });
    await insertPassingRun(db, "good-run");
  });
  afterAll(() => db?.close());

  const promotions = async () =>
    (await db.connection.runAndReadAll(`SELECT config_hash, run_id, decision, environment, gates_json FROM promotions ORDER BY ts, promotion_id`)).getRowObjectsJS();

  it("refuses a config that was never replayed, and records the refusal", async () => {
    const a = await authorizeLive(db.connection, { configHash: "0000000000000000", environment: "demo", hasCredentials: false, confirmedRealMoney: false, now: 1 });
    expect(a.allowed).toBe(false);
    expect(a.reason).toBe("no completed replay of config 0000000000000000 in the results DB: run `tapedeck replay` with it first");
    const rows = await promotions();
    expect(rows.at(-1)).toMatchObject({ config_hash: "0000000000000000", run_id: "", decision: "refused", environment: "demo" });
  });

  it("refuses the market baseline's real replay: its Brier skill against itself is 0, so the interval's lower bound is not above 0", async () => {
    const check = await checkPromotion(db.connection, marketHash, "demo");
    expect(check.runId).toBe(market.runId);
    expect(check.model).toBe("market");
    expect(check.passed).toBe(false);
    const scored = market.metrics.find((m) => m.model === "market" && m.metric === "scored")!.value!;
    expect(check.gates.find((g) => g.gate === "scored_forecasts")).toMatchObject({ value: scored, passed: scored >= 100 });
    expect(check.gates.find((g) => g.gate === "brier_skill_lower_bound")).toMatchObject({ passed: false });
    expect(check.reason).toMatch(/^gate brier_skill_lower_bound failed: (0|n\/a|no value) \(needs > 0/);
    // No trades: nothing earned, so P&L after fees and AI spend is 0, not above it.
    expect(check.gates.find((g) => g.gate === "net_pnl_usd")).toMatchObject({ value: 0, passed: false });
    // A rule strategy spends nothing on AI: that gate passes without a router budget.
    expect(check.gates.find((g) => g.gate === "ai_usd_per_day")).toMatchObject({ value: 0, passed: true });
    const a = await authorizeLive(db.connection, { configHash: marketHash, environment: "demo", hasCredentials: false, confirmedRealMoney: false, now: 2 });
    expect(a.allowed).toBe(false);
    expect(a.reason).toContain("brier_skill_lower_bound");
  });

  it("accepts a completed replay that passes every gate, reports each gate's value, and writes a promotions row", async () => {
    const a = await authorizeLive(db.connection, { configHash: GOOD_HASH, environment: "demo", hasCredentials: false, confirmedRealMoney: false, now: 3 });
    expect(a.allowed).toBe(true);
    expect(a.reason).toBeNull();
    expect(a.check.gates.map((g) => [g.gate, g.value, g.passed])).toEqual([
      ["scored_forecasts", 250, true],
      ["brier_skill_lower_bound", 0.02, true],
      ["net_pnl_usd", 30.5, true],
      ["max_drawdown_fraction", 0.08, true],
      ["ai_usd_per_day", 1.2, true], // $12 over 10 days, budget $5 a day
    ]);
    const row = (await promotions()).at(-1)!;
    expect(row).toMatchObject({ config_hash: GOOD_HASH, run_id: "good-run", decision: "promoted", environment: "demo" });
    expect(JSON.parse(String(row.gates_json)).gates).toHaveLength(5);
  });

  it("production needs credentials and the real-money confirmation on top of the gates", async () => {
    const base = { configHash: GOOD_HASH, environment: "production" as const };
    expect((await authorizeLive(db.connection, { ...base, now: 4, hasCredentials: false, confirmedRealMoney: true })).reason).toMatch(/^production needs Kalshi credentials/);
    expect((await authorizeLive(db.connection, { ...base, now: 5, hasCredentials: true, confirmedRealMoney: false })).reason).toMatch(/--i-understand-this-trades-real-money/);
    const ok = await authorizeLive(db.connection, { ...base, now: 6, hasCredentials: true, confirmedRealMoney: true });
    expect(ok.allowed).toBe(true);
    expect((await promotions()).filter((r) => r.environment === "production").map((r) => r.decision)).toEqual(["refused", "refused", "promoted"]);
  });

  it("names the gate and value that fail: drawdown, AI spend over the daily budget, a stricter gates file", async () => {
    await insertPassingRun(db, "deep-dd", { hash: 111, dd: 0.31 });
    expect((await checkPromotion(db.connection, "111", "demo")).reason).toBe("gate max_drawdown_fraction failed: 0.31 (needs < 0.25; max drawdown $80)");
    await insertPassingRun(db, "pricey", { hash: 222, ai: 60 }); // $6 a day against $5; P&L after AI still −17.5
    const pricey = await checkPromotion(db.connection, "222", "demo");
    expect(pricey.gates.find((g) => g.gate === "ai_usd_per_day")).toMatchObject({ value: 6, passed: false, threshold: "≤ 5 (router daily budget 5)" });
    expect(pricey.reason).toBe("gate net_pnl_usd failed: -17.5 (needs > 0; P&L after fees 42.5 − AI 60)");
    const strict = PromotionGatesConfig.parse({ minScoredForecasts: 500 });
    expect((await checkPromotion(db.connection, GOOD_HASH, "demo", strict)).reason).toBe("gate scored_forecasts failed: 250 (needs ≥ 500; model openrouter/deepseek-chat)");
    const bad = join(tempDir(), "gates.json");
    writeFileSync(bad, JSON.stringify({ maxDrawdownFraction: 2 }));
    expect(() => loadPromotionGates(bad)).toThrow(`${bad}: field maxDrawdownFraction:`);
  });

  it("a figure the run lacks fails its gate instead of passing as 0", async () => {
    await insertPassingRun(db, "no-dd", { hash: 333 }, ["max_drawdown_fraction"]);
    const noDd = await checkPromotion(db.connection, "333", "demo");
    expect(noDd.gates.find((g) => g.gate === "max_drawdown_fraction")).toMatchObject({ value: null, passed: false, detail: "the run has no max_drawdown_fraction metric" });
    expect(noDd.passed).toBe(false);
    expect(noDd.reason).toBe("gate max_drawdown_fraction failed: no value (needs < 0.25; the run has no max_drawdown_fraction metric)");
    await insertPassingRun(db, "no-ai", { hash: 444 }, ["ai_spend_usd", "net_pnl_usd"]);
    const noAi = await checkPromotion(db.connection, "444", "demo");
    expect(noAi.gates.filter((g) => !g.passed).map((g) => [g.gate, g.value])).toEqual([
      ["net_pnl_usd", null],
      ["ai_usd_per_day", null],
    ]);
  });

  it("`tapedeck promote <run>` shows the gates and values (--json), records with --record, exits 3 when not promotable", async () => {
    db.close();
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const cli = (args: string[]) => yargs(args).command(promoteCommand).strict().fail((msg, err) => { throw err ?? new Error(msg); }).parseAsync();
    try {
      await cli(["promote", "good-run", "--db", dbPath, "--json", "--record"]);
      const v = JSON.parse(written.join("")) as { passed: boolean; promotionId: string; gates: Array<{ gate: string; value: number }> };
      expect(v.passed).toBe(true);
      expect(v.promotionId).toMatch(/^promo-/);
      expect(v.gates.map((g) => g.gate)).toEqual(["scored_forecasts", "brier_skill_lower_bound", "net_pnl_usd", "max_drawdown_fraction", "ai_usd_per_day"]);
      written.length = 0;
      process.exitCode = 0;
      await cli(["promote", market.runId, "--db", dbPath]);
      expect(process.exitCode).toBe(3);
      expect(written.join("")).toMatch(/NOT PROMOTABLE: gate brier_skill_lower_bound failed/);
      expect(written.join("")).toMatch(/scored_forecasts/);
    } finally {
      process.exitCode = 0;
      spy.mockRestore();
      db = await DuckDbStore.open(dbPath);
    }
    expect((await promotions()).filter((r) => r.run_id === "good-run" && r.decision === "promoted").length).toBeGreaterThanOrEqual(2);
  });
});
