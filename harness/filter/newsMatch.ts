/**
 * Matching a headline to the markets it is about. A headline whose source
 * named tickers matches exactly those; otherwise it matches a market when
 * they share at least `minOverlap` distinct keywords between the headline and
 * the market's title and subtitle. Keywords are lower-cased words of three or
 * more letters, minus stop words and the date/number noise every Kalshi title
 * carries ("Nov", "2025", "11am", "EST"), which would otherwise match
 * everything to everything.
 */
import type { NewsEvent } from "../events/types.ts";

const STOP = new Set([
  "the", "and", "for", "with", "from", "this", "that", "than", "will", "what", "which", "who", "whom", "how", "why",
  "are", "was", "were", "has", "have", "had", "its", "not", "but", "out", "into", "over", "under", "after", "before",
  "above", "below", "more", "less", "new", "says", "say", "said", "amid", "about", "can", "could", "would", "should",
  "price", "range", "market", "total", "points", "game", "match", "yes", "any", "time", "day", "week", "year",
  "est", "edt", "utc", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
]);

/** Distinct keywords of a text (see the module note for what is left out). */
export function keywords(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (w.length < 3 || STOP.has(w) || /\d/.test(w)) continue;
    out.add(w);
  }
  return out;
}

export function marketKeywords(title: string, subtitle: string | null): Set<string> {
  return keywords(subtitle ? `${title} ${subtitle}` : title);
}

/** Distinct keywords the two sets share. */
export function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let n = 0;
  for (const w of small) if (large.has(w)) n++;
  return n;
}

export interface MatchableMarket {
  ticker: string;
  words: ReadonlySet<string>;
}

/** Tickers the headline is about, in ascending order (deterministic). */
export function matchNews(news: Pick<NewsEvent, "title" | "tickers">, markets: Iterable<MatchableMarket>, minOverlap: number): string[] {
  const out: string[] = [];
  if (news.tickers && news.tickers.length > 0) {
    const named = new Set(news.tickers);
    for (const m of markets) if (named.has(m.ticker)) out.push(m.ticker);
  } else {
    const words = keywords(news.title);
    if (words.size === 0) return out;
    for (const m of markets) if (overlap(words, m.words) >= minOverlap) out.push(m.ticker);
  }
  return out.sort();
}
