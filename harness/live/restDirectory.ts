/**
 * The live source's REST side over Kalshi's public market endpoints
 * (GET /markets, /markets/{ticker}, /markets/{ticker}/orderbook): which
 * markets to follow, and books and quotes to poll while the WebSocket is
 * down. Public market reads need no signature, so this sends none (no
 * Kalshi header leaves here); it uses Node's fetch, not axios, so it never
 * shares the SDK's signing hook either. Every response is checked with zod;
 * a field Kalshi renamed fails loudly with its name instead of quietly
 * trading on nulls.
 */
import { z } from "zod";
import type { LiveMarket, MarketDirectory, PolledQuote } from "./marketDirectory.ts";

const level = z.tuple([z.string(), z.string()]);
const WireMarket = z.object({
  ticker: z.string(),
  event_ticker: z.string(),
  series_ticker: z.string().optional(),
  title: z.string(),
  subtitle: z.string().nullable().optional(),
  rules_primary: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  status: z.string(),
  open_time: z.string(),
  close_time: z.string(),
  result: z.string().nullable().optional(),
  settlement_ts: z.string().nullable().optional(),
  yes_bid_dollars: z.string().nullable().optional(),
  yes_ask_dollars: z.string().nullable().optional(),
  last_price_dollars: z.string().nullable().optional(),
  volume_fp: z.string().nullable().optional(),
  open_interest_fp: z.string().nullable().optional(),
});
type WireMarket = z.infer<typeof WireMarket>;
const MarketsPage = z.object({ markets: z.array(WireMarket), cursor: z.string().nullable().optional() });
const OneMarket = z.object({ market: WireMarket });
const Orderbook = z.object({
  orderbook_fp: z.object({ yes_dollars: z.array(level).nullable().optional(), no_dollars: z.array(level).nullable().optional() }),
});

export class RestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestError";
  }
}

export class RestMarketDirectory implements MarketDirectory {
  /** `base`: the REST base including /trade-api/v2. */
  constructor(
    private readonly base: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async #get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new RestError(`GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!res.ok) throw new RestError(`GET ${path}: HTTP ${res.status}`);
    const parsed = schema.safeParse(await res.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RestError(`GET ${path}: field ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "unexpected response"}`);
    }
    return parsed.data;
  }

  async markets(query: { series: readonly string[]; tickers: readonly string[] }): Promise<LiveMarket[]> {
    const out = new Map<string, LiveMarket>();
    for (const series of query.series) {
      let cursor = "";
      do {
        const page = await this.#get(`/markets?series_ticker=${encodeURIComponent(series)}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, MarketsPage);
        for (const m of page.markets) if (!isFinished(m.status)) out.set(m.ticker, toLive(m, series));
        cursor = page.cursor ?? "";
      } while (cursor !== "");
    }
    for (const ticker of query.tickers) {
      if (out.has(ticker)) continue;
      const { market } = await this.#get(`/markets/${encodeURIComponent(ticker)}`, OneMarket);
      out.set(market.ticker, toLive(market, null));
    }
    return [...out.values()];
  }

  async orderbook(ticker: string): Promise<{ yes: Array<[string, string]>; no: Array<[string, string]> }> {
    const { orderbook_fp: b } = await this.#get(`/markets/${encodeURIComponent(ticker)}/orderbook`, Orderbook);
    return { yes: b.yes_dollars ?? [], no: b.no_dollars ?? [] };
  }

  async quote(ticker: string): Promise<PolledQuote> {
    const { market: m } = await this.#get(`/markets/${encodeURIComponent(ticker)}`, OneMarket);
    return {
      ticker: m.ticker,
      yesBidDollars: m.yes_bid_dollars ?? null,
      yesAskDollars: m.yes_ask_dollars ?? null,
      lastPriceDollars: m.last_price_dollars ?? null,
      volumeFp: m.volume_fp ?? null,
      openInterestFp: m.open_interest_fp ?? null,
    };
  }
}

/** Settled and finalized markets have nothing left to record or trade. */
function isFinished(status: string): boolean {
  return status === "settled" || status === "finalized";
}

function time(iso: string, field: string, ticker: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RestError(`market ${ticker} field ${field}: not a time (${iso})`);
  return t;
}

function toLive(m: WireMarket, series: string | null): LiveMarket {
  const result = m.result === "yes" || m.result === "no" ? m.result : null;
  return {
    ticker: m.ticker,
    eventTicker: m.event_ticker,
    seriesTicker: m.series_ticker ?? series ?? m.event_ticker.split("-")[0]!,
    title: m.title,
    subtitle: m.subtitle || null,
    rules: m.rules_primary || null,
    category: m.category || null,
    openTime: time(m.open_time, "open_time", m.ticker),
    closeTime: time(m.close_time, "close_time", m.ticker),
    scheduledCloseTime: time(m.close_time, "close_time", m.ticker),
    status: m.status === "active" || m.status === "open" ? "active" : m.status,
    result,
    settleTime: m.settlement_ts ? time(m.settlement_ts, "settlement_ts", m.ticker) : null,
  };
}
