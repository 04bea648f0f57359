/**
 * The Store seam and its DuckDB implementation. The pipeline hands it rows;
 * it buffers them per table and writes them in batches through DuckDB's
 * appender. `checkpoint(ev)` flushes every buffer and then records that all
 * rows produced by events before `ev` are durable: that ordering is what
 * makes `replay --resume` exact after a kill -9.
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import type { Db } from "../db/duckdb.ts";
import { openDbFile } from "../db/dbFile.ts";
import { applySchema } from "./schema.ts";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface ForecastRow {
  ts: number;
  ticker: string;
  model: string;
  agent: string | null;
  probability: number | null;
  confidence: number | null;
  marketPrice: number | null;
  abstained: boolean;
  abstainReason: string | null;
  rationale: string | null;
  llmCallId: string | null;
}
export interface DecisionRow {
  ts: number;
  ticker: string;
  action: "buy_yes" | "buy_no" | "hold";
  probability: number | null;
  confidence: number | null;
  priceUnits: number | null;
  edge: number | null;
  kellyFraction: number | null;
  contracts: number;
  reason: string;
}
export interface OrderRow {
  orderId: string;
  clientOrderId: string;
  ts: number;
  ticker: string;
  side: "yes" | "no";
  action: "buy" | "sell";
  limitUnits: number;
  contracts: number;
  /**
   * `filled` / `partial` / `unfilled`: ended by its own terms (complete, or the
   * rest expired), by what traded. `rejected`: refused before it worked (by the
   * engine's buying-power check or by the venue). `cancelled`: the rest was
   * cancelled on request (`filled` says how much traded first).
   */
  status: "filled" | "partial" | "unfilled" | "rejected" | "cancelled";
  filled: number;
  feeUnits: number;
  reason: string | null;
}
export interface FillRow {
  fillId: string;
  orderId: string;
  ts: number;
  ticker: string;
  side: "yes" | "no";
  action: "buy" | "sell";
  priceUnits: number;
  contracts: number;
  feeUnits: number;
  liquidity: "taker" | "maker";
}
export interface SettlementRow {
  ts: number;
  ticker: string;
  result: "yes" | "no" | null;
  yesContracts: number;
  noContracts: number;
  costUnits: number;
  payoutUnits: number;
  pnlUnits: number;
}
export interface OpenPositionRow {
  ts: number;
  ticker: string;
  yesContracts: number;
  noContracts: number;
  costUnits: number;
  markUnits: number;
  pnlUnits: number;
}
export interface OutcomeRow {
  ticker: string;
  category: string | null;
  closeTime: number;
  settleTs: number;
  result: "yes" | "no" | null;
}
export interface EquityRow {
  ts: number;
  cashUnits: number;
  positionsUnits: number;
  equityUnits: number;
  aiSpendNusd: number;
}
export interface MetricRow {
  model: string;
  metric: string;
  value: number | null;
  lo: number | null;
  hi: number | null;
}
export interface CalibrationBinRow {
  model: string;
  bin: number;
  lo: number;
  hi: number;
  n: number;
  meanForecast: number | null;
  observedRate: number | null;
}

export interface RunRecord {
  runId: string;
  parentRunId: string | null;
  kind: "replay" | "redecide" | "sweep" | "paper" | "live";
  label: string | null;
  configHash: string;
  configJson: string;
  datasetName: string | null;
  datasetHash: string | null;
  datasetPath: string | null;
  codeVersion: string;
}

/** Where a run's rows go. Replay and live write through the same seam. */
export interface Store {
  forecast(ev: number, row: ForecastRow): void;
  decision(ev: number, row: DecisionRow): void;
  order(ev: number, row: OrderRow): void;
  fill(ev: number, row: FillRow): void;
  settlement(ev: number, row: SettlementRow): void;
  /** A position still open when the data ended, at its mark. */
  openPosition(ev: number, row: OpenPositionRow): void;
  equity(ev: number, row: EquityRow): void;
  outcome(ev: number, row: OutcomeRow): void;
  /** Make every row of events < ev durable and record ev as the resume point. */
  checkpoint(ev: number, simTs: number): Promise<void>;
}

type Col = "str" | "int" | "float" | "bool";
type Table = "forecasts" | "decisions" | "orders" | "fills" | "settlements" | "open_positions" | "equity" | "outcomes";

/** Column kinds in schema.sql order (run_id first, ev last). */
const COLUMNS: Record<Table, Col[]> = {
  forecasts: ["str", "int", "int", "str", "str", "str", "float", "float", "float", "bool", "str", "str", "str", "int"],
  decisions: ["str", "int", "int", "str", "str", "float", "float", "int", "float", "float", "int", "str", "int"],
  orders: ["str", "str", "str", "int", "str", "str", "str", "int", "int", "str", "int", "int", "str", "int"],
  fills: ["str", "str", "str", "int", "str", "str", "str", "int", "int", "int", "str", "int"],
  settlements: ["str", "int", "str", "str", "int", "int", "int", "int", "int", "int"],
  open_positions: ["str", "int", "str", "int", "int", "int", "int", "int", "int"],
  equity: ["str", "int", "int", "int", "int", "int", "int"],
  outcomes: ["str", "str", "str", "int", "int", "str", "int"],
};

type Cell = string | number | boolean | null;

export class DuckDbStore implements Store {
  #buffers = new Map<Table, Cell[][]>();
  #seq = { forecasts: 0, decisions: 0 };
  #muteBelow = -1;
  /** Runs before each checkpoint is recorded (e.g. flushing the llm_calls log), so the checkpoint covers it too. */
  beforeCheckpoint: (() => Promise<void>) | null = null;

  private constructor(
    readonly db: Db,
    readonly runId: string,
  ) {}

  static async open(path: string): Promise<Db> {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = await openDbFile(path, "results");
    await applySchema(db.connection);
    return db;
  }

  /** Start a new run, or reattach to an unfinished one (resume), deleting rows past its checkpoint. */
  static async forRun(db: Db, run: RunRecord, resume: boolean): Promise<{ store: DuckDbStore; resumeFrom: number }> {
    const c = db.connection;
    let resumeFrom = 0;
    if (resume) {
      const reader = await c.runAndReadAll(`SELECT status, coalesce(checkpoint_ev, 0)::DOUBLE AS cp FROM runs WHERE run_id = $1`, [run.runId]);
      const row = reader.getRowObjectsJS()[0] as { status: string; cp: number } | undefined;
      if (!row) throw new Error(`run ${run.runId} is not in the results database`);
      if (row.status === "completed") throw new Error(`run ${run.runId} is already completed; nothing to resume`);
      resumeFrom = row.cp;
      for (const t of Object.keys(COLUMNS)) await c.run(`DELETE FROM ${t} WHERE run_id = $1 AND ev >= $2`, [run.runId, resumeFrom]);
      // llm_calls rows stay: each was a real, paid request, and the resumed run answers from them (harness/router/callJournal.ts).
      await c.run(`UPDATE runs SET status = 'running', error = NULL WHERE run_id = $1`, [run.runId]);
    } else {
      await c.run(
        `INSERT INTO runs (run_id, parent_run_id, kind, label, config_hash, config_json, dataset_name, dataset_hash, dataset_path, code_version, status, started_at, events, checkpoint_ev)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running', $11, 0, 0)`,
        [run.runId, run.parentRunId, run.kind, run.label, run.configHash, run.configJson, run.datasetName, run.datasetHash, run.datasetPath, run.codeVersion, Date.now()],
      );
    }
    const store = new DuckDbStore(db, run.runId);
    store.#muteBelow = resumeFrom;
    if (resume) {
      // Sequence numbers continue from what is already durable.
      const r = await c.runAndReadAll(
        `SELECT (SELECT count(*) FROM forecasts WHERE run_id = $1)::DOUBLE AS f, (SELECT count(*) FROM decisions WHERE run_id = $1)::DOUBLE AS d`,
        [run.runId],
      );
      const counts = r.getRowObjectsJS()[0] as { f: number; d: number };
      store.#seq = { forecasts: counts.f, decisions: counts.d };
    }
    return { store, resumeFrom };
  }

  /** Rows from events before the resume point are already in the DB: the rerun of those events writes nothing. */
  #push(table: Table, ev: number, cells: Cell[]): void {
    if (ev < this.#muteBelow) return;
    let buf = this.#buffers.get(table);
    if (!buf) this.#buffers.set(table, (buf = []));
    buf.push(cells);
  }

  forecast(ev: number, r: ForecastRow): void {
    // Sequence numbers advance only for rows written: a resumed run continues from the durable count.
    if (ev < this.#muteBelow) return;
    this.#push("forecasts", ev, [this.runId, this.#seq.forecasts++, r.ts, r.ticker, r.model, r.agent, r.probability, r.confidence, r.marketPrice, r.abstained, r.abstainReason, r.rationale, r.llmCallId, ev]);
  }
  decision(ev: number, r: DecisionRow): void {
    if (ev < this.#muteBelow) return;
    this.#push("decisions", ev, [this.runId, this.#seq.decisions++, r.ts, r.ticker, r.action, r.probability, r.confidence, r.priceUnits, r.edge, r.kellyFraction, r.contracts, r.reason, ev]);
  }
  order(ev: number, r: OrderRow): void {
    this.#push("orders", ev, [this.runId, r.orderId, r.clientOrderId, r.ts, r.ticker, r.side, r.action, r.limitUnits, r.contracts, r.status, r.filled, r.feeUnits, r.reason, ev]);
  }
  fill(ev: number, r: FillRow): void {
    this.#push("fills", ev, [this.runId, r.fillId, r.orderId, r.ts, r.ticker, r.side, r.action, r.priceUnits, r.contracts, r.feeUnits, r.liquidity, ev]);
  }
  settlement(ev: number, r: SettlementRow): void {
    this.#push("settlements", ev, [this.runId, r.ts, r.ticker, r.result, r.yesContracts, r.noContracts, r.costUnits, r.payoutUnits, r.pnlUnits, ev]);
  }
  openPosition(ev: number, r: OpenPositionRow): void {
    this.#push("open_positions", ev, [this.runId, r.ts, r.ticker, r.yesContracts, r.noContracts, r.costUnits, r.markUnits, r.pnlUnits, ev]);
  }
  equity(ev: number, r: EquityRow): void {
    this.#push("equity", ev, [this.runId, r.ts, r.cashUnits, r.positionsUnits, r.equityUnits, r.aiSpendNusd, ev]);
  }

  outcome(ev: number, r: OutcomeRow): void {
    this.#push("outcomes", ev, [this.runId, r.ticker, r.category, r.closeTime, r.settleTs, r.result, ev]);
  }

  async flush(): Promise<void> {
    for (const [table, rows] of this.#buffers) {
      if (rows.length === 0) continue;
      await appendRows(this.db.connection, table, COLUMNS[table], rows);
      this.#buffers.set(table, []);
    }
  }

  async checkpoint(ev: number, simTs: number): Promise<void> {
    // The call log first: a forecast row must never be durable without the llm_calls row it names. A resume
    // answers from stored forecasts and seeds its budget from llm_calls; a kill between the two flushes left
    // forecasts whose calls' spend was nowhere, so the resumed budget had room the uninterrupted run had not.
    await this.beforeCheckpoint?.();
    await this.flush();
    if (ev < this.#muteBelow) return;
    await this.db.connection.run(`UPDATE runs SET checkpoint_ev = $1, events = $1, sim_end = $2 WHERE run_id = $3`, [ev, simTs, this.runId]);
  }

  async writeMetrics(metrics: MetricRow[], bins: CalibrationBinRow[]): Promise<void> {
    const c = this.db.connection;
    await c.run(`DELETE FROM metrics WHERE run_id = $1`, [this.runId]);
    await c.run(`DELETE FROM calibration_bins WHERE run_id = $1`, [this.runId]);
    await appendRows(c, "metrics", ["str", "str", "str", "float", "float", "float"], metrics.map((m) => [this.runId, m.model, m.metric, m.value, m.lo, m.hi]));
    await appendRows(
      c,
      "calibration_bins",
      ["str", "str", "int", "float", "float", "int", "float", "float"],
      bins.map((b) => [this.runId, b.model, b.bin, b.lo, b.hi, b.n, b.meanForecast, b.observedRate]),
    );
  }

  async complete(fields: { digest: string; events: number; simStart: number | null; simEnd: number | null; wallMs: number }): Promise<void> {
    await this.flush();
    await this.db.connection.run(
      `UPDATE runs SET status = 'completed', digest = $1, events = $2, checkpoint_ev = $2, sim_start = $3, sim_end = $4, wall_ms = $5, finished_at = $6 WHERE run_id = $7`,
      [fields.digest, fields.events, fields.simStart, fields.simEnd, fields.wallMs, Date.now(), this.runId],
    );
  }

  /** The run stopped on its own before the end (e.g. its real-money cap) and can be resumed: say why. */
  async interrupt(reason: string): Promise<void> {
    await this.flush();
    await this.db.connection.run(`UPDATE runs SET status = 'interrupted', error = $1 WHERE run_id = $2`, [reason, this.runId]);
  }

  async fail(error: string): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.db.connection.run(`UPDATE runs SET status = 'failed', error = $1, finished_at = $2 WHERE run_id = $3`, [error, Date.now(), this.runId]);
    }
  }
}

async function appendRows(c: DuckDBConnection, table: string, cols: readonly Col[], rows: readonly Cell[][]): Promise<void> {
  if (rows.length === 0) return;
  const appender: DuckDBAppender = await c.createAppender(table);
  try {
    for (const row of rows) {
      for (let i = 0; i < cols.length; i++) {
        const v = row[i];
        if (v === null || v === undefined) appender.appendNull();
        else if (cols[i] === "str") appender.appendVarchar(String(v));
        else if (cols[i] === "int") appender.appendBigInt(BigInt(v as number));
        else if (cols[i] === "float") appender.appendDouble(v as number);
        else appender.appendBoolean(v as boolean);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
