/**
 * News from RSS and Atom feeds (rss-parser), polled on the wall clock into
 * `news` events. An item's time is when this process first saw it (what a
 * live strategy could have known), not the feed's publish date, which
 * feeds set late, early or not at all. Items are deduplicated as the news
 * importer does (datasets/importers/news.ts): one item per source +
 * headline, case-insensitive, id = sha256(source + "\n" + lower(title))[:16],
 * so a recorded feed and an imported one name the same story alike.
 */
import { createHash } from "node:crypto";
import Parser from "rss-parser";
import type { NewsEvent } from "../events/types.ts";

export function newsId(source: string, title: string): string {
  return createHash("sha256").update(`${source}\n${title.toLowerCase()}`).digest("hex").slice(0, 16);
}

/** Headlines normalised as the importer does: whitespace collapsed, trimmed. */
export function cleanTitle(title: string): string {
  return title.replace(/\s+/g, " ").trim();
}

export interface NewsFeedOptions {
  url: string;
  /** Shown as the news source; default the feed's own title, else its host. */
  source?: string;
  pollMs?: number;
  timeoutMs?: number;
}

export class NewsFeed {
  readonly #parser = new Parser({ timeout: 10_000 });
  readonly #seen = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** Polls that failed (network, bad XML): counted, never fatal. */
  failures = 0;
  lastError: string | null = null;

  constructor(
    private readonly options: NewsFeedOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Fetch once: the items not seen before, stamped now. */
  async poll(): Promise<NewsEvent[]> {
    const feed = await this.#parser.parseURL(this.options.url);
    // An empty feed title is no name: the host names the source then.
    const source = this.options.source ?? (feed.title?.trim() || new URL(this.options.url).host);
    const ts = this.now();
    const out: NewsEvent[] = [];
    for (const item of feed.items) {
      const title = cleanTitle(item.title ?? "");
      if (title === "") continue;
      const id = newsId(source, title);
      if (this.#seen.has(id)) continue;
      this.#seen.add(id);
      const summary = cleanTitle(item.contentSnippet ?? item.summary ?? "");
      out.push({ kind: "news", ts, id, source, title, summary: summary === "" ? null : summary, url: item.link ?? null, tickers: null });
    }
    return out;
  }

  /** Poll now and every pollMs until stop(); new items go to `emit`. */
  start(emit: (items: NewsEvent[]) => void): void {
    const tick = async (): Promise<void> => {
      try {
        const items = await this.poll();
        if (items.length > 0 && !this.#stopped) emit(items);
      } catch (error) {
        this.failures++;
        this.lastError = error instanceof Error ? error.message : String(error);
      }
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.options.pollMs ?? 60_000);
    };
    void tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
