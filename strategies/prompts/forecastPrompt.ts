/**
 * Versioned prompt templates for the forecast task. A run stores the
 * template it used (the `prompts` table), so a result can always be traced
 * to the exact words a model saw. Change wording by adding a version, never
 * by editing one in place: cached answers are keyed by the prompt text.
 */
import { createHash } from "node:crypto";
import type { ChatMessage } from "../../providers/provider.ts";
import { unitsToDollars } from "../../harness/money/money.ts";
import type { MarketSnapshot } from "../../harness/state/marketState.ts";
import type { NewsEvent } from "../../harness/events/types.ts";

export interface PromptInputs {
  now: number;
  market: MarketSnapshot;
  /** The market's own price now, in dollars, or null. */
  marketPrice: number | null;
  news: readonly NewsEvent[];
  recentTrades: number;
}

export interface PromptTemplate {
  version: string;
  system: string;
  /** The user message, from the visible state only. */
  user(inputs: PromptInputs): string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function hoursToClose(now: number, close: number): string {
  const h = (close - now) / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)} days` : `${h.toFixed(1)} hours`;
}

export const FORECAST_V1: PromptTemplate = {
  version: "forecast-v1",
  system:
    "You forecast binary prediction markets. Answer with JSON only: " +
    '{"probability": P(YES) between 0 and 1, "confidence": how sure you are between 0 and 1, "rationale": one short sentence}.',
  user({ now, market, marketPrice, news, recentTrades }) {
    const m = market.info;
    const lines = [
      `Market: ${m.title}${m.subtitle ? ` (${m.subtitle})` : ""}`,
      `Ticker: ${m.ticker}${m.category ? `, category ${m.category}` : ""}`,
      // The scheduled close only; a dataset without one shows no close time (the actual close would leak the outcome's timing).
      m.scheduledCloseTime === null ? `Now: ${iso(now)}.` : `Now: ${iso(now)}. Closes: ${iso(m.scheduledCloseTime)} (in ${hoursToClose(now, m.scheduledCloseTime)}).`,
    ];
    if (m.rules) lines.push(`Rules: ${m.rules.slice(0, 600)}`);
    if (m.background) lines.push(`Background: ${m.background.slice(0, 600)}`);
    if (market.quote && (market.quote.yesBid !== null || market.quote.yesAsk !== null)) {
      const f = (u: number | null) => (u === null ? "none" : unitsToDollars(u).toFixed(4));
      lines.push(`Quote: YES bid ${f(market.quote.yesBid)}, YES ask ${f(market.quote.yesAsk)}.`);
    }
    if (marketPrice !== null) lines.push(`Market probability now: ${marketPrice.toFixed(4)}.`);
    const trades = market.recentTrades.slice(-recentTrades);
    if (trades.length > 0) {
      lines.push(`Last ${trades.length} trades (time, YES price, contracts): ${trades.map((t) => `${iso(t.ts).slice(11, 19)} ${unitsToDollars(t.yesPrice).toFixed(2)} x${t.count}`).join("; ")}`);
    }
    lines.push(`Contracts traded so far: ${market.volume}.`);
    if (news.length > 0) lines.push("Recent headlines:", ...news.map((n) => `- [${iso(n.ts)}] ${n.source}: ${n.title}`));
    lines.push("What is the probability that this market resolves YES?");
    return lines.join("\n");
  },
};

/**
 * For small local models with short contexts (the bundled tiny model reads
 * 512 tokens at most, about one character each): the market, its price and
 * the time left, nothing else.
 */
export const FORECAST_COMPACT_V1: PromptTemplate = {
  version: "forecast-compact-v1",
  system: 'JSON only: {"probability": 0..1, "confidence": 0..1, "rationale": short}.',
  user({ now, market, marketPrice }) {
    const price = marketPrice === null ? "" : ` Price ${marketPrice.toFixed(2)}.`;
    const close = market.info.scheduledCloseTime;
    return `${market.info.title.slice(0, 80)}.${price}${close === null ? "" : ` Closes in ${hoursToClose(now, close)}.`} P(YES)?`;
  },
};

export const PROMPTS: Readonly<Record<string, PromptTemplate>> = {
  [FORECAST_V1.version]: FORECAST_V1,
  [FORECAST_COMPACT_V1.version]: FORECAST_COMPACT_V1,
};

export function promptTemplate(version: string): PromptTemplate {
  const t = PROMPTS[version];
  if (!t) throw new Error(`unknown prompt version "${version}" (known: ${Object.keys(PROMPTS).join(", ")})`);
  return t;
}

/** The template's identity: its system text and the source of its user builder. */
export function templateText(t: PromptTemplate): string {
  return `${t.system}\n---\n${t.user.toString()}`;
}

export function templateHash(t: PromptTemplate): string {
  return createHash("sha256").update(templateText(t)).digest("hex").slice(0, 16);
}

export function buildMessages(t: PromptTemplate, inputs: PromptInputs): ChatMessage[] {
  return [
    { role: "system", content: t.system },
    { role: "user", content: t.user(inputs) },
  ];
}
