/**
 * The tapedeck dataset format (DESIGN.md "Data model"): a folder holding
 * `dataset.json` (this manifest) and one Parquet file per table.
 *
 * On disk, prices are dollars in (0, 1) as DOUBLE (Kalshi's `*_dollars`, at
 * most 4 decimals); times are UTC epoch milliseconds as BIGINT; counts are
 * DOUBLE because Kalshi allows fractional contracts (`*_fp`). The engine turns
 * prices into exact integer units (harness/money) as it reads them.
 *
 * This file is the contract between importers (datasets/importers), the
 * validator (datasets/validate.ts) and the replay event source (harness/events).
 *
 * Optional beside the tables: `fee_changes.json`, Kalshi's
 * `/series/fee_changes` response (fee type and multiplier per series from a
 * time on); the paper broker charges each fill by the schedule in force at
 * its time. Format and validation: harness/broker/feeChanges.ts.
 */
import { z } from "zod";

export const DATASET_FORMAT = "tapedeck-dataset/2";
/** Formats this code can no longer read, and why (the manifest error says so). */
export const RETIRED_FORMATS: Readonly<Record<string, string>> = {
  "tapedeck-dataset/1":
    "format 1 has no markets.scheduled_close_time (its close_time, the actual close, leaked into what strategies see) and no trades.seq; re-import it with `tapedeck import`",
};
export const MANIFEST_FILE = "dataset.json";
/** Optional beside the tables: Kalshi's fee changes (harness/broker/feeChanges.ts); part of the dataset hash. */
export const FEE_CHANGES_FILE = "fee_changes.json";

export const TABLE_NAMES = ["markets", "quotes", "trades", "orderbook", "news"] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** Column order and DuckDB types of each table's Parquet file. Importers write exactly these. */
export const TABLE_COLUMNS: Record<TableName, Readonly<Record<string, string>>> = {
  markets: {
    ticker: "VARCHAR",
    event_ticker: "VARCHAR",
    series_ticker: "VARCHAR",
    title: "VARCHAR",
    subtitle: "VARCHAR", // nullable
    rules: "VARCHAR", // nullable: resolution rules / criteria shown to a model
    background: "VARCHAR", // nullable: longer context (ForecastBench background)
    category: "VARCHAR", // nullable
    open_time: "BIGINT",
    // The actual close: it reaches strategies only as the `close` event, at its time.
    close_time: "BIGINT",
    // nullable: the close a trader could see in advance (Kalshi's scheduled close, expected_expiration_time,
    // …). This, never close_time, is what strategies, prompts and filters read. Null when the source has none.
    scheduled_close_time: "BIGINT",
    settle_time: "BIGINT", // nullable: when absent the result becomes visible at close_time
    result: "VARCHAR", // 'yes' | 'no' | 'void' (the source says voided: refunded) | NULL (unresolved when the data ends: positions stay open, marked to bid)
  },
  quotes: {
    ts: "BIGINT",
    ticker: "VARCHAR",
    yes_bid: "DOUBLE", // nullable: no bid on the book
    yes_ask: "DOUBLE", // nullable: no ask on the book
    last_price: "DOUBLE", // nullable
    volume: "DOUBLE", // nullable: cumulative contracts traded
    open_interest: "DOUBLE", // nullable
  },
  trades: {
    ts: "BIGINT",
    ticker: "VARCHAR",
    trade_id: "VARCHAR",
    yes_price: "DOUBLE",
    count: "DOUBLE",
    taker_side: "VARCHAR", // 'yes' | 'no'
    // Source order, 0-based over the whole table: by the source's full-precision time (µs), then by the
    // order the source listed prints stamped alike. ts is cut to ms, so seq is what orders prints of one ms.
    seq: "BIGINT",
  },
  orderbook: {
    ts: "BIGINT",
    ticker: "VARCHAR",
    // Bids only, as Kalshi publishes them: yes = [[price, qty], …] YES bids;
    // no = NO bids. A NO bid at X is a YES ask at 1 − X.
    yes: "DOUBLE[][]",
    no: "DOUBLE[][]",
  },
  news: {
    ts: "BIGINT",
    id: "VARCHAR",
    source: "VARCHAR",
    title: "VARCHAR",
    summary: "VARCHAR", // nullable
    url: "VARCHAR", // nullable
    tickers: "VARCHAR[]", // nullable: markets the source already linked the item to
  },
};

export const Result = z.enum(["yes", "no"]).nullable();
export type Result = z.infer<typeof Result>;
/** The markets table's result: a settle event's result, or 'void' (refunded), or null (still unresolved). */
export const StoredResult = z.enum(["yes", "no", "void"]).nullable();
export type StoredResult = z.infer<typeof StoredResult>;
export const Side = z.enum(["yes", "no"]);
export type Side = z.infer<typeof Side>;

const epochMs = z.number().int().nonnegative();
const price = z.number().gt(0).lt(1);

export const MarketRow = z.object({
  ticker: z.string().min(1),
  event_ticker: z.string(),
  series_ticker: z.string(),
  title: z.string(),
  subtitle: z.string().nullable(),
  rules: z.string().nullable(),
  background: z.string().nullable(),
  category: z.string().nullable(),
  open_time: epochMs,
  close_time: epochMs,
  scheduled_close_time: epochMs.nullable(),
  settle_time: epochMs.nullable(),
  result: StoredResult,
});
export type MarketRow = z.infer<typeof MarketRow>;

export const QuoteRow = z.object({
  ts: epochMs,
  ticker: z.string().min(1),
  yes_bid: price.nullable(),
  yes_ask: price.nullable(),
  last_price: price.nullable(),
  volume: z.number().nonnegative().nullable(),
  open_interest: z.number().nonnegative().nullable(),
});
export type QuoteRow = z.infer<typeof QuoteRow>;

export const TradeRow = z.object({
  ts: epochMs,
  ticker: z.string().min(1),
  trade_id: z.string().min(1),
  yes_price: price,
  count: z.number().positive(),
  taker_side: Side,
  seq: z.number().int().nonnegative(),
});
export type TradeRow = z.infer<typeof TradeRow>;

export const BookLevel = z.tuple([price, z.number().positive()]);
export const OrderbookRow = z.object({
  ts: epochMs,
  ticker: z.string().min(1),
  yes: z.array(BookLevel),
  no: z.array(BookLevel),
});
export type OrderbookRow = z.infer<typeof OrderbookRow>;

export const NewsRow = z.object({
  ts: epochMs,
  id: z.string().min(1),
  source: z.string(),
  title: z.string().min(1),
  summary: z.string().nullable(),
  url: z.string().nullable(),
  tickers: z.array(z.string()).nullable(),
});
export type NewsRow = z.infer<typeof NewsRow>;

export const TableEntry = z.object({
  file: z.string(), // relative to the dataset folder, e.g. "markets.parquet"
  rows: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TableEntry = z.infer<typeof TableEntry>;

/** A stretch where the live feed was stale (a seq gap, a dropped socket, the recorder not running); ticker null: every market. */
export const RecordingGap = z.object({ ticker: z.string().nullable(), start: epochMs, end: epochMs, reason: z.string() });
export type RecordingGap = z.infer<typeof RecordingGap>;

export const RecordingInfo = z.object({
  /** Wall-clock window the recorder ran over (ms), first start to last row or stop. */
  start: epochMs,
  end: epochMs,
  /** 1 − stale market-time / (markets × window): 1 means every book was whole the whole time. */
  coverage: z.number().min(0).max(1),
  gaps: z.array(RecordingGap),
  /** Durable segment files the tables were built from (under recording/). */
  segments: z.number().int().nonnegative(),
});
export type RecordingInfo = z.infer<typeof RecordingInfo>;

export const Manifest = z.object({
  format: z.literal(DATASET_FORMAT),
  name: z.string().min(1),
  description: z.string(),
  source: z.object({
    importer: z.string(), // e.g. "kalshi", "news", "forecastbench", "synthetic"
    inputs: z.array(z.string()), // what was read (paths as given, never secrets)
    origin: z.string(), // where the data came from, in words or a URL
    importedAt: z.string(), // ISO-8601
    notes: z.array(z.string()).default([]),
  }),
  license: z.string(),
  span: z.object({ start: epochMs, end: epochMs }),
  tables: z.object({
    markets: TableEntry,
    quotes: TableEntry.optional(),
    trades: TableEntry.optional(),
    orderbook: TableEntry.optional(),
    news: TableEntry.optional(),
  }),
  /**
   * What the data can support. `hasBidAsk: false` (a trades-only recording)
   * tells the replay engine to use the `trade-print` fill model.
   */
  capabilities: z.object({
    hasBidAsk: z.boolean(),
    hasTrades: z.boolean(),
    hasOrderbook: z.boolean(),
    hasNews: z.boolean(),
  }),
  /** Datasets written by `tapedeck record`: where the feed was stale, and how much of the window it covered. */
  recording: RecordingInfo.optional(),
});
export type Manifest = z.infer<typeof Manifest>;
