/**
 * `tapedeck record`'s writer: what the live source sees, durable as it is
 * written, materialised into the dataset format so `dataset validate` and
 * `replay` take it like any import.
 *
 * Layout of `<out>/`:
 * - `recording/segment-NNNNNN.jsonl`: the journal. Rows (quotes, trades,
 *   books, news, market metadata, gap markers) are appended in small
 *   batches; each batch is written and fsync'd before it is acknowledged
 *   (`onAck`), so a kill -9 loses only rows not yet acknowledged. A segment
 *   is closed every `segmentMs` and a new one opened. A torn last line (a
 *   write cut short) is ignored when reading.
 * - `dataset.json` + `tables/<table>-<generation>.parquet`: the dataset,
 *   rebuilt from every segment when a segment closes and when recording
 *   stops. The new generation's tables are written and fsync'd first, then
 *   the manifest is replaced by an atomic rename, then old tables go: at any
 *   instant `<out>` is a complete, valid dataset (once the first generation
 *   exists). `Recorder.finalize(out)` rebuilds from the journal after a
 *   crash, so rows acknowledged after the last rebuild are in the dataset.
 *
 * Gaps: stretches where the feed was stale (sequence gaps, dropped sockets,
 * time the recorder was not running between two sessions on one folder)
 * go into the manifest's `recording.gaps`, and `recording.coverage` is
 * 1 − stale market-time / (markets × window).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { openDb, sqlString } from "../db/duckdb.ts";
import type { MarketEvent } from "../events/types.ts";
import { unitsToDollars } from "../money/money.ts";
import { z } from "zod";
import { DATASET_FORMAT, MANIFEST_FILE, MarketRow, NewsRow, OrderbookRow, QuoteRow, RecordingGap, TABLE_COLUMNS, TradeRow, type Manifest, type TableEntry, type TableName } from "../../datasets/format.ts";
import { TABLE_ORDER } from "../../datasets/datasetWriter.ts";
import { fileSha256 } from "../../datasets/sha256.ts";
import { formatValidationProblem, validateDataset } from "../../datasets/validate.ts";
import type { LiveMarket } from "./marketDirectory.ts";
import type { FeedGap } from "./liveSource.ts";

/** One journal line: a dataset row (the trades' `seq` is given when the dataset is built) or a recorder note. */
const JournalRow = z.discriminatedUnion("t", [
  QuoteRow.extend({ t: z.literal("quotes") }),
  TradeRow.omit({ seq: true }).extend({ t: z.literal("trades") }),
  OrderbookRow.extend({ t: z.literal("orderbook") }),
  NewsRow.extend({ t: z.literal("news") }),
  MarketRow.extend({ t: z.literal("markets"), seen: z.number().int().nonnegative() }),
  RecordingGap.extend({ t: z.literal("gap") }),
  z.object({ t: z.literal("session"), start: z.number().int().nonnegative(), series: z.array(z.string()), tickers: z.array(z.string()), feeds: z.array(z.string()) }),
  z.object({ t: z.literal("alive"), ts: z.number().int().nonnegative() }),
]);
type JournalRow = z.infer<typeof JournalRow>;

export interface RecorderOptions {
  /** Close a segment (and rebuild the dataset) this often, ms. */
  segmentMs?: number;
  /** Write and fsync buffered rows this often, ms. */
  flushMs?: number;
  /** Called after each durable write with the running totals acknowledged. */
  onAck?: (ack: RecorderAck) => void;
  now?: () => number;
  name?: string;
  description?: string;
}

export interface RecorderAck {
  rows: number;
  byTable: Record<string, number>;
  segment: number;
  /** The last trade id acknowledged, if any. */
  lastTradeId: string | null;
  /** Dataset rebuilds completed so far (after the first, `<out>` is a valid dataset at every instant). */
  built: number;
}

const SEGMENT_RE = /^segment-(\d{6})\.jsonl$/;

export class Recorder {
  readonly dir: string;
  readonly #journalDir: string;
  readonly #opts: RecorderOptions;
  readonly #now: () => number;
  #fd: number | null = null;
  #segment = 0;
  #buffer: string[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #segmentTimer: NodeJS.Timeout | null = null;
  #ack: RecorderAck = { rows: 0, byTable: {}, segment: 0, lastTradeId: null, built: 0 };
  #pendingTradeId: string | null = null;
  #pendingCounts: Record<string, number> = {};
  #rebuilding: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(dir: string, opts: RecorderOptions) {
    this.dir = resolve(dir);
    this.#journalDir = join(this.dir, "recording");
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Start (or continue) a recording in `dir`. A folder that holds something
   * else is refused. Continuing after a stop or a crash marks the time in
   * between as a gap for every market.
   */
  static open(dir: string, session: { series: string[]; tickers: string[]; feeds: string[] }, opts: RecorderOptions = {}): Recorder {
    const r = new Recorder(dir, opts);
    if (existsSync(r.dir) && !existsSync(r.#journalDir) && readdirSync(r.dir).length > 0) {
      throw new Error(`${dir}: exists, is not empty and is not a recording (no recording/ folder); refusing to write into it`);
    }
    mkdirSync(r.#journalDir, { recursive: true });
    const previous = readJournal(r.#journalDir);
    const start = r.#now();
    const lastSeen = previous.rows.reduce((m, row) => Math.max(m, rowTime(row)), 0);
    r.#segment = previous.lastSegment;
    r.#openSegment();
    if (lastSeen > 0 && start > lastSeen) r.#append({ t: "gap", ticker: null, start: lastSeen, end: start, reason: "recorder not running" });
    r.#append({ t: "session", start, series: session.series, tickers: session.tickers, feeds: session.feeds });
    r.flush();
    r.#flushTimer = setInterval(() => r.flush(), opts.flushMs ?? 200);
    r.#segmentTimer = setInterval(() => void r.rotate(), opts.segmentMs ?? 5 * 60_000);
    return r;
  }

  /** Journal an event the live source delivered (open/close/settle travel as market rows instead). */
  event(e: MarketEvent): void {
    switch (e.kind) {
      case "quote":
        return this.#append({
          t: "quotes",
          ts: e.ts,
          ticker: e.ticker,
          yes_bid: dollars(e.yesBid),
          yes_ask: dollars(e.yesAsk),
          last_price: dollars(e.lastPrice),
          volume: e.volume,
          open_interest: e.openInterest,
        });
      case "trade":
        this.#pendingTradeId = e.tradeId;
        return this.#append({ t: "trades", ts: e.ts, ticker: e.ticker, trade_id: e.tradeId, yes_price: unitsToDollars(e.yesPrice), count: e.count, taker_side: e.takerSide });
      case "book":
        return this.#append({ t: "orderbook", ts: e.ts, ticker: e.ticker, yes: e.yes.map(([p, q]) => [unitsToDollars(p), q]), no: e.no.map(([p, q]) => [unitsToDollars(p), q]) });
      case "news":
        return this.#append({ t: "news", ts: e.ts, id: e.id, source: e.source, title: e.title, summary: e.summary, url: e.url, tickers: e.tickers });
      default:
        return;
    }
  }

  /** What is known about a market now (the last one journaled wins). */
  market(m: LiveMarket): void {
    this.#append({
      t: "markets",
      seen: this.#now(),
      ticker: m.ticker,
      event_ticker: m.eventTicker,
      series_ticker: m.seriesTicker,
      title: m.title,
      subtitle: m.subtitle,
      rules: m.rules,
      background: null,
      category: m.category,
      open_time: m.openTime,
      close_time: m.closeTime,
      scheduled_close_time: m.scheduledCloseTime,
      settle_time: m.settleTime,
      result: m.result,
    });
  }

  gap(g: FeedGap): void {
    this.#append({ t: "gap", ticker: g.ticker, start: g.start, end: g.end, reason: g.reason });
  }

  get acknowledged(): RecorderAck {
    return this.#ack;
  }

  #append(row: JournalRow): void {
    if (this.#closed) return;
    this.#buffer.push(`${JSON.stringify(row)}\n`);
    this.#pendingCounts[row.t] = (this.#pendingCounts[row.t] ?? 0) + 1;
  }

  /** Write and fsync what is buffered; only then is it acknowledged. */
  flush(): void {
    if (this.#fd === null || this.#buffer.length === 0) return;
    const text = this.#buffer.join("");
    this.#buffer = [];
    writeSync(this.#fd, text);
    fsyncSync(this.#fd);
    let rows = 0;
    // A fresh object per ack: an ack handed out earlier keeps the counts it was acknowledged with.
    const byTable = { ...this.#ack.byTable };
    for (const [t, n] of Object.entries(this.#pendingCounts)) {
      byTable[t] = (byTable[t] ?? 0) + n;
      rows += n;
    }
    this.#pendingCounts = {};
    this.#ack = { ...this.#ack, byTable, rows: this.#ack.rows + rows, segment: this.#segment, lastTradeId: this.#pendingTradeId ?? this.#ack.lastTradeId };
    this.#opts.onAck?.(this.#ack);
  }

  #openSegment(): void {
    this.#segment += 1;
    const path = join(this.#journalDir, `segment-${String(this.#segment).padStart(6, "0")}.jsonl`);
    this.#fd = openSync(path, "a");
    // The new file's name must survive a crash too.
    fsyncDir(this.#journalDir);
  }

  /** Close the current segment, open the next, and rebuild the dataset from every segment. */
  async rotate(): Promise<void> {
    if (this.#closed) return;
    this.#append({ t: "alive", ts: this.#now() });
    this.flush();
    if (this.#fd !== null) closeSync(this.#fd);
    this.#openSegment();
    await this.#rebuild();
  }

  #rebuild(): Promise<void> {
    const dir = this.dir;
    const name = this.#opts.name;
    const description = this.#opts.description;
    this.#rebuilding = this.#rebuilding
      .then(() => materialize(dir, { ...(name ? { name } : {}), ...(description ? { description } : {}) }))
      .then(
        () => {
          this.#ack = { ...this.#ack, built: this.#ack.built + 1 };
        },
        // Nothing to build yet (no market journaled): the next rotation tries again.
        () => undefined,
      );
    return this.#rebuilding;
  }

  /** Stop: flush, close the segment, rebuild the dataset once more. */
  async close(): Promise<Manifest> {
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    if (this.#segmentTimer) clearInterval(this.#segmentTimer);
    this.#append({ t: "alive", ts: this.#now() });
    this.flush();
    this.#closed = true;
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    await this.#rebuilding;
    return materialize(this.dir, { ...(this.#opts.name ? { name: this.#opts.name } : {}), ...(this.#opts.description ? { description: this.#opts.description } : {}) });
  }

  /** Rebuild `<dir>`'s dataset from its journal (after a crash, or to re-derive it). */
  static finalize(dir: string, head: { name?: string; description?: string } = {}): Promise<Manifest> {
    if (!existsSync(join(resolve(dir), "recording"))) return Promise.reject(new Error(`${dir}: not a recording (no recording/ folder)`));
    return materialize(resolve(dir), head);
  }
}

function dollars(units: number | null): number | null {
  return units === null ? null : unitsToDollars(units);
}

function rowTime(row: JournalRow): number {
  switch (row.t) {
    case "markets":
      return row.seen;
    case "gap":
      return row.end;
    case "session":
      return row.start;
    default:
      return row.ts;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every journal row in segment order; a torn last line of a segment is dropped. */
function readJournal(journalDir: string): { rows: JournalRow[]; segments: number; lastSegment: number } {
  if (!existsSync(journalDir)) return { rows: [], segments: 0, lastSegment: 0 };
  const files = readdirSync(journalDir).filter((f) => SEGMENT_RE.test(f)).sort();
  const rows: JournalRow[] = [];
  for (const f of files) {
    const text = readFileSync(join(journalDir, f), "utf8");
    const lines = text.split("\n");
    // The part after the last newline never completed its write.
    lines.pop();
    for (const [i, line] of lines.entries()) {
      if (line === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new Error(`${join(journalDir, f)} line ${i + 1}: not a JSON row (the journal is damaged)`);
      }
      const row = JournalRow.safeParse(json);
      if (!row.success) {
        const issue = row.error.issues[0];
        throw new Error(`${join(journalDir, f)} line ${i + 1}: field ${issue?.path.join(".") || "(row)"}: ${issue?.message ?? "invalid"} (the journal is damaged)`);
      }
      rows.push(row.data);
    }
  }
  const last = files.at(-1);
  return { rows, segments: files.length, lastSegment: last ? Number(SEGMENT_RE.exec(last)![1]) : 0 };
}

/** Merge intervals and measure their length within [start, end]. */
function coveredLength(intervals: Array<[number, number]>, start: number, end: number): number {
  const clipped = intervals.map(([a, b]) => [Math.max(a, start), Math.min(b, end)] as [number, number]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curA = -Infinity;
  let curB = -Infinity;
  for (const [a, b] of clipped) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** The share of market-time the feed was whole: 1 − Σ stale / (markets × window). */
export function coverageRatio(tickers: readonly string[], gaps: readonly RecordingGap[], start: number, end: number): number {
  if (tickers.length === 0 || end <= start) return 1;
  let stale = 0;
  for (const t of tickers) stale += coveredLength(gaps.filter((g) => g.ticker === null || g.ticker === t).map((g) => [g.start, g.end]), start, end);
  return Math.max(0, Math.min(1, 1 - stale / (tickers.length * (end - start))));
}

let rebuilds = 0;
const TABLES: Array<Exclude<TableName, "markets">> = ["quotes", "trades", "orderbook", "news"];

/** Build the dataset in `dir` from its journal: a new generation of tables, then the manifest by atomic rename. */
async function materialize(dir: string, head: { name?: string; description?: string }): Promise<Manifest> {
  const journalDir = join(dir, "recording");
  const { rows, segments } = readJournal(journalDir);
  const markets = new Map<string, MarketRow>();
  const byTable = new Map<TableName, string[]>();
  const gaps: RecordingGap[] = [];
  const seenTrades = new Set<string>();
  const seenNews = new Set<string>();
  let start = Infinity;
  let end = 0;
  const series = new Set<string>();
  const feeds = new Set<string>();
  for (const row of rows) {
    const ts = rowTime(row);
    if (row.t === "session") {
      start = Math.min(start, row.start);
      row.series.forEach((s) => series.add(s));
      row.feeds.forEach((f) => feeds.add(f));
    }
    end = Math.max(end, ts);
    switch (row.t) {
      case "markets": {
        const { t: _t, seen: _seen, ...m } = row;
        markets.set(m.ticker, m);
        break;
      }
      case "gap":
        gaps.push({ ticker: row.ticker, start: row.start, end: row.end, reason: row.reason });
        break;
      case "trades":
        if (seenTrades.has(row.trade_id)) break;
        seenTrades.add(row.trade_id);
        // seq: the order the feed delivered the prints (dataset format 2), which orders prints of one ms.
        push(byTable, row, { seq: seenTrades.size - 1 });
        break;
      case "news":
        if (seenNews.has(row.id)) break;
        seenNews.add(row.id);
        push(byTable, row);
        break;
      case "quotes":
      case "orderbook":
        push(byTable, row);
        break;
      default:
        break;
    }
  }
  if (markets.size === 0) throw new Error(`${dir}: the recording holds no market yet (nothing to build a dataset from)`);
  if (!Number.isFinite(start)) start = 0;

  // Unique per rebuild, sortable: a later generation never reuses an earlier one's file names.
  const generation = `${Date.now()}-${process.pid}-${++rebuilds}`;
  const tablesDir = join(dir, "tables");
  const buildDir = join(dir, `.build-${generation}`);
  mkdirSync(tablesDir, { recursive: true });
  mkdirSync(buildDir, { recursive: true });
  const db = await openDb(":memory:");
  const entries: Partial<Record<TableName, TableEntry>> = {};
  try {
    const write = async (table: TableName, lines: string[]): Promise<void> => {
      const src = join(buildDir, `${table}.jsonl`);
      writeFileSync(src, lines.join("\n") + "\n");
      const types = TABLE_COLUMNS[table];
      const columns = `{${Object.entries(types).map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(", ")}}`;
      const select = Object.keys(types).map((c) => `CAST(${c} AS ${types[c]}) AS ${c}`).join(", ");
      const file = `tables/${table}-${generation}.parquet`;
      const path = join(dir, file);
      await db.connection.run(
        `COPY (SELECT ${select} FROM read_json(${sqlString(src)}, format = 'newline_delimited', columns = ${columns}) ORDER BY ${TABLE_ORDER[table]}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const fd = openSync(path, "r");
      fsyncSync(fd);
      closeSync(fd);
      entries[table] = { file, rows: lines.length, sha256: await fileSha256(path) };
    };
    await write("markets", [...markets.values()].sort((a, b) => (a.ticker < b.ticker ? -1 : 1)).map((m) => JSON.stringify(m)));
    for (const table of TABLES) {
      const lines = byTable.get(table);
      if (lines && lines.length > 0) await write(table, lines);
    }
  } finally {
    db.close();
    rmSync(buildDir, { recursive: true, force: true });
  }
  fsyncDir(tablesDir);

  const spanStart = Math.min(start, ...[...markets.values()].map((m) => m.open_time));
  const spanEnd = Math.max(end, ...[...markets.values()].map((m) => Math.max(m.close_time, m.settle_time ?? 0)));
  const quotes = entries.quotes;
  const hasBidAsk = quotes !== undefined && (byTable.get("quotes") ?? []).some((l) => /"yes_(bid|ask)":[0-9]/.test(l));
  const manifest: Manifest = {
    format: DATASET_FORMAT,
    name: head.name ?? `recording ${[...series].join(",")}`,
    description: head.description ?? `Recorded live from Kalshi's WebSocket feed by tapedeck record (series ${[...series].join(", ") || "-"}).`,
    source: {
      importer: "record",
      inputs: [...series, ...feeds],
      origin: "Kalshi trade-api WebSocket (orderbook_delta, ticker, trade, market_lifecycle_v2) and RSS/Atom feeds, as received",
      importedAt: new Date().toISOString(),
      notes: [
        "Times are the exchange's own message times where it sends them, else the time received; books are whole books after each change, kept from snapshot + deltas.",
        `${gaps.length} gap(s) where the feed was stale; see recording.gaps. Books inside a gap are missing, not wrong.`,
      ],
    },
    license: "Kalshi market data: see Kalshi's terms of use; news: each feed's own terms",
    span: { start: spanStart, end: spanEnd },
    tables: { markets: entries.markets!, ...(entries.quotes ? { quotes: entries.quotes } : {}), ...(entries.trades ? { trades: entries.trades } : {}), ...(entries.orderbook ? { orderbook: entries.orderbook } : {}), ...(entries.news ? { news: entries.news } : {}) },
    capabilities: { hasBidAsk, hasTrades: (entries.trades?.rows ?? 0) > 0, hasOrderbook: (entries.orderbook?.rows ?? 0) > 0, hasNews: (entries.news?.rows ?? 0) > 0 },
    recording: { start: Math.min(start, end), end, coverage: coverageRatio([...markets.keys()], gaps, Math.min(start, end), end), gaps, segments },
  };
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  const fd = openSync(tmp, "w");
  writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncSync(fd);
  closeSync(fd);
  // Check the new generation before it becomes the dataset: a bad row stays out of it.
  const staged = join(dir, `.check-${generation}`);
  mkdirSync(staged, { recursive: true });
  try {
    writeFileSync(join(staged, MANIFEST_FILE), readFileSync(tmp));
    mkdirSync(join(staged, "tables"));
    for (const e of Object.values(manifest.tables)) if (e) writeFileSync(join(staged, e.file), readFileSync(join(dir, e.file)));
    const report = await validateDataset(staged);
    if (report.problems.length > 0) throw new Error(`recorded data failed validation: ${formatValidationProblem(report.problems[0]!)}`);
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
  renameSync(tmp, join(dir, MANIFEST_FILE));
  fsyncDir(dir);
  // Tables of older generations are no longer named by the manifest.
  const keep = new Set(Object.values(manifest.tables).map((e) => e!.file.replace(/^tables\//, "")));
  for (const f of readdirSync(tablesDir)) if (!keep.has(f)) rmSync(join(tablesDir, f), { force: true });
  return manifest;
}

function push(byTable: Map<TableName, string[]>, row: Extract<JournalRow, { t: "quotes" | "trades" | "orderbook" | "news" }>, extra: Record<string, number> = {}): void {
  const { t, ...rest } = row;
  let list = byTable.get(t);
  if (!list) byTable.set(t, (list = []));
  list.push(JSON.stringify({ ...rest, ...extra }));
}
