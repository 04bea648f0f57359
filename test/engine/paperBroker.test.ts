/**
 * The paper broker end to end through the pipeline: Kelly-sized orders,
 * fills by the named fill models, Kalshi's fees and rounding, settlement
 * (and the refund of a void market), all in exact units.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FeeChange } from "../../harness/broker/feeChanges.ts";
import { PaperBrokerConfig } from "../../harness/broker/paperBroker.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { IntervalFilter } from "../../harness/filter/eventFilter.ts";
import { Pipeline } from "../../harness/pipeline.ts";
import { computeRunMetrics } from "../../harness/results/runMetrics.ts";
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

async function replay(rows: TinyDatasetRows, strategy: Strategy, broker: Record<string, unknown> = {}, feeChanges: FeeChange[] = []) {
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
    config: PaperBrokerConfig.parse({ bankrollUsd: 1000, ...broker }),
    store,
    dataset: { hasBidAsk: source.manifest.capabilities.hasBidAsk, hasOrderbook: source.manifest.capabilities.hasOrderbook },
    feeChanges,
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
        markets: [market("WIN", { close_time: 10 * H, result: "yes" }), market("VOID", { close_time: 10 * H, result: "void" })],
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

  it("keeps a market unresolved at the end of the data open: marked to bid, fees charged, never refunded", async () => {
    const quote = (ts: number, bid: number, ask: number) => ({ ts, ticker: "OPEN", yes_bid: bid, yes_ask: ask, last_price: null, volume: 1000, open_interest: null });
    const { execution, q } = await replay(
      {
        // result null: the source has no result yet (a dataset that ends before settlement).
        markets: [market("OPEN", { close_time: 10 * H, result: null })],
        quotes: [quote(H, 0.48, 0.5), quote(H + 1000, 0.48, 0.5), quote(3 * H, 0.6, 0.62)],
      },
      fixed(0.9),
    );
    // The same order as above: 57 at $0.50, fee $1.00 (cost 295,000 units).
    expect(await q(`SELECT status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee FROM orders`)).toEqual([{ status: "filled", filled: 57, fee: 10000 }]);
    expect(await q(`SELECT count(*)::DOUBLE AS n FROM settlements`)).toEqual([{ n: 0 }]);
    // Marked to the last YES bid, $0.60: 57 × 6,000 = 342,000 units; unrealized P&L = 342,000 − 295,000.
    expect(await q(`SELECT ticker, yes_contracts::DOUBLE AS yes, cost_units::DOUBLE AS cost, mark_units::DOUBLE AS mark, pnl_units::DOUBLE AS pnl FROM open_positions`)).toEqual([
      { ticker: "OPEN", yes: 57, cost: 295000, mark: 342000, pnl: 47000 },
    ]);
    expect(execution.portfolio.cashUnits()).toBe(10_000_000 - 295_000);
    expect(execution.portfolio.equityUnits()).toBe(10_000_000 - 295_000 + 342_000);
    // The equity curve is marked: the hourly mark after the fill values the position at the $0.48 bid, the last row at the $0.60 one.
    const equity = await q(`SELECT ts::DOUBLE AS ts, positions_units::DOUBLE AS pos, equity_units::DOUBLE AS eq FROM equity ORDER BY ev, ts`);
    expect(equity[0]).toEqual({ ts: H + 1000, pos: 57 * 4800, eq: 10_000_000 - 295_000 + 57 * 4800 });
    expect(equity.at(-1)).toEqual({ ts: 10 * H, pos: 342_000, eq: 10_047_000 });
    const { metrics } = await computeRunMetrics(db!.connection, "t", { bins: 10, bootstrap: { samples: 0, seed: 1 }, bankrollUnits: 10_000_000 });
    const m = (name: string) => metrics.find((r) => r.model === "*" && r.metric === name)?.value;
    expect(m("pnl_usd")).toBe(4.7);
    expect(m("unrealized_pnl_usd")).toBe(4.7);
    expect(m("open_positions")).toBe(1);
    expect(m("fees_usd")).toBe(1);
    expect(m("roi")).toBeCloseTo(47000 / 295000, 12);
    // Drawdown sees the marks: from $1,000 to 1,000 − 29.50 + 27.36 at the first mark.
    expect(m("max_drawdown_usd")).toBeCloseTo((295_000 - 57 * 4800) / 10_000, 12);
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

describe("paper broker with the print-maker fill model (trades-only data, the default there)", () => {
  // Ask = last print 0.50 + half-spread 0.01 = 0.51: the order is a YES bid at 0.51 for 56 contracts ($30 cap).
  const seller = (ts: number, id: string, count: number, price: number) => ({ ts, ticker: "T", trade_id: id, yes_price: price, count, taker_side: "no" as const });
  const buyer = (ts: number, id: string, count: number, price: number) => ({ ts, ticker: "T", trade_id: id, yes_price: price, count, taker_side: "yes" as const });

  it("fills at its own limit, as a maker, only on later prints whose taker sold into it, capped by participation", async () => {
    const { execution, q } = await replay(
      {
        markets: [market("T", { close_time: 10 * H, result: "no" })],
        trades: [
          buyer(H, "a", 600, 0.5), // the decision's print
          buyer(H + 10_000, "b", 900, 0.4), // a buyer: never fills a bid, however low
          seller(H + 20_000, "c", 900, 0.52), // a seller above our bid: did not reach it
          seller(H + 30_000, "d", 900, 0.51), // at our price: the queue ahead (unknown) takes it
          seller(H + 40_000, "e", 200, 0.3), // through our price: 10% of 200 = 20 at OUR limit 0.51
          seller(H + 50_000, "f", 500, 0.45), // through: 10% of 500 = 50, capped by the 36 left
        ],
      },
      fixed(0.9),
    );
    expect(execution.fillModel).toBe("print-maker");
    const fills = await q(`SELECT ts::DOUBLE AS ts, price_units::DOUBLE AS price, contracts::DOUBLE AS n, fee_units::DOUBLE AS fee, liquidity FROM fills ORDER BY ts`);
    // Maker fees are off on Kalshi's general schedule: both fills are free.
    expect(fills).toEqual([
      { ts: H + 40_000, price: 5100, n: 20, fee: 0, liquidity: "maker" },
      { ts: H + 50_000, price: 5100, n: 36, fee: 0, liquidity: "maker" },
    ]);
    expect(await q(`SELECT status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee FROM orders`)).toEqual([{ status: "filled", filled: 56, fee: 0 }]);
    expect(await q(`SELECT pnl_units::DOUBLE AS pnl FROM settlements`)).toEqual([{ pnl: -(56 * 5100) }]);
  });

  it("uses up the named queue ahead with prints at its price before they reach it; charges maker fees where the series does", async () => {
    const { q } = await replay(
      {
        markets: [market("T", { close_time: 10 * H, result: "yes" })],
        trades: [buyer(H, "a", 600, 0.5), seller(H + 10_000, "b", 250, 0.51), seller(H + 20_000, "c", 300, 0.51)],
      },
      fixed(0.9),
      { printMaker: { participation: 0.1, queueAheadContracts: 400 }, fees: { default: { makerFees: true } } },
    );
    // Print b: all 250 go to the queue (150 left ahead). Print c: 150 to the queue, 150 reach us, cap 10% of 300 = 30.
    // Maker fee: ceil(0.0175 × 30 × 0.51 × 0.49 × 10⁴) = ceil(1311.975) = 1312 units; the order rounds up to 1400.
    expect(await q(`SELECT price_units::DOUBLE AS price, contracts::DOUBLE AS n, fee_units::DOUBLE AS fee, liquidity FROM fills`)).toEqual([
      { price: 5100, n: 30, fee: 1312, liquidity: "maker" },
    ]);
    expect(await q(`SELECT status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee FROM orders`)).toEqual([{ status: "partial", filled: 30, fee: 1400 }]);
  });
});

describe("fee schedules over time in the paper broker", () => {
  it("charges each fill by its series' schedule in force at the fill's time", async () => {
    const seller = (ts: number, id: string, count: number, price: number) => ({ ts, ticker: "T", trade_id: id, yes_price: price, count, taker_side: "no" as const });
    const { q } = await replay(
      {
        markets: [market("T", { close_time: 10 * H, result: "no" })],
        trades: [{ ts: H, ticker: "T", trade_id: "a", yes_price: 0.5, count: 600, taker_side: "yes" as const }, seller(H + 40_000, "e", 200, 0.3), seller(H + 50_000, "f", 500, 0.45)],
      },
      fixed(0.9),
      { fees: { default: { makerFees: true } } },
      // KXTEST (the fixture's series) doubles its multiplier between the two fills.
      [{ seriesTicker: "KXTEST", ts: H + 45_000, feeType: "quadratic", multiplier: 2 }],
    );
    // 20 at $0.51, maker, × 1: 0.0175 × 20 × 0.2499 = 874.65 → 875 units; 36 at × 2: 0.0175 × 2 × 36 × 0.2499 = 3148.74 → 3149.
    expect(await q(`SELECT contracts::DOUBLE AS n, fee_units::DOUBLE AS fee FROM fills ORDER BY ts`)).toEqual([
      { n: 20, fee: 875 },
      { n: 36, fee: 3149 },
    ]);
    expect(await q(`SELECT fee_units::DOUBLE AS fee FROM orders`)).toEqual([{ fee: 4100 }]); // 4024 rounded up to the cent
  });
});

describe("paper broker with the legacy trade-print fill model (named explicitly)", () => {
  it("fills at later prints plus the half-spread, capped by participation, fees rounded per order", async () => {
    const trade = (ts: number, id: string, count: number) => ({ ts, ticker: "T", trade_id: id, yes_price: 0.5, count, taker_side: "yes" as const });
    const { execution, q } = await replay(
      {
        markets: [market("T", { close_time: 10 * H, result: "no" })],
        trades: [trade(H, "a", 600), trade(H + 10_000, "b", 200), trade(H + 20_000, "c", 500)],
      },
      fixed(0.9),
      { fillModel: "trade-print" },
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
