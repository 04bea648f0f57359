/**
 * The replay EventSource: streams a dataset's Parquet tables through DuckDB in
 * chunks and merges them into one time-ordered stream (tie order in
 * types.ts). Memory stays bounded: DuckDB spills its per-table sorts to disk
 * under a memory limit, and JavaScript holds one chunk per table at a time.
 *
 * Results never travel with the market rows: `open` events carry MarketInfo,
 * which has no result field and no actual close time (only the scheduled
 * one), the actual close rides only on the `close` event and the result only
 * on the `settle` event.
 */
import { join } from "node:path";
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult } from "@duckdb/node-api";
import { openDb, sqlString, type Db } from "../db/duckdb.ts";
import type { Manifest, Result, TableName } from "../../datasets/format.ts";
import { datasetHash, readManifest } from "../../datasets/manifest.ts";
import { EVENT_TIE_ORDER, type EventSource, type MarketEvent, type MarketInfo } from "./types.ts";
import type { Units } from "../money/money.ts";

export interface ReplaySourceOptions {
  /** Only replay these markets (and news); default all. */
  tickers?: readonly string[];
  /** Only replay events with start ≤ ts ≤ end. */
  start?: number;
  end?: number;
  /** DuckDB memory limit for the per-table sorts, e.g. "256MB". */
  memoryLimit?: string;
}

/** A market row as the engine needs it; the result stays inside this module until its settle event. */
interface MarketRecord {
  info: MarketInfo;
  /** The actual close: it becomes the close event, never a field of `info`. */
  closeTs: number;
  settleTs: number;
  result: Result;
  /** False for a market still unresolved in the data: it never settles in the replay. */
  settles: boolean;
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}

const BATCH = 4096;

export class ReplaySource implements EventSource {
  #db: Db | null = null;
  #markets: MarketRecord[] | null = null;
  #connections: DuckDBConnection[] = [];

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    private readonly options: ReplaySourceOptions,
  ) {}

  /** Opens a dataset folder; a missing or invalid manifest is a ManifestError naming the file and field. */
  static async open(dir: string, options: ReplaySourceOptions = {}): Promise<ReplaySource> {
    return new ReplaySource(dir, await readManifest(dir), options);
  }

  async describe() {
    const m = this.manifest;
    const filtered = this.options.tickers !== undefined || this.options.start !== undefined || this.options.end !== undefined;
    // The manifest counts the whole dataset; a replay of some markets or a time window counts its own events,
    // or a progress bar would stop short of 100% (issue 13: `ablate --markets` bars frozen at 74%).
    const events = filtered
      ? await this.#countEvents()
      : Object.entries(m.tables).reduce((n, [name, t]) => n + (name === "markets" || !t ? 0 : t.rows), 0) + m.tables.markets.rows * 3;
    return {
      name: m.name,
      hash: datasetHash(this.dir, m),
      start: this.options.start ?? m.span.start,
      end: this.options.end ?? m.span.end,
      events,
      hasBidAsk: m.capabilities.hasBidAsk,
    };
  }

  /** Markets as strategies may know them (no results). */
  async markets(): Promise<MarketInfo[]> {
    return (await this.#loadMarkets()).map((m) => m.info);
  }

  async *events(): AsyncGenerator<MarketEvent[]> {
    const db = await this.#open();
    const markets = await this.#loadMarkets();
    const cursors: Cursor[] = [new ArrayCursor(lifecycleEvents(markets, this.options))];
    // Tickers travel as small integer codes of an ENUM over the markets (sorted like `markets`), and
    // JS maps each code back to one shared string: no UTF-8 decoding per row, and Map lookups on a
    // string whose hash V8 has already cached. Rows of markets outside the set are dropped here.
    const tickers = markets.map((m) => m.info.ticker);
    await db.connection.run(`DROP TYPE IF EXISTS td_ticker`);
    await db.connection.run(`CREATE TYPE td_ticker AS ENUM (${tickers.map(sqlString).join(",") || "''"})`);
    for (const table of ["orderbook", "quotes", "trades", "news"] as const) {
      const entry = this.manifest.tables[table];
      if (!entry || entry.rows === 0) continue;
      const sql = tableQuery(table, join(this.dir, entry.file), this.options);
      // One connection per table: a new query on a connection ends that connection's open stream.
      const connection = await db.instance.connect();
      this.#connections.push(connection);
      const decode = DECODERS[table];
      cursors.push(new ChunkCursor(table, await connection.stream(sql), (chunk) => decode(chunk, tickers)));
    }
    for (const c of cursors) await c.fill();

    let out: MarketEvent[] = [];
    for (;;) {
      // Pick the cursor whose head is first in (ts, tie rank). Rank breaks ties
      // between tables; within a table, file order is replay order.
      let best: Cursor | null = null;
      let bestTs = Infinity;
      let bestRank = Infinity;
      for (const c of cursors) {
        const e = c.head;
        if (!e) continue;
        const rank = EVENT_TIE_ORDER[e.kind];
        if (e.ts < bestTs || (e.ts === bestTs && rank < bestRank)) {
          best = c;
          bestTs = e.ts;
          bestRank = rank;
        }
      }
      if (!best) break;
      out.push(best.take());
      if (best.empty) await best.fill();
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /** Events a filtered replay will deliver: lifecycle events of its markets plus the rows its table queries keep. */
  async #countEvents(): Promise<number> {
    const markets = await this.#loadMarkets();
    const db = await this.#open();
    const tickers = markets.map((m) => sqlString(m.info.ticker)).join(",") || "NULL";
    let n = lifecycleEvents(markets, this.options).length;
    for (const table of ["orderbook", "quotes", "trades", "news"] as const) {
      const entry = this.manifest.tables[table];
      if (!entry || entry.rows === 0) continue;
      const where: string[] = [];
      if (this.options.start !== undefined) where.push(`ts >= ${this.options.start}`);
      if (this.options.end !== undefined) where.push(`ts <= ${this.options.end}`);
      if (table !== "news") where.push(`ticker IN (${tickers})`);
      const reader = await db.connection.runAndReadAll(
        `SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlString(join(this.dir, entry.file))}) ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`,
      );
      n += Number((reader.getRowObjectsJS()[0] as { n: number }).n);
    }
    return n;
  }

  async close(): Promise<void> {
    for (const c of this.#connections) c.closeSync();
    this.#connections = [];
    this.#db?.close();
    this.#db = null;
  }

  async #open(): Promise<Db> {
    if (!this.#db) {
      this.#db = await openDb(":memory:");
      await this.#db.connection.run(`SET memory_limit = ${sqlString(this.options.memoryLimit ?? "256MB")}`);
      // Tables are written sorted (datasets/datasetWriter.ts), so file order is replay order: no sort, no spill.
      await this.#db.connection.run(`SET preserve_insertion_order = true`);
    }
    return this.#db;
  }

  async #loadMarkets(): Promise<MarketRecord[]> {
    if (this.#markets) return this.#markets;
    const db = await this.#open();
    const path = join(this.dir, this.manifest.tables.markets.file);
    const reader = await db.connection.runAndReadAll(
      `SELECT ticker, event_ticker, series_ticker, title, subtitle, rules, background, category,
              open_time::DOUBLE AS open_time, close_time::DOUBLE AS close_time, scheduled_close_time::DOUBLE AS scheduled_close_time,
              settle_time::DOUBLE AS settle_time, result
         FROM read_parquet(${sqlString(path)})
         ${this.options.tickers ? `WHERE ticker IN (${this.options.tickers.map(sqlString).join(",") || "NULL"})` : ""}
         ORDER BY ticker`,
    );
    const rows = reader.getRowObjectsJS() as Array<Record<string, string | number | null>>;
    this.#markets = rows.map((r) => {
      const closeTime = r["close_time"] as number;
      const settle = (r["settle_time"] as number | null) ?? closeTime;
      const result = r["result"];
      return {
        info: {
          ticker: r["ticker"] as string,
          eventTicker: (r["event_ticker"] as string | null) ?? "",
          seriesTicker: (r["series_ticker"] as string | null) ?? "",
          title: (r["title"] as string | null) ?? "",
          subtitle: r["subtitle"] as string | null,
          rules: r["rules"] as string | null,
          background: r["background"] as string | null,
          category: r["category"] as string | null,
          openTime: r["open_time"] as number,
          scheduledCloseTime: r["scheduled_close_time"] as number | null,
        },
        closeTs: closeTime,
        settleTs: Math.max(settle, closeTime),
        // 'void': the source says the market was voided (a settle event that refunds); NULL: unresolved (no settle event; positions stay open).
        result: result === "yes" || result === "no" ? result : null,
        settles: result === "yes" || result === "no" || result === "void",
      };
    });
    return this.#markets;
  }
}

function lifecycleEvents(markets: MarketRecord[], options: ReplaySourceOptions): MarketEvent[] {
  const events: MarketEvent[] = [];
  for (const m of markets) {
    events.push({ kind: "open", ts: m.info.openTime, ticker: m.info.ticker, market: m.info });
    events.push({ kind: "close", ts: m.closeTs, ticker: m.info.ticker });
    if (m.settles) events.push({ kind: "settle", ts: m.settleTs, ticker: m.info.ticker, result: m.result });
  }
  const start = options.start ?? -Infinity;
  const end = options.end ?? Infinity;
  // open events before the window still matter (the market exists); clamp them to the start.
  // A market that closed before the window opens is left out entirely (its close would be filtered away).
  const closedBefore = new Set(markets.filter((m) => m.closeTs < start).map((m) => m.info.ticker));
  return events
    .filter((e) => !closedBefore.has(tickerOf(e)) && e.ts <= end && (e.kind === "open" || e.ts >= start))
    .map((e) => (e.kind === "open" && e.ts < start ? { ...e, ts: start } : e))
    .sort((a, b) => a.ts - b.ts || EVENT_TIE_ORDER[a.kind] - EVENT_TIE_ORDER[b.kind] || cmp(tickerOf(a), tickerOf(b)));
}

function tickerOf(e: MarketEvent): string {
  return e.kind === "news" ? e.id : e.ticker;
}
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Prices leave DuckDB as integer units and times as DOUBLE, so JS never touches bigint on the hot path. */
const tickerCode = `enum_code(TRY_CAST(ticker AS td_ticker))::INTEGER AS ticker`;
const units = (col: string) => `CAST(round(${col} * 10000) AS INTEGER) AS ${col}`;

function tableQuery(table: Exclude<TableName, "markets">, path: string, o: ReplaySourceOptions): string {
  const where: string[] = [];
  if (o.start !== undefined) where.push(`ts >= ${o.start}`);
  if (o.end !== undefined) where.push(`ts <= ${o.end}`);
  if (table !== "news") where.push(`TRY_CAST(ticker AS td_ticker) IS NOT NULL`);
  const from = `read_parquet(${sqlString(path)})`;
  const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
  switch (table) {
    case "quotes":
      return `SELECT ts::DOUBLE AS ts, ${tickerCode}, ${units("yes_bid")}, ${units("yes_ask")}, ${units("last_price")}, volume, open_interest
                FROM ${from} ${filter}`;
    case "trades":
      return `SELECT ts::DOUBLE AS ts, ${tickerCode}, trade_id, ${units("yes_price")}, count, taker_side
                FROM ${from} ${filter}`;
    case "orderbook":
      return `SELECT ts::DOUBLE AS ts, ${tickerCode},
                     list_transform(yes, l -> [round(l[1] * 10000), l[2]]) AS yes,
                     list_transform(no, l -> [round(l[1] * 10000), l[2]]) AS no
                FROM ${from} ${filter}`;
    case "news":
      return `SELECT ts::DOUBLE AS ts, id, source, title, summary, url, tickers
                FROM ${from} ${filter}`;
  }
}

type Decoder = (chunk: DuckDBDataChunk, tickers: readonly string[]) => MarketEvent[];

function levels(value: unknown): Array<[Units, number]> {
  if (!value || typeof value !== "object" || !("items" in value)) return [];
  return (value as { items: readonly unknown[] }).items.map((lvl) => {
    const items = (lvl as { items: readonly (number | null)[] }).items;
    return [Number(items[0]), Number(items[1])] as [Units, number];
  });
}

const DECODERS: Record<Exclude<TableName, "markets">, Decoder> = {
  quotes(chunk, tickers) {
    const n = chunk.rowCount;
    const [ts, ticker, bid, ask, last, vol, oi] = [0, 1, 2, 3, 4, 5, 6].map((i) => chunk.getColumnVector(i));
    const out: MarketEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = {
        kind: "quote",
        ts: ts!.getItem(i) as number,
        ticker: tickers[ticker!.getItem(i) as number]!,
        yesBid: bid!.getItem(i) as number | null,
        yesAsk: ask!.getItem(i) as number | null,
        lastPrice: last!.getItem(i) as number | null,
        volume: vol!.getItem(i) as number | null,
        openInterest: oi!.getItem(i) as number | null,
      };
    }
    return out;
  },
  trades(chunk, tickers) {
    const n = chunk.rowCount;
    const [ts, ticker, id, price, count, side] = [0, 1, 2, 3, 4, 5].map((i) => chunk.getColumnVector(i));
    const out: MarketEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = {
        kind: "trade",
        ts: ts!.getItem(i) as number,
        ticker: tickers[ticker!.getItem(i) as number]!,
        tradeId: id!.getItem(i) as string,
        yesPrice: price!.getItem(i) as number,
        count: count!.getItem(i) as number,
        takerSide: side!.getItem(i) === "no" ? "no" : "yes",
      };
    }
    return out;
  },
  orderbook(chunk, tickers) {
    const n = chunk.rowCount;
    const [ts, ticker, yes, no] = [0, 1, 2, 3].map((i) => chunk.getColumnVector(i));
    const out: MarketEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = {
        kind: "book",
        ts: ts!.getItem(i) as number,
        ticker: tickers[ticker!.getItem(i) as number]!,
        yes: levels(yes!.getItem(i)).sort((a, b) => b[0] - a[0]),
        no: levels(no!.getItem(i)).sort((a, b) => b[0] - a[0]),
      };
    }
    return out;
  },
  news(chunk) {
    const n = chunk.rowCount;
    const [ts, id, source, title, summary, url, tickers] = [0, 1, 2, 3, 4, 5, 6].map((i) => chunk.getColumnVector(i));
    const out: MarketEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = tickers!.getItem(i) as { items: readonly unknown[] } | null;
      out[i] = {
        kind: "news",
        ts: ts!.getItem(i) as number,
        id: id!.getItem(i) as string,
        source: (source!.getItem(i) as string | null) ?? "",
        title: title!.getItem(i) as string,
        summary: summary!.getItem(i) as string | null,
        url: url!.getItem(i) as string | null,
        tickers: t ? t.items.map(String) : null,
      };
    }
    return out;
  },
};

interface Cursor {
  readonly head: MarketEvent | undefined;
  readonly empty: boolean;
  take(): MarketEvent;
  fill(): Promise<void>;
}

class ArrayCursor implements Cursor {
  #i = 0;
  constructor(private readonly items: MarketEvent[]) {}
  get head() {
    return this.items[this.#i];
  }
  get empty() {
    return this.#i >= this.items.length;
  }
  take() {
    return this.items[this.#i++]!;
  }
  async fill() {}
}

/**
 * Reads one table's stream. The next chunk is requested as soon as the
 * current one arrives, so DuckDB decodes Parquet on its own threads while
 * JavaScript works through the current chunk. It also checks that time never
 * goes backwards within a table, which the merge relies on.
 */
class ChunkCursor implements Cursor {
  #items: MarketEvent[] = [];
  #i = 0;
  #done = false;
  #next: Promise<DuckDBDataChunk | null> | null = null;
  #lastTs = -Infinity;
  #rows = 0;
  constructor(
    private readonly table: string,
    private readonly result: DuckDBResult,
    private readonly decode: (chunk: DuckDBDataChunk) => MarketEvent[],
  ) {}
  get head() {
    return this.#items[this.#i];
  }
  get empty() {
    return this.#i >= this.#items.length;
  }
  take() {
    return this.#items[this.#i++]!;
  }
  async fill() {
    while (!this.#done && this.#i >= this.#items.length) {
      const chunk = await (this.#next ?? this.result.fetchChunk());
      this.#next = null;
      if (!chunk || chunk.rowCount === 0) {
        this.#done = true;
        this.#items = [];
      } else {
        this.#next = this.result.fetchChunk();
        this.#items = this.decode(chunk);
        this.#checkOrder();
      }
      this.#i = 0;
    }
  }

  #checkOrder(): void {
    const items = this.#items;
    for (let k = 0; k < items.length; k++) {
      const ts = items[k]!.ts;
      if (ts < this.#lastTs) {
        throw new DatasetError(`${this.table}: row ${this.#rows + k + 1} (ts ${ts}) is earlier than the row before it; tables must be sorted by ts (re-import with tapedeck import)`);
      }
      this.#lastTs = ts;
    }
    this.#rows += items.length;
  }
}
