/**
 * The fake exchange's REST API: the Kalshi endpoints tapedeck uses, under
 * `/trade-api/v2`, with Kalshi's authentication (RSA-PSS SHA-256 signature
 * over `timestamp + METHOD + path`, checked with the account's public key),
 * token-bucket rate limits (429 without Retry-After) and Kalshi's error shape
 * `{ error: { code, message } }`. Scripted faults from the exchange core are
 * applied before a request is served.
 *
 * Public market reads need no signature (as on Kalshi); everything under
 * `/portfolio` and `/account` does.
 */
import { constants, createPublicKey, verify } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { dollarsToUnits } from "../../money/money.ts";
import { dollars, ExchangeError, fp, type FakeExchange, type FakeMarket, type OrderStatus } from "./exchange.ts";

export const REST_PREFIX = "/trade-api/v2";
export const WS_PATH = "/trade-api/ws/v2";
/** How far a request's timestamp may be from the server's clock. */
const MAX_SKEW_MS = 60_000;

const CreateOrderV2Body = z.object({
  ticker: z.string().min(1),
  side: z.enum(["bid", "ask"]),
  count: z.string().regex(/^\d+(\.\d{1,2})?$/),
  price: z.string().regex(/^0?\.\d{1,6}$|^0$|^1(\.0+)?$/),
  time_in_force: z.enum(["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]),
  self_trade_prevention_type: z.string(),
  client_order_id: z.string().min(1).optional(),
  post_only: z.boolean().optional(),
  reduce_only: z.boolean().optional(),
  expiration_time: z.number().optional(),
  subaccount: z.number().optional(),
  order_group_id: z.string().optional(),
  exchange_index: z.number().optional(),
  cancel_order_on_pause: z.boolean().optional(),
});
const DecreaseBody = z.object({ reduce_by: z.string().optional(), reduce_to: z.string().optional() });
const AmendBody = z.object({ ticker: z.string(), side: z.enum(["bid", "ask"]), price: z.string(), count: z.string() });

/**
 * Check Kalshi's signature headers against the account's public key. Returns
 * the key id, or null when any part is missing, unknown, stale or wrong.
 * Exported for the WebSocket server's handshake (sign `GET /trade-api/ws/v2`).
 */
export function authenticate(exchange: FakeExchange, headers: IncomingHttpHeaders, method: string, path: string): string | null {
  const keyId = header(headers, "kalshi-access-key");
  const ts = header(headers, "kalshi-access-timestamp");
  const sig = header(headers, "kalshi-access-signature");
  if (!keyId || !ts || !sig || !/^\d+$/.test(ts)) return null;
  if (Math.abs(Date.now() - Number(ts)) > MAX_SKEW_MS) return null;
  const acc = exchange.account(keyId);
  if (!acc || acc.publicKeyPem === null) return null;
  const ok = verify(
    "sha256",
    Buffer.from(ts + method.toUpperCase() + path, "utf8"),
    { key: createPublicKey(acc.publicKeyPem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
    Buffer.from(sig, "base64"),
  );
  return ok ? keyId : null;
}

function header(h: IncomingHttpHeaders, name: string): string | null {
  const v = h[name];
  return typeof v === "string" && v.length > 0 ? v : null;
}

type Json = Record<string, unknown>;

/** A request handler for node:http serving the exchange. */
export function createRestHandler(exchange: FakeExchange): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        serve(exchange, req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        if (e instanceof ExchangeError) send(res, e.status, { error: { code: e.code, message: e.message } });
        else send(res, 500, { error: { code: "internal_server_error", message: e instanceof Error ? e.message : String(e) } });
      }
    });
  };
}

function send(res: ServerResponse, status: number, body: Json): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function serve(exchange: FakeExchange, req: IncomingMessage, res: ServerResponse, text: string): void {
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://fake");
  if (!url.pathname.startsWith(REST_PREFIX + "/")) return send(res, 404, { error: { code: "not_found", message: url.pathname } });
  const path = url.pathname.slice(REST_PREFIX.length);
  const route = routeOf(method, path);
  if (!route) return send(res, 404, { error: { code: "not_found", message: `${method} ${path}` } });

  const isSubmit = route.name === "POST /portfolio/events/orders";
  const fault = exchange.takeFault(method, path, isSubmit);
  if (fault?.kind === "status") return send(res, fault.status, { error: { code: fault.code, message: `scripted ${fault.status}` } });

  let keyId: string | null = null;
  if (route.private) {
    keyId = authenticate(exchange, req.headers, method, url.pathname);
    if (keyId === null) return send(res, 401, { error: { code: "unauthorized", message: "missing or invalid signature" } });
    if (!exchange.chargeRequest(keyId, method, route.costPath)) {
      return send(res, 429, { error: { code: "too_many_requests", message: "rate limit exceeded" } });
    }
  }
  let body: unknown = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, { error: { code: "bad_request", message: "body is not JSON" } });
    }
  }
  const q = url.searchParams;
  const p = route.params;
  const key = keyId ?? "";

  switch (route.name) {
    case "GET /exchange/status":
      return send(res, 200, { exchange_active: true, trading_active: true });
    case "GET /exchange/user_data_timestamp":
      return send(res, 200, { as_of_time: new Date(exchange.now()).toISOString() });
    case "GET /account/limits": {
      const l = exchange.limits();
      return send(res, 200, { usage_tier: l.usage_tier, read: l.read, write: l.write, grants: [] });
    }
    case "GET /account/endpoint_costs": {
      const l = exchange.limits();
      return send(res, 200, { default_cost: l.defaultCost, endpoint_costs: l.endpointCosts });
    }
    case "GET /markets": {
      const tickers = q.get("tickers")?.split(",").filter(Boolean);
      const series = q.get("series_ticker");
      const markets = exchange
        .markets()
        .filter((m) => (!tickers || tickers.includes(m.ticker)) && (!series || m.seriesTicker === series))
        .map((m) => wireMarket(exchange, m));
      return send(res, 200, { markets, cursor: "" });
    }
    case "GET /markets/{ticker}": {
      const m = exchange.market(p.ticker!);
      if (!m) return send(res, 404, { error: { code: "market_not_found", message: p.ticker! } });
      return send(res, 200, { market: wireMarket(exchange, m) });
    }
    case "GET /markets/{ticker}/orderbook": {
      const snap = exchange.bookSnapshot(p.ticker!);
      return send(res, 200, { orderbook_fp: { yes_dollars: snap.msg.yes_dollars_fp, no_dollars: snap.msg.no_dollars_fp } });
    }
    case "GET /portfolio/balance": {
      const b = exchange.availableUnits(key);
      return send(res, 200, {
        balance: Math.floor(b / 100),
        balance_dollars: dollars(b),
        portfolio_value: Math.floor(exchange.portfolioValueUnits(key) / 100),
        updated_ts: Math.floor(exchange.now() / 1000),
      });
    }
    case "GET /portfolio/positions": {
      const ticker = q.get("ticker");
      const positions = exchange.positions(key).filter((x) => !ticker || x.ticker === ticker);
      return send(res, 200, { market_positions: positions, event_positions: [], cursor: "" });
    }
    case "GET /portfolio/fills": {
      const filter: { ticker?: string; orderId?: string } = {};
      const t = q.get("ticker");
      const o = q.get("order_id");
      if (t) filter.ticker = t;
      if (o) filter.orderId = o;
      return send(res, 200, { fills: exchange.fills(key, filter), cursor: "" });
    }
    case "GET /portfolio/orders": {
      const filter: { ticker?: string; status?: OrderStatus } = {};
      const t = q.get("ticker");
      const s = q.get("status");
      if (t) filter.ticker = t;
      if (s === "resting" || s === "canceled" || s === "executed") filter.status = s;
      return send(res, 200, { orders: exchange.orders(key, filter), cursor: "" });
    }
    case "GET /portfolio/orders/{id}": {
      const o = exchange.order(key, p.id!);
      if (!o) return send(res, 404, { error: { code: "order_not_found", message: p.id! } });
      return send(res, 200, { order: exchange.wireOrder(o) });
    }
    case "POST /portfolio/events/orders": {
      const parsed = CreateOrderV2Body.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return send(res, 400, { error: { code: "invalid_parameters", message: `${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"}` } });
      }
      const b = parsed.data;
      const result = exchange.placeOrder(key, {
        ticker: b.ticker,
        side: b.side,
        count: Number(b.count),
        price: dollarsToUnits(b.price),
        timeInForce: b.time_in_force,
        clientOrderId: b.client_order_id ?? null,
        postOnly: b.post_only ?? false,
        reduceOnly: b.reduce_only ?? false,
      });
      // The fault "executed, but the answer never came": leave the request hanging until the client gives up.
      if (fault?.kind === "hang_after_execute") return;
      if (fault?.kind === "garble_after_execute") {
        const { order_id, ...rest } = result;
        return send(res, 201, { ...rest, id: order_id });
      }
      return send(res, 201, { ...result });
    }
    case "DELETE /portfolio/events/orders": {
      const ids = exchange.cancelAll(key, q.get("ticker") ?? undefined);
      return send(res, 200, { order_ids: ids, ts_ms: exchange.now() });
    }
    case "DELETE /portfolio/events/orders/{id}": {
      const { order, reducedBy } = exchange.cancelOrder(key, p.id!);
      return send(res, 200, { order_id: order.id, client_order_id: order.clientOrderId, reduced_by: fp(reducedBy), ts_ms: exchange.now() });
    }
    case "POST /portfolio/events/orders/{id}/decrease": {
      const parsed = DecreaseBody.safeParse(body);
      if (!parsed.success || (parsed.data.reduce_by === undefined) === (parsed.data.reduce_to === undefined)) {
        return send(res, 400, { error: { code: "invalid_parameters", message: "exactly one of reduce_by, reduce_to" } });
      }
      const by: { reduceBy?: number; reduceTo?: number } = {};
      if (parsed.data.reduce_by !== undefined) by.reduceBy = Number(parsed.data.reduce_by);
      if (parsed.data.reduce_to !== undefined) by.reduceTo = Number(parsed.data.reduce_to);
      const o = exchange.decreaseOrder(key, p.id!, by);
      return send(res, 200, { order_id: o.id, client_order_id: o.clientOrderId, remaining_count: fp(o.remaining), ts_ms: exchange.now() });
    }
    case "POST /portfolio/events/orders/{id}/amend": {
      const parsed = AmendBody.safeParse(body);
      if (!parsed.success) return send(res, 400, { error: { code: "invalid_parameters", message: "ticker, side, price, count" } });
      const o = exchange.amendOrder(key, p.id!, dollarsToUnits(parsed.data.price), Number(parsed.data.count));
      return send(res, 200, {
        order_id: o.id,
        client_order_id: o.clientOrderId,
        remaining_count: fp(o.remaining),
        fill_count: fp(o.filled),
        ts_ms: exchange.now(),
      });
    }
  }
}

interface Route {
  name: string;
  private: boolean;
  /** The path as the endpoint-cost table names it. */
  costPath: string;
  params: Record<string, string>;
}

const ROUTES: Array<{ method: string; pattern: string; private: boolean }> = [
  { method: "GET", pattern: "/exchange/status", private: false },
  { method: "GET", pattern: "/exchange/user_data_timestamp", private: true },
  { method: "GET", pattern: "/account/limits", private: true },
  { method: "GET", pattern: "/account/endpoint_costs", private: true },
  { method: "GET", pattern: "/markets", private: false },
  { method: "GET", pattern: "/markets/{ticker}", private: false },
  { method: "GET", pattern: "/markets/{ticker}/orderbook", private: false },
  { method: "GET", pattern: "/portfolio/balance", private: true },
  { method: "GET", pattern: "/portfolio/positions", private: true },
  { method: "GET", pattern: "/portfolio/fills", private: true },
  { method: "GET", pattern: "/portfolio/orders", private: true },
  { method: "GET", pattern: "/portfolio/orders/{id}", private: true },
  { method: "POST", pattern: "/portfolio/events/orders", private: true },
  { method: "DELETE", pattern: "/portfolio/events/orders", private: true },
  { method: "DELETE", pattern: "/portfolio/events/orders/{id}", private: true },
  { method: "POST", pattern: "/portfolio/events/orders/{id}/decrease", private: true },
  { method: "POST", pattern: "/portfolio/events/orders/{id}/amend", private: true },
];

function routeOf(method: string, path: string): Route | null {
  const parts = path.split("/").filter(Boolean);
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const pat = r.pattern.split("/").filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      const seg = pat[i]!;
      if (seg.startsWith("{")) params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
      else if (seg !== parts[i]) ok = false;
    }
    if (ok) return { name: `${method} ${r.pattern}`, private: r.private, costPath: r.pattern.replace("{id}", "{order_id}"), params };
  }
  return null;
}

function wireMarket(exchange: FakeExchange, m: FakeMarket): Json {
  const { bid, ask } = exchange.bestPrices(m.ticker);
  return {
    ticker: m.ticker,
    event_ticker: m.eventTicker,
    series_ticker: m.seriesTicker,
    title: m.title,
    subtitle: "",
    status: m.status === "open" ? "active" : m.status === "closed" ? "closed" : "finalized",
    open_time: new Date(m.openTime).toISOString(),
    close_time: new Date(m.closeTime).toISOString(),
    result: m.result ?? "",
    yes_bid_dollars: bid === null ? null : dollars(bid),
    yes_ask_dollars: ask === null ? null : dollars(ask),
    last_price_dollars: m.lastPrice === null ? null : dollars(m.lastPrice),
    volume_fp: fp(m.volume),
    price_level_structure: "linear_cent",
  };
}
