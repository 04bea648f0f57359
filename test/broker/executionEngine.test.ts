/**
 * The engine-owned portfolio against an exchange-side double that is not the
 * paper broker: a scripted venue that acknowledges, rejects, fills and
 * cancels only when the test says so (asynchronously, as a live venue
 * would). The portfolio, the buying-power reservation, the working-order
 * check and the rows in a real DuckDB store must follow exactly those
 * reports. Figures are worked out by hand in the comments.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Broker, ClientOrder, OrderRequest } from "../../harness/broker/broker.ts";
import type { ExecutionReport, ReportSink } from "../../harness/broker/executionReport.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { clientOrderIdFor, ExecutionEngine } from "../../harness/portfolio/executionEngine.ts";
import { MarketState } from "../../harness/state/marketState.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const RUN = "venue-double";
const T0 = 1_750_000_000_000;

/** A venue that does nothing on its own: the test scripts every report. */
class ScriptedVenue implements Broker {
  readonly submitted: ClientOrder[] = [];
  readonly cancels: string[] = [];
  readonly marketEvents: number[] = [];
  #sink: ReportSink | null = null;
  onReport(sink: ReportSink): void {
    this.#sink = sink;
  }
  submit(order: ClientOrder): void {
    this.submitted.push(order);
  }
  cancel(clientOrderId: string): void {
    this.cancels.push(clientOrderId);
  }
  onMarketEvent(event: { ts: number }): void {
    this.marketEvents.push(event.ts);
  }
  /** The exchange answers (later, on its own channel). */
  say(report: ExecutionReport): void {
    this.#sink!(report);
  }
}

let db: Db | null = null;
afterEach(() => {
  db?.close();
  db = null;
});

async function setup(bankrollUnits: number) {
  db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
  const { store } = await DuckDbStore.forRun(
    db,
    { runId: RUN, parentRunId: null, kind: "paper", label: null, configHash: "x", configJson: "{}", datasetName: null, datasetHash: null, datasetPath: null, codeVersion: "test" },
    false,
  );
  const venue = new ScriptedVenue();
  const engine = new ExecutionEngine({ runId: RUN, broker: venue, store, startingCashUnits: bankrollUnits });
  const clock = new SimulatedClock();
  clock.observe(T0);
  const view = new MarketState(clock);
  const q = async (sql: string) => {
    await store.flush();
    return (await db!.connection.runAndReadAll(sql, [RUN])).getRowObjectsJS();
  };
  return { store, venue, engine, view, clock, q };
}

const order = (ticker: string, side: "yes" | "no", limitUnits: number, contracts: number): OrderRequest => ({ ticker, side, action: "buy", limitUnits, contracts, reason: "edge" });

describe("execution engine against a scripted venue", () => {
  it("applies a venue rejection, a partial fill and a cancel to the portfolio, the risk checks and the stored rows", async () => {
    const { venue, engine, view, clock, q } = await setup(1_000_000); // $100
    const p = engine.portfolio;
    const idA = clientOrderIdFor(RUN, 0);
    const idB = clientOrderIdFor(RUN, 1);
    expect(idA).toMatch(/^td-[0-9a-f]{12}-0$/);
    expect(clientOrderIdFor(RUN, 0)).toBe(idA); // stable: a resubmission is the same order

    // A: buy 10 YES at $0.40. Worst case 10 × 4000 + max fee; max fee = ceil-to-cent(0.07 × 10 × 0.4 × 0.6 $ = 1680 u, + 9 u for per-fill rounding) = 1700.
    engine.submit(5, 0, order("AAA", "yes", 4000, 10), view);
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual([idA]);
    // Not acknowledged yet: it is in flight, so it blocks a second order on AAA and reserves its worst case.
    expect(p.openOrder(idA)?.state).toBe("pending");
    expect(p.hasWorkingOrder("AAA")).toBe(true);
    expect(p.buyingPowerUnits()).toBe(1_000_000 - 41_700);
    expect(p.ordersInLastHour(T0)).toBe(1);

    venue.say({ kind: "rejected", clientOrderId: idA, ts: T0 + 40, venueOrderId: null, reason: "market_paused" });
    expect(engine.drainReports(6)).toBe(1);
    expect(p.hasWorkingOrder("AAA")).toBe(false);
    expect(p.buyingPowerUnits()).toBe(1_000_000);
    expect(p.cashUnits()).toBe(1_000_000);

    // B: buy 20 NO at $0.30. Max fee = ceil-to-cent(0.07 × 20 × 0.3 × 0.7 $ = 2940 u, + 19) = 3000; worst case 60,000 + 3,000.
    clock.observe(T0 + 1000);
    engine.submit(7, 1, order("BBB", "no", 3000, 20), view);
    venue.say({ kind: "accepted", clientOrderId: idB, ts: T0 + 1050, venueOrderId: "V-1" });
    // 8 contracts at $0.29: fee ceil(0.07 × 8 × 0.29 × 0.71 $ = 1153.04 u) = 1154.
    venue.say({ kind: "partially_filled", clientOrderId: idB, ts: T0 + 1100, venueOrderId: "V-1", fillId: "X-1", priceUnits: 2900, contracts: 8, feeUnits: 1154, liquidity: "taker", leaves: 12 });
    expect(engine.drainReports(8)).toBe(2);
    // Cash 1,000,000 − 8 × 2900 − 1154 = 975,646; the position cost 23,200 + 1,154 = 24,354.
    expect(p.cashUnits()).toBe(975_646);
    // No price for BBB has reached the view: the position has no mark yet (valued at cost).
    expect(p.position("BBB")).toEqual({ ticker: "BBB", yes: 0, no: 8, costUnits: 24_354, markUnits: null });
    expect(p.openOrder(idB)).toMatchObject({ state: "working", venueOrderId: "V-1", filled: 8, leaves: 12 });
    // Still reserved: 12 × 3000 for the rest, and 3000 − 1154 = 1846 of fee not yet charged.
    expect(p.reservedUnits()).toBe(37_846);
    expect(p.buyingPowerUnits()).toBe(975_646 - 37_846);
    expect(p.hasWorkingOrder("BBB")).toBe(true);

    // C: buy 100 YES at $0.95. Max fee at $0.50 (the dearest price within the limit): 17,500 + 99 → 17,600; worst 967,600.
    // That is within cash (975,646) but beyond buying power (937,800) while B works: refused before it leaves.
    clock.observe(T0 + 2000);
    engine.submit(9, 2, order("CCC", "yes", 9500, 100), view);
    expect(venue.submitted).toHaveLength(2);

    // We cancel B; the venue confirms: 12 never traded, the order's fee is 1154 rounded up to the cent = 1200.
    engine.cancel(10, idB);
    expect(venue.cancels).toEqual([idB]);
    expect(p.hasWorkingOrder("BBB")).toBe(true); // nothing changes until the venue says so
    venue.say({ kind: "cancelled", clientOrderId: idB, ts: T0 + 2100, venueOrderId: "V-1", reason: "requested", leaves: 12, orderFeeUnits: 1200 });
    expect(engine.drainReports(11)).toBe(1);
    expect(p.cashUnits()).toBe(975_600);
    expect(p.position("BBB")).toEqual({ ticker: "BBB", yes: 0, no: 8, costUnits: 24_400, markUnits: null });
    expect(p.hasWorkingOrder("BBB")).toBe(false);
    expect(p.reservedUnits()).toBe(0);
    expect(p.buyingPowerUnits()).toBe(975_600);
    expect(p.equityUnits()).toBe(1_000_000);

    // The same order as C, decided again, now fits (967,600 ≤ 975,600) and leaves.
    engine.submit(12, 3, order("CCC", "yes", 9500, 100), view);
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual([idA, idB, clientOrderIdFor(RUN, 3)]);

    // BBB settles NO: 8 × $1 = 80,000 paid out against a cost of 24,400.
    engine.onEvent(13, { kind: "settle", ts: T0 + 3000, ticker: "BBB", result: "no" }, view);
    expect(venue.marketEvents).toEqual([T0 + 3000]);
    expect(p.cashUnits()).toBe(1_055_600);
    expect(p.position("BBB")).toBeUndefined();

    expect(
      await q(`SELECT order_id, client_order_id, ts::DOUBLE AS ts, ticker, side, limit_units::DOUBLE AS lim, contracts::DOUBLE AS n, status, filled::DOUBLE AS filled, fee_units::DOUBLE AS fee, reason, ev::DOUBLE AS ev FROM orders WHERE run_id = $1 ORDER BY ev`),
    ).toEqual([
      { order_id: idA, client_order_id: idA, ts: T0, ticker: "AAA", side: "yes", lim: 4000, n: 10, status: "rejected", filled: 0, fee: 0, reason: "edge; rejected: market_paused", ev: 6 },
      {
        order_id: clientOrderIdFor(RUN, 2),
        client_order_id: clientOrderIdFor(RUN, 2),
        ts: T0 + 2000,
        ticker: "CCC",
        side: "yes",
        lim: 9500,
        n: 100,
        status: "rejected",
        filled: 0,
        fee: 0,
        reason: "edge; rejected: insufficient_buying_power (worst case 967600 > 937800 units)",
        ev: 9,
      },
      { order_id: "V-1", client_order_id: idB, ts: T0 + 1000, ticker: "BBB", side: "no", lim: 3000, n: 20, status: "cancelled", filled: 8, fee: 1200, reason: "edge; cancelled: requested", ev: 11 },
    ]);
    expect(
      await q(`SELECT fill_id, order_id, ts::DOUBLE AS ts, ticker, side, action, price_units::DOUBLE AS price, contracts::DOUBLE AS n, fee_units::DOUBLE AS fee, liquidity, ev::DOUBLE AS ev FROM fills WHERE run_id = $1`),
    ).toEqual([{ fill_id: "X-1", order_id: "V-1", ts: T0 + 1100, ticker: "BBB", side: "no", action: "buy", price: 2900, n: 8, fee: 1154, liquidity: "taker", ev: 8 }]);
    expect(
      await q(`SELECT ts::DOUBLE AS ts, cash_units::DOUBLE AS cash, positions_units::DOUBLE AS pos, equity_units::DOUBLE AS eq, ev::DOUBLE AS ev FROM equity WHERE run_id = $1 ORDER BY ev`),
    ).toEqual([
      { ts: T0 + 2100, cash: 975_600, pos: 24_400, eq: 1_000_000, ev: 11 },
      { ts: T0 + 3000, cash: 1_055_600, pos: 0, eq: 1_055_600, ev: 13 },
    ]);
    expect(
      await q(`SELECT ticker, result, no_contracts::DOUBLE AS no, cost_units::DOUBLE AS cost, payout_units::DOUBLE AS payout, pnl_units::DOUBLE AS pnl FROM settlements WHERE run_id = $1`),
    ).toEqual([{ ticker: "BBB", result: "no", no: 8, cost: 24_400, payout: 80_000, pnl: 55_600 }]);
  });

  it("refuses a report for an order it never sent, and a decision placed twice", async () => {
    const { venue, engine, view } = await setup(1_000_000);
    venue.say({ kind: "accepted", clientOrderId: "td-unknown-0", ts: T0, venueOrderId: "V-9" });
    expect(() => engine.drainReports(0)).toThrow(/not in flight/);
    engine.submit(1, 0, order("AAA", "yes", 4000, 1), view);
    expect(() => engine.submit(2, 0, order("AAA", "yes", 4000, 1), view)).toThrow(/already placed/);
  });
});

describe("buying power", () => {
  it("rejects an order beyond cash before it reaches the broker", async () => {
    const { venue, engine, view, q } = await setup(100_000); // $10
    // 300 YES at $0.50: 1,500,000 of notional alone, fifteen times the cash.
    engine.submit(3, 0, order("BIG", "yes", 5000, 300), view);
    expect(venue.submitted).toEqual([]);
    expect(engine.portfolio.hasWorkingOrder("BIG")).toBe(false);
    expect(engine.portfolio.ordersInLastHour(T0)).toBe(0);
    expect(engine.portfolio.cashUnits()).toBe(100_000);
    expect(await q(`SELECT status, filled::DOUBLE AS filled, reason, ev::DOUBLE AS ev FROM orders WHERE run_id = $1`)).toEqual([
      // Max fee 0.07 × 300 × 0.25 $ = 52,500 u, + 299 → 52,800: worst 1,552,800.
      { status: "rejected", filled: 0, reason: "edge; rejected: insufficient_buying_power (worst case 1552800 > 100000 units)", ev: 3 },
    ]);
    expect(await q(`SELECT count(*)::DOUBLE AS n FROM fills WHERE run_id = $1`)).toEqual([{ n: 0 }]);
  });

  it("sends an order whose worst case is exactly the buying power", async () => {
    // 10 YES at $0.40: 40,000 + 1,700 of max fee.
    const { venue, engine, view } = await setup(41_700);
    engine.submit(0, 0, order("EDGE", "yes", 4000, 10), view);
    expect(venue.submitted).toHaveLength(1);
  });
});
