/**
 * One recording session: a live source on a feed, its events, market
 * updates and gaps journaled by a Recorder into `<out>`, until the feed ends
 * (every market settled) or `stop()`. `tapedeck record` is this plus a
 * command line; tests run it beside a `trade` session on the same exchange.
 */
import type { Manifest } from "../../datasets/format.ts";
import type { Feed } from "./feedConnection.ts";
import { LiveSource, type FeedGap } from "./liveSource.ts";
import type { NewsFeed } from "./newsFeed.ts";
import { Recorder, type RecorderAck } from "./recorder.ts";
import { RestMarketDirectory } from "./restDirectory.ts";

export interface RecordSessionOptions {
  feed: Feed;
  out: string;
  news?: readonly NewsFeed[];
  newsUrls?: readonly string[];
  segmentMs?: number;
  /** Keep recording a followed series after its current markets settle (new ones list later); default: stop when all settled. */
  follow?: boolean;
  onAck?: (ack: RecorderAck) => void;
  onGap?: (gap: FeedGap) => void;
}

export class RecordSession {
  readonly source: LiveSource;
  readonly recorder: Recorder;

  constructor(opts: RecordSessionOptions) {
    this.source = new LiveSource({
      wsUrl: opts.feed.wsUrl,
      authHeaders: opts.feed.authHeaders,
      directory: new RestMarketDirectory(opts.feed.restBase),
      series: opts.feed.series,
      tickers: opts.feed.tickers,
      news: opts.news ?? [],
      endWhenSettled: !(opts.follow ?? false),
    });
    this.recorder = Recorder.open(
      opts.out,
      { series: opts.feed.series, tickers: opts.feed.tickers, feeds: [...(opts.newsUrls ?? [])] },
      { ...(opts.segmentMs !== undefined ? { segmentMs: opts.segmentMs } : {}), ...(opts.onAck ? { onAck: opts.onAck } : {}) },
    );
    this.source.onMarket((m) => this.recorder.market(m));
    this.source.onGap((g) => {
      this.recorder.gap(g);
      opts.onGap?.(g);
    });
  }

  /** Connect (resolves once subscribed); `done` then runs until the feed ends. */
  async start(): Promise<{ done: Promise<Manifest> }> {
    try {
      await this.source.start();
    } catch (error) {
      await this.recorder.close().catch(() => undefined);
      throw error;
    }
    const done = (async () => {
      try {
        for await (const batch of this.source.events()) for (const e of batch) this.recorder.event(e);
      } finally {
        await this.source.close();
      }
      for (const g of this.source.openGaps()) this.recorder.gap(g);
      return this.recorder.close();
    })();
    return { done };
  }

  stop(): void {
    this.source.stop();
  }
}
