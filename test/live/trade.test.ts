/**
 * `tapedeck trade` on the loopback fake exchange (`--fake-exchange`, no
 * keys): a paper session is a run like any other (runs, forecasts, outcomes,
 * equity, metrics, digest); `--live` is refused for an unreplayed config and
 * for one that failed a gate, naming the gate and its value, and accepted
 * for one that passed, on demo, each attempt a `promotions` row.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tradeCommand } from "../../harness/cli/trade.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { configHash, loadRunConfig } from "../../strategies/runConfig.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";
import { validateDataset } from "../../datasets/validate.ts";

const dir = tempDir("td-trade-");
// The market baseline, deciding on every event (the bundled config waits 15 minutes between decisions per market).
const CONFIG = join(dir, "market-every-event.json");
writeFileSync(CONFIG, JSON.stringify({ name: "market-every-event", strategy: { kind: "market" }, filter: { minIntervalMs: 0 } }));
const dbPath = join(dir, "results.duckdb");

async function trade(extra: Record<string, unknown>): Promise<void> {
  const args = {
    _: ["trade"],
    $0: "tapedeck",
    config: CONFIG,
    live: false,
    iUnderstandThisTradesRealMoney: false,
    series: [],
    markets: [],
    news: [],
    reconcile: "report",
    reconcileEvery: 30,
    keepResting: false,
    db: dbPath,
    json: true,
    env: "demo",
    fakeExchange: true,
    fakeSteps: 10,
    fakeStepMs: 30,
    ...extra,
  };
  const write = process.stdout.write.bind(process.stdout);
  // The outcome JSON goes to stdout; keep the test output readable.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await tradeCommand.handler(args as never);
  } finally {
    process.stdout.write = write;
  }
}

async function rows(sql: string, params: string[] = []): Promise<Record<string, unknown>[]> {
  const db = await DuckDbStore.open(dbPath);
  try {
    return (await db.connection.runAndReadAll(sql, params)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe("tapedeck trade", () => {
  it("paper-trades the live feed into a paper run written like any run (and records what it saw)", async () => {
    const tape = join(dir, "tape");
    await trade({ record: tape });
    const [run] = await rows(`SELECT run_id, kind, status, digest, config_hash, dataset_name FROM runs WHERE kind = 'paper'`);
    expect(run).toMatchObject({ kind: "paper", status: "completed", config_hash: configHash(loadRunConfig(CONFIG)), dataset_name: "live:KXDEMO" });
    expect(run!["digest"]).toMatch(/^[0-9a-f]{64}$/);
    const id = String(run!["run_id"]);
    // Both scripted markets settled during the session: their outcomes are stored, the forecasts scored against them.
    const outcomes = await rows(`SELECT ticker, result FROM outcomes WHERE run_id = $1 ORDER BY ticker`, [id]);
    expect(outcomes).toEqual([
      { ticker: "KXDEMO-26JAN01-M1", result: "yes" },
      { ticker: "KXDEMO-26JAN01-M2", result: "no" },
    ]);
    const [f] = await rows(`SELECT count(*)::DOUBLE AS n FROM forecasts WHERE run_id = $1`, [id]);
    expect(f!["n"]).toBeGreaterThan(0);
    // Which event each market belongs to, as the feed listed it: intervals resample whole events, as in a replay.
    expect(await rows(`SELECT ticker, event_ticker FROM market_events WHERE run_id = $1 ORDER BY ticker`, [id])).toEqual([
      { ticker: "KXDEMO-26JAN01-M1", event_ticker: "KXDEMO-26JAN01" },
      { ticker: "KXDEMO-26JAN01-M2", event_ticker: "KXDEMO-26JAN01" },
    ]);
    // The same metrics a replay gets.
    const metrics = new Set((await rows(`SELECT DISTINCT metric FROM metrics WHERE run_id = $1`, [id])).map((m) => m["metric"]));
    for (const m of ["forecasts", "scored", "brier", "pnl_usd", "max_drawdown_usd", "ai_spend_usd", "net_pnl_usd"]) expect(metrics).toContain(m);
    // --record kept the session's tape: a valid dataset with both markets' books, settled as they were.
    const report = await validateDataset(tape);
    expect(report.problems).toEqual([]);
    expect(report.manifest!.tables.markets.rows).toBe(2);
    expect(report.manifest!.capabilities).toMatchObject({ hasOrderbook: true, hasBidAsk: true });
  }, 20_000);

  it("closes its recording when the session fails to start (the journal ends with the recorder's closing note)", async () => {
    const tape = join(dir, "tape-failed");
    await expect(trade({ record: tape, markets: ["KXNOPE-26JAN01-Z"] })).rejects.toThrow(/KXNOPE-26JAN01-Z/);
    const journal = readdirSync(join(tape, "recording")).sort();
    const lines = readFileSync(join(tape, "recording", journal.at(-1)!), "utf8").trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { t: string }).t)).toEqual(["session", "alive"]);
  }, 20_000);

  describe("--live and the promotion gates", () => {
    let db: Db | null = null;
    const gatesFile = join(dir, "gates.json");
    beforeAll(() => {
      writeFileSync(gatesFile, JSON.stringify({ minScoredForecasts: 1, minBrierSkillLowerBound: -1, minNetPnlUsd: -1, maxDrawdownFraction: 1 }));
    });
    afterAll(() => db?.close());

    it("refuses a config with no completed replay, and writes the refusal", async () => {
      await expect(trade({ live: true })).rejects.toThrow(/--live refused: no completed replay of config [0-9a-f]+/);
      const [p] = await rows(`SELECT decision, environment, config_hash FROM promotions ORDER BY ts DESC LIMIT 1`);
      expect(p).toMatchObject({ decision: "refused", environment: "demo", config_hash: configHash(loadRunConfig(CONFIG)) });
    }, 20_000);

    it("refuses a replayed config that failed a gate, naming the gate and its value; accepts it under gates it passed", async () => {
      const ds = await writeTinyDataset(join(dir, "ds"), {
        markets: [market("KXT-A", { result: "yes" }), market("KXT-B", { result: "no" })],
        quotes: [
          { ts: 1_000, ticker: "KXT-A", yes_bid: 0.6, yes_ask: 0.62, last_price: null, volume: 1000, open_interest: null },
          { ts: 1_000, ticker: "KXT-B", yes_bid: 0.3, yes_ask: 0.32, last_price: null, volume: 1000, open_interest: null },
        ],
      });
      db = await DuckDbStore.open(dbPath);
      const replay = await runReplay({ config: loadRunConfig(CONFIG), datasetDir: ds, db });
      db.close();
      db = null;
      expect(replay.status).toBe("completed");
      // Default gates: two scored forecasts are far from the 100 required.
      await expect(trade({ live: true })).rejects.toThrow(/--live refused: .*scored_forecasts.*\b2\b/);
      // Gates it passes: the session places its orders through the Kalshi broker on the fake exchange (demo).
      await trade({ live: true, gates: gatesFile });
      const [p] = await rows(`SELECT decision, environment, run_id, gates_json FROM promotions ORDER BY ts DESC LIMIT 1`);
      expect(p).toMatchObject({ decision: "promoted", environment: "demo", run_id: replay.runId });
      expect(JSON.parse(String(p!["gates_json"])).gates.map((g: { gate: string }) => g.gate)).toContain("scored_forecasts");
      const [live] = await rows(`SELECT kind, status FROM runs WHERE kind = 'live'`);
      expect(live).toMatchObject({ kind: "live", status: "completed" });

      // The kill switch file present: every resting order cancelled, trading stops before any decision; the run says why.
      const killFile = join(dir, "KILL");
      writeFileSync(killFile, "");
      await trade({ live: true, gates: gatesFile, killFile, fakeSteps: 200 });
      const [killed] = await rows(`SELECT status, error FROM runs WHERE kind = 'live' ORDER BY started_at DESC LIMIT 1`);
      expect(killed).toMatchObject({ status: "interrupted" });
      expect(String(killed!["error"])).toContain(`kill switch: kill switch file ${killFile}`);
    }, 40_000);
  });
});
