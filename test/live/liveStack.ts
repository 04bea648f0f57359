/**
 * The live execution stack on loopback, for broker and reconciliation tests:
 * the fake exchange, the real Kalshi client over HTTP, the Kalshi broker, the
 * engine with its portfolio and a real DuckDB results store. The private
 * `fill` and `user_orders` messages go from the exchange to the broker
 * through the WebSocket protocol's own schemas (harness/live/kalshiMessages),
 * as the live source would deliver them, without the socket.
 */
import { join } from "node:path";
import { KalshiBroker, type KalshiBrokerOptions } from "../../harness/broker/kalshiBroker.ts";
import { WallClock } from "../../harness/clock/wallClock.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import { KalshiClient } from "../../harness/live/kalshi/client.ts";
import { FillMsg, UserOrderMsg } from "../../harness/live/kalshiMessages.ts";
import type { OrderRequest } from "../../harness/broker/broker.ts";
import { ExecutionEngine } from "../../harness/portfolio/executionEngine.ts";
import { MarketState } from "../../harness/state/marketState.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { startFakeKalshi, TEST_KEY_ID, type FakeKalshi } from "./fakeKalshiHelpers.ts";

export const TICKER = "KXTEST-26DEC31-A";
export const OTHER = "KXTEST-26DEC31-B";

export interface Stack {
  fake: FakeKalshi;
  client: KalshiClient;
  broker: KalshiBroker;
  engine: ExecutionEngine;
  view: MarketState;
  db: Db;
  store: DuckDbStore;
  runId: string;
  /** Place the engine's order for decision `seq`; resolves once the broker's call returned. */
  submit(seq: number, order: OrderRequest): Promise<void>;
  /** Apply the reports that arrived on their own (WebSocket) to the portfolio and store. */
  drain(): number;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** Stop feeding private messages (a crashed process hears nothing). */
  unplug(): void;
  close(): Promise<void>;
}

export async function liveStack(
  opts: { fake?: FakeKalshi; dbPath?: string; runId?: string; balanceDollars?: number; broker?: Partial<KalshiBrokerOptions>; timeoutMs?: number } = {},
): Promise<Stack> {
  const fake = opts.fake ?? (await startFakeKalshi({ balanceDollars: opts.balanceDollars ?? 1000, markets: [TICKER, OTHER] }));
  const client = await KalshiClient.connect({ credentials: fake.credentials, restBase: fake.started.restBase, timeoutMs: opts.timeoutMs ?? 400, sleep: async () => {}, rng: () => 0 });
  const broker = new KalshiBroker({ client, ...opts.broker });
  const runId = opts.runId ?? "live-test";
  const db = await DuckDbStore.open(opts.dbPath ?? join(tempDir(), "results.duckdb"));
  const { store } = await DuckDbStore.forRun(
    db,
    { runId, parentRunId: null, kind: "live", label: null, configHash: "cfg", configJson: "{}", datasetName: null, datasetHash: null, datasetPath: null, codeVersion: "test" },
    false,
  );
  const engine = new ExecutionEngine({ runId, broker, store, startingCashUnits: await client.balanceUnits() });
  const view = new MarketState(new WallClock());
  let plugged = true;
  const offFill = fake.exchange.on("fill", (e) => {
    if (plugged && e.account === TEST_KEY_ID) broker.fill(FillMsg.parse(e.msg));
  });
  const offOrder = fake.exchange.on("order_update", (e) => {
    if (plugged && e.account === TEST_KEY_ID) broker.order(UserOrderMsg.parse(e.msg));
  });
  let ev = 0;
  return {
    fake,
    client,
    broker,
    engine,
    view,
    db,
    store,
    runId,
    submit: async (seq, order) => {
      await engine.submit(++ev, seq, order, view);
    },
    drain: () => engine.drainReports(++ev),
    rows: async (sql) => {
      await store.flush();
      return (await db.connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    unplug: () => {
      plugged = false;
    },
    close: async () => {
      offFill();
      offOrder();
      db.close();
      if (!opts.fake) await fake.close();
    },
  };
}

export const buy = (ticker: string, side: "yes" | "no", limitUnits: number, contracts: number): OrderRequest => ({ ticker, side, action: "buy", limitUnits, contracts, reason: "edge" });
