/**
 * Kalshi's WebSocket wire protocol (trade-api/ws/v2), as zod schemas: what
 * the client (kalshiWs.ts) accepts and what the loopback fake
 * (fakeKalshi/ws.ts) sends. One file, so the fake cannot drift from the
 * client. Field names follow Kalshi's current fixed-point fields
 * (`*_dollars`, `*_fp`); see ../shared/KALSHI.md. Unknown fields are kept
 * out (zod strips them); a message whose known fields are wrong is a
 * protocol error the client logs and drops, never a crash.
 */
import { z } from "zod";

/** Dollar string, e.g. "0.4500". */
const dollars = z.string().regex(/^-?\d+(\.\d+)?$/, "a dollar string");
/** Fixed-point count string, e.g. "12.00" (negative in deltas). */
const fp = z.string().regex(/^-?\d+(\.\d+)?$/, "a fixed-point count string");
/** A price level as Kalshi sends it: [price_dollars, count_fp]. */
const level = z.tuple([dollars, fp]);

export const SubscribeCommand = z.object({
  id: z.number().int(),
  cmd: z.literal("subscribe"),
  params: z.object({ channels: z.array(z.string()).min(1), market_tickers: z.array(z.string()).optional() }),
});
export const UnsubscribeCommand = z.object({ id: z.number().int(), cmd: z.literal("unsubscribe"), params: z.object({ sids: z.array(z.number().int()) }) });
export const ClientCommand = z.discriminatedUnion("cmd", [SubscribeCommand, UnsubscribeCommand]);
export type ClientCommand = z.infer<typeof ClientCommand>;

/** A level where the count may come as a number (`yes_dollars`, before the `_fp` fields): normalised to the string form. */
const looseLevel = z.tuple([dollars, z.union([fp, z.number().nonnegative()])]).transform(([p, q]): [string, string] => [p, typeof q === "number" ? q.toFixed(2) : q]);

/**
 * Kalshi omits a side with no bids, so an absent side is empty; the
 * `yes_dollars`/`no_dollars` form (counts as numbers) is read when the
 * `_fp` form is absent, so either spelling fills the book.
 */
export const OrderbookSnapshotMsg = z
  .object({
    market_ticker: z.string(),
    yes_dollars_fp: z.array(level).optional(),
    no_dollars_fp: z.array(level).optional(),
    yes_dollars: z.array(looseLevel).optional(),
    no_dollars: z.array(looseLevel).optional(),
    ts_ms: z.number().int().optional(),
  })
  .transform((m) => ({
    market_ticker: m.market_ticker,
    yes_dollars_fp: m.yes_dollars_fp ?? m.yes_dollars ?? [],
    no_dollars_fp: m.no_dollars_fp ?? m.no_dollars ?? [],
    ...(m.ts_ms !== undefined ? { ts_ms: m.ts_ms } : {}),
  }));
export const OrderbookDeltaMsg = z.object({
  market_ticker: z.string(),
  price_dollars: dollars,
  delta_fp: fp,
  side: z.enum(["yes", "no"]),
  /** ISO-8601 on deltas (Kalshi); ts_ms when present is preferred. */
  ts: z.string().optional(),
  ts_ms: z.number().int().optional(),
});
export const TickerMsg = z.object({
  market_ticker: z.string(),
  price_dollars: dollars.nullable().optional(),
  yes_bid_dollars: dollars.nullable().optional(),
  yes_ask_dollars: dollars.nullable().optional(),
  volume_fp: fp.nullable().optional(),
  open_interest_fp: fp.nullable().optional(),
  /** Seconds (Kalshi); ts_ms when present is preferred. */
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});
export const TradeMsg = z.object({
  trade_id: z.string(),
  market_ticker: z.string(),
  yes_price_dollars: dollars,
  count_fp: fp,
  taker_side: z.enum(["yes", "no"]),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});
export const LifecycleMsg = z.object({
  market_ticker: z.string(),
  /** created | activated | deactivated | close_date_updated | determined | settled */
  event_type: z.string(),
  open_ts: z.number().int().optional(),
  close_ts: z.number().int().optional(),
  result: z.string().optional(),
  determination_ts: z.number().int().optional(),
  settled_ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});
export const FillMsg = z.object({
  trade_id: z.string(),
  order_id: z.string(),
  client_order_id: z.string().optional(),
  market_ticker: z.string(),
  is_taker: z.boolean(),
  side: z.enum(["yes", "no"]),
  action: z.enum(["buy", "sell"]),
  yes_price_dollars: dollars,
  count_fp: fp,
  fee_cost: dollars.optional(),
  post_position_fp: fp.optional(),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});
export const UserOrderMsg = z.object({
  order_id: z.string(),
  client_order_id: z.string().optional(),
  ticker: z.string(),
  /** resting | canceled | executed */
  status: z.string(),
  side: z.enum(["yes", "no"]),
  action: z.enum(["buy", "sell"]).optional(),
  yes_price_dollars: dollars.optional(),
  fill_count_fp: fp.optional(),
  remaining_count_fp: fp.optional(),
  initial_count_fp: fp.optional(),
  taker_fees_dollars: dollars.optional(),
  maker_fees_dollars: dollars.optional(),
  last_update_ts_ms: z.number().int().optional(),
});

export type OrderbookSnapshotMsg = z.output<typeof OrderbookSnapshotMsg>;
export type OrderbookDeltaMsg = z.infer<typeof OrderbookDeltaMsg>;
export type TickerMsg = z.infer<typeof TickerMsg>;
export type TradeMsg = z.infer<typeof TradeMsg>;
export type LifecycleMsg = z.infer<typeof LifecycleMsg>;
export type FillMsg = z.infer<typeof FillMsg>;
export type UserOrderMsg = z.infer<typeof UserOrderMsg>;

/** Data messages by their `type`, with the payload schema of each. */
export const DATA_MESSAGES = {
  orderbook_snapshot: OrderbookSnapshotMsg,
  orderbook_delta: OrderbookDeltaMsg,
  ticker: TickerMsg,
  trade: TradeMsg,
  market_lifecycle_v2: LifecycleMsg,
  fill: FillMsg,
  user_order: UserOrderMsg,
} as const;
export type DataMessageType = keyof typeof DATA_MESSAGES;

/** The envelope every server frame has. */
export const ServerFrame = z.object({
  type: z.string(),
  id: z.number().int().optional(),
  sid: z.number().int().optional(),
  seq: z.number().int().optional(),
  msg: z.unknown().optional(),
});
export type ServerFrame = z.infer<typeof ServerFrame>;

export const SubscribedMsg = z.object({ channel: z.string(), sid: z.number().int() });
export const ErrorMsg = z.object({ code: z.number().int().optional(), msg: z.string().optional() });

/** The channels a live source subscribes to; `fill` and `user_orders` are private (need a signed connection). */
export const MARKET_CHANNELS = ["orderbook_delta", "ticker", "trade", "market_lifecycle_v2"] as const;
export const PRIVATE_CHANNELS = ["fill", "user_orders"] as const;
export type Channel = (typeof MARKET_CHANNELS)[number] | (typeof PRIVATE_CHANNELS)[number];

/** The WebSocket path that is signed (timestamp + "GET" + this). */
export const WS_PATH = "/trade-api/ws/v2";

/** Event time of a message: exchange milliseconds when given, else `ts` (seconds, or an ISO-8601 string), else null (the receiver stamps it). */
export function messageTime(m: { ts?: number | string | undefined; ts_ms?: number | undefined }): number | null {
  if (m.ts_ms !== undefined) return m.ts_ms;
  if (typeof m.ts === "number") return m.ts * 1000;
  if (typeof m.ts === "string") {
    const t = Date.parse(m.ts);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}
