/**
 * Headlines to show a model about one market: those the source already
 * linked to the market's ticker first, then those sharing more keywords with
 * the market's title (the event filter's matcher, harness/filter/newsMatch),
 * newest first among equals. Only news visible now is considered.
 */
import type { NewsEvent } from "../harness/events/types.ts";
import { keywords, marketKeywords, overlap } from "../harness/filter/newsMatch.ts";
import type { MarketView } from "../harness/state/marketState.ts";

export function newsForMarket(ticker: string, view: MarketView, limit: number): NewsEvent[] {
  const m = view.market(ticker);
  if (!m) return [];
  const words = marketKeywords(m.info.title, m.info.subtitle);
  const scored: Array<{ n: NewsEvent; score: number }> = [];
  for (const n of view.recentNews(256)) {
    const score = (n.tickers?.includes(ticker) ? 100 : 0) + overlap(keywords(n.title), words);
    if (score > 0) scored.push({ n, score });
  }
  // Stable sort: equal scores keep recentNews' newest-first order.
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((s) => s.n);
}
