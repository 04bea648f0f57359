/**
 * Row rules every dataset table must satisfy, as SQL. Each rule selects the
 * offending rows of `T` (a table relation with a 1-based `_row` column) as
 * (`_file`, `_row`, `value`); `M` is the markets relation, for ticker look-ups. The
 * validator runs them over Parquet files.
 */
import type { TableName } from "./format.ts";

export interface Rule {
  table: TableName;
  field: string;
  message: string;
  /** SELECT _file, _row, value FROM T … (value may be any type; it is shown as text). */
  select: string;
}

const priceOutside = (table: TableName, field: string, nullable: boolean): Rule => ({
  table,
  field,
  message: "price outside (0, 1)",
  select: `SELECT _file, _row, ${field} AS value FROM T WHERE ${nullable ? `${field} IS NOT NULL AND ` : ""}(${field} IS NULL OR NOT (${field} > 0 AND ${field} < 1) OR isnan(${field}))`,
});

const required = (table: TableName, field: string): Rule => ({
  table,
  field,
  message: "missing value",
  select: `SELECT _file, _row, ${field} AS value FROM T WHERE ${field} IS NULL`,
});

const nonEmpty = (table: TableName, field: string): Rule => ({
  table,
  field,
  message: "empty",
  select: `SELECT _file, _row, ${field} AS value FROM T WHERE ${field} IS NULL OR trim(${field}) = ''`,
});

const unique = (table: TableName, field: string): Rule => ({
  table,
  field,
  message: `duplicate ${field} (seen in an earlier row)`,
  select: `SELECT _file, _row, ${field} AS value FROM (SELECT _file, _row, ${field}, row_number() OVER (PARTITION BY ${field} ORDER BY _row) AS k FROM T) WHERE k > 1 AND ${field} IS NOT NULL`,
});

const knownTicker = (table: TableName): Rule => ({
  table,
  field: "ticker",
  message: "unknown ticker (not in markets)",
  select: `SELECT _file, _row, ticker AS value FROM T WHERE NOT EXISTS (SELECT 1 FROM M WHERE M.ticker = T.ticker)`,
});

const nonNegative = (table: TableName, field: string): Rule => ({
  table,
  field,
  message: "negative",
  select: `SELECT _file, _row, ${field} AS value FROM T WHERE ${field} < 0`,
});

const badLevels = (side: "yes" | "no"): Rule => ({
  table: "orderbook",
  field: side,
  message: "book level not [price in (0, 1), qty > 0]",
  select: `SELECT _file, _row, l AS value FROM (SELECT _file, _row, unnest(${side}) AS l FROM T) WHERE len(l) <> 2 OR l[1] IS NULL OR NOT (l[1] > 0 AND l[1] < 1) OR l[2] IS NULL OR NOT (l[2] > 0)`,
});

export const RULES: readonly Rule[] = [
  nonEmpty("markets", "ticker"),
  unique("markets", "ticker"),
  {
    table: "markets",
    field: "result",
    message: "result must be yes, no, void (refunded) or null (unresolved)",
    select: `SELECT _file, _row, result AS value FROM T WHERE result IS NOT NULL AND result NOT IN ('yes', 'no', 'void')`,
  },
  required("markets", "open_time"),
  required("markets", "close_time"),
  {
    table: "markets",
    field: "close_time",
    message: "close_time before open_time",
    select: `SELECT _file, _row, close_time AS value FROM T WHERE close_time < open_time`,
  },
  {
    table: "markets",
    field: "settle_time",
    message: "settle_time before open_time",
    select: `SELECT _file, _row, settle_time AS value FROM T WHERE settle_time < open_time`,
  },

  required("quotes", "ts"),
  knownTicker("quotes"),
  priceOutside("quotes", "yes_bid", true),
  priceOutside("quotes", "yes_ask", true),
  priceOutside("quotes", "last_price", true),
  {
    table: "quotes",
    field: "yes_bid",
    message: "bid above ask",
    select: `SELECT _file, _row, CAST(yes_bid AS VARCHAR) || ' > ' || CAST(yes_ask AS VARCHAR) AS value FROM T WHERE yes_bid > yes_ask`,
  },
  nonNegative("quotes", "volume"),
  nonNegative("quotes", "open_interest"),

  required("trades", "ts"),
  required("trades", "seq"),
  unique("trades", "seq"),
  knownTicker("trades"),
  nonEmpty("trades", "trade_id"),
  unique("trades", "trade_id"),
  priceOutside("trades", "yes_price", false),
  {
    table: "trades",
    field: "count",
    message: "count must be > 0",
    select: `SELECT _file, _row, count AS value FROM T WHERE count IS NULL OR NOT (count > 0)`,
  },
  {
    table: "trades",
    field: "taker_side",
    message: "taker_side must be yes or no",
    select: `SELECT _file, _row, taker_side AS value FROM T WHERE taker_side IS NULL OR taker_side NOT IN ('yes', 'no')`,
  },

  required("orderbook", "ts"),
  knownTicker("orderbook"),
  badLevels("yes"),
  badLevels("no"),
  {
    table: "orderbook",
    field: "yes",
    message: "crossed book: best YES bid + best NO bid above 1 (bid above ask)",
    select: `SELECT _file, _row, CAST(list_max(list_transform(yes, l -> l[1])) AS VARCHAR) || ' + ' || CAST(list_max(list_transform(no, l -> l[1])) AS VARCHAR) AS value
             FROM T WHERE list_max(list_transform(yes, l -> l[1])) + list_max(list_transform(no, l -> l[1])) > 1 + 1e-9`,
  },

  required("news", "ts"),
  nonEmpty("news", "id"),
  unique("news", "id"),
  nonEmpty("news", "title"),
];
