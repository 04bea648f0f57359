/**
 * The paper broker end to end through the pipeline: Kelly-sized orders,
 * fills by the named fill models, Kalshi's fees and rounding, settlement
 * (and the refund of a void market), all in exact units.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { IntervalFilter } from "../../harness/filter/eventFilter.ts";
import { Pipeline } from "../../harness/pipeline.ts";
import { createReplayExecution } from "../../harness/portfolio/createReplayExecution.ts";
import { RiskLimitsSchema } from "../../harness/sizing/riskLimits.ts";
import { KellySizer } from "../../harness/sizing/sizer.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import type { Strategy } from "../../strategies/strategy.ts";
import { market, tempDir, writeTinyDataset, type TinyDatasetRows } from "../fixtures/tinyDataset.ts";

const H = 3_600_000;
const fixed = (p: number): Strategy => ({
  name: "fixed",
  forecast: (ticker) => [{ ticker, model: "fixed", probability: p, confidence: 0.9 }],
});

let db: Db | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

async function replay(rows: TinyDatasetRows, strategy: Strategy) {
  const dir = tempDir();
  await writeTinyDataset(join(dir, "ds"), rows);
  db = await DuckDbStore.open(join(dir, "results.duckdb"));
  const { store } = await DuckDbStore.forRun(
    db,
    { runId: "t", parentRunId: null, kind: "replay", label: null, configHash: "x", configJson: "{}", datasetName: "tiny", datasetHash: null, datasetPath: null, codeVersion: "test" },
    false,
  );
  const source = await ReplaySource.open(join(dir, "ds"));
  const execution = createReplayExecution({
    runId: "t",
    config: PaperBrokerConfig.parse({ bankrollUsd: 1000 }),
    store,
    dataset: { hasBidAsk: source.manifest.capabilities.hasBidAsk, hasOrderbook: source.manifest.capabilities.hasOrderbook },
  });
  await new Pipeline({
    clock: new SimulatedClock(),
    source,
    filter: new IntervalFilter(0),
    strategy,
    sizer: new KellySizer(RiskLimitsSchema.parse({})),
    execution,
    store,
  }).run();
  await store.flush();
  await source.close();
  const q = async (sql: string) => (await db!.connection.runAndReadAll(sql)).getRowObjectsJS();
  return { execution, q };
}

describe("paper broker with the quote fill model", () => {
  it("buys at the ask, charges Kalshi's fee rounded up, and settles at the result", async () => {
    const quote = (ts: number, ticker: string) => ({ ts, ticker, yes_bid: 0.48, yes_ask: 0.5, last_price: null, volume: 1000, open_interest: null });
    const { execution, q } = await replay(
      {
        markets: [market("WIN", { close_time: 10 * H, result: "yes" }), market("VOID", { close_time: 10 * H, result: null })],
        quotes: [quote(H, "WIN"), quote(H, "VOID"), quote(H + 1000, "WIN"), quote(H + 1000, "VOID")],
      },
      fixed(0.9),
    );
    // Quarter Kelly would bet 19.8% of $1,000; the 3% position cap binds: $30 budget.
    // 57 contracts × $0.50 + fee ceil(0.07 × 57 × 0.25) = $28.50 + $1.00 ≤ $30; 58 would cost $30.02.
    const fills = await q(`SELECT ticker, price_units::DOUBLE AS price, contracts::DOUBLE AS n, fee_units::DOUBLE AS fee FROM fills ORDER BY ticker`);
    expect(fills).toEqual([
      { ticker: "VOID", price: 5000, n: 57, fee: 9975 },
      { ticker: "WIN", price: 5000, n: 57, fee: 9975 },
    ]);
    const orders = await q(`SELECT ticker, status, fee_units::DOUBLE AS fee, limit_units::DOUBLE AS lim FROM orders ORDER BY ticker`);
    expect(orders).toEqual([
      { ticker: "VOID", status: "filled", fee: 10000, lim: 5000 },
      { ticker: "WIN", status: "filled", fee: 10000, lim: 5000 },
    ]);
    const settled = await q(`SELECT ticker, result, cost_units::DOUBLE AS cost, payout_units::DOUBLE AS payout, pnl_units::DOUBLE AS pnl FROM settlements ORDER BY ticker`);
    expect(settled).toEqual([
      { ticker: "VOID", result: null, cost: 295000, payout: 295000, pnl: 0 },
      { ticker: "WIN", result: "yes", cost: 295000, payout: 570000, pnl: 275000 },
    ]);
    expect(execution.portfolio.cashUnits()).toBe(10_000_000 + 275_000);
    expect(execution.portfolio.openPositionCount()).toBe(0);
    const holds = await q(`SELECT reason, count(*)::DOUBLE AS n FROM decisions WHERE action = 'hold' GROUP BY reason ORDER BY reason`);
    // The broker sees each event before the strategy: at H+1s the order fills, then the new forecast meets the position.
    expect(holds).toEqual([{ reason: "risk:existingPosition", n: 2 }]);
  });

  it("holds when the forecast has no edge once fees and spread are counted", async () => {
    const { q } = await replay(
      {
        markets: [market("FLAT", { close_time: 10 * H })],
        quotes: [{ ts: H, ticker: "FLAT", yes_bid: 0.49, yes_ask: 0.51, last_price: null, volume: 1000, open_interest: null }],
      },
      fixed(0.52), // 1¢ above the ask, less than the 1.75¢ fee
    );
    expect(await q(`SELECT action, reason FROM decisions`)).toEqual([{ action: "hold", reason: "no_edge" }]);
    expect(await q(`SELECT count(*)::DOUBLE AS n FROM orders`)).toEqual([{ n: 0 }]);
  });
});

describe("paper broker with the trade-print fill model (trades-only data)", () => {
  it("fills at later prints plus the half-spread, capped by participation, fees rounded per order", async () => {
    const trade = (ts: number, id: string, count: number) => ({ ts, ticker: "T", trade_id: id, yes_price: 0.5, count, taker_side: "yes" as const });
    const { execution, q } = await replay(
      {
        markets: [market("T", { close_time: 10 * H, result: "no" })],
        trades: [trade(H, "a", 600), trade(H + 10_000, "b", 200), trade(H + 20_000, "c", 500)],
      },
      fixed(0.9),
    );
    expect(execution.fillModel).toBe("trade-print");
    // Ask = last print 0.50 + half-spread 0.01 = 0.51: 56 contracts fit the $30 cap.
    const fills = await q(`SELECT price_units::DOUBLE AS price, contracts::DOUBLE AS n, fee_units::DOUBLE AS fee FROM fills ORDER BY ts`);
    expect(fills).toEqual([
      { price: 5100, n: 20, fee: 3499 }, // 10% of the 200-lot print; fee ceil(0.07 × 20 × 0.51 × 0.49 × 10⁴)
      { price: 5100, n: 36, fee: 6298 }, // the remaining 36 of the 500-lot print's 50
    ]);
    expect(await q(`SELECT status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee FROM orders`)).toEqual([{ status: "filled", filled: 56, fee: 9800 }]);
    // The market settled NO: the whole cost is lost.
    expect(await q(`SELECT pnl_units::DOUBLE AS pnl FROM settlements`)).toEqual([{ pnl: -(56 * 5100 + 9800) }]);
  });
});
