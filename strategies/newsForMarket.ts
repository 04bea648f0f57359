/**
 * Headlines to show a model about one market: those the source already
 * linked to the market's ticker first, then those sharing words with the
 * market's title, newest first. Only news visible now is considered.
 */
import type { NewsEvent } from "../harness/events/types.ts";
import type { MarketView } from "../harness/state/marketState.ts";

const STOP = new Set(["will", "the", "and", "for", "with", "from", "this", "that", "than", "more", "less", "over", "under", "what", "which", "who", "game", "match", "market", "price", "above", "below", "before", "after"]);

export function keywords(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 3 && !STOP.has(w)),
  );
}

export function newsForMarket(ticker: string, view: MarketView, limit: number): NewsEvent[] {
  const m = view.market(ticker);
  if (!m) return [];
  const words = keywords(`${m.info.title} ${m.info.subtitle ?? ""}`);
  const scored: Array<{ n: NewsEvent; score: number }> = [];
  for (const n of view.recentNews(256)) {
    let score = n.tickers?.includes(ticker) ? 100 : 0;
    for (const w of keywords(n.title)) if (words.has(w)) score += 1;
    if (score > 0) scored.push({ n, score });
  }
  // Stable: equal scores keep recentNews' newest-first order.
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((s) => s.n);
}
