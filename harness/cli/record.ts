/**
 * `tapedeck record --series … [--markets …] [--news <feed>] -o <dataset>`:
 * record live Kalshi markets (books, quotes, trades, lifecycle) and news
 * into the dataset format, durable as written (harness/live/recorder.ts).
 */
import type { CommandModule } from "yargs";
import { feedOptions, openFeed, type FeedCliArgs } from "../live/feedConnection.ts";
import { NewsFeed } from "../live/newsFeed.ts";
import { Recorder } from "../live/recorder.ts";
import { RecordSession } from "../live/recordSession.ts";
import { CliError } from "./cliError.ts";

interface RecordArgs extends FeedCliArgs {
  series: string[];
  markets: string[];
  news: string[];
  out: string;
  duration?: number;
  segmentSeconds: number;
  finalize: boolean;
  follow: boolean;
  json: boolean;
}

export const recordCommand: CommandModule<object, RecordArgs> = {
  command: "record",
  describe: "Record live markets, order books and news into a dataset, durable as written (kill -9 loses nothing acknowledged)",
  builder: (y) =>
    y
      .option("series", { type: "string", array: true, default: [], describe: "Series tickers to follow (every market of each not yet settled)" })
      .option("markets", { type: "string", array: true, default: [], describe: "Market tickers to follow as well" })
      .option("news", { type: "string", array: true, default: [], describe: "RSS/Atom feed URLs, polled into news rows (first-seen time)" })
      .option("out", { alias: "o", type: "string", demandOption: true, describe: "Dataset folder (created, or continued when it is a recording)" })
      .option("duration", { type: "number", describe: "Stop after this many seconds (default: until every market settles, or Ctrl-C; see --follow)" })
      .option("segment-seconds", { type: "number", default: 300, describe: "Close a journal segment and rebuild the dataset this often" })
      .option("follow", { type: "boolean", default: false, describe: "Keep recording the series' new markets after the current ones settle (until Ctrl-C or --duration)" })
      .option("finalize", { type: "boolean", default: false, describe: "Only rebuild <out>'s dataset from its journal (after a crash); connects to nothing" })
      .option("json", { type: "boolean", default: false, describe: "Print each durable acknowledgement as a JSON line (for scripts)" })
      .options(feedOptions)
      .example("$0 record --series KXHIGHNY --news https://feeds.example.com/rss -o datasets/highny-live", "record NYC temperature markets and a feed on demo")
      .example("$0 record --fake-exchange -o /tmp/demo-rec", "a no-keys demo against a loopback fake exchange")
      .example("$0 record --finalize -o datasets/highny-live", "rebuild the dataset after a crash") as never,
  handler: async (args) => {
    if (args.finalize) {
      const manifest = await Recorder.finalize(args.out).catch((e: unknown) => {
        throw new CliError(e instanceof Error ? e.message : String(e), 2);
      });
      process.stdout.write(args.json ? `${JSON.stringify({ finalized: args.out, recording: manifest.recording, tables: manifest.tables })}\n` : `rebuilt ${args.out}: coverage ${(manifest.recording?.coverage ?? 1).toFixed(4)}, ${manifest.recording?.gaps.length ?? 0} gap(s)\n`);
      return;
    }
    if (!args.fakeExchange && args.series.length === 0 && args.markets.length === 0) throw new CliError("record needs --series <S…> and/or --markets <ticker…> (or --fake-exchange)", 2);
    const feed = await openFeed(
      args,
      { series: args.series, tickers: args.markets },
    ).catch((e: unknown) => {
      throw new CliError(e instanceof Error ? e.message : String(e), 2);
    });
    let session: RecordSession | null = null;
    const stop = (): void => session?.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      try {
        session = new RecordSession({
          feed,
          out: args.out,
          news: args.news.map((url) => new NewsFeed({ url })),
          newsUrls: args.news,
          segmentMs: args.segmentSeconds * 1000,
          follow: args.follow,
          onAck: (ack) => {
            if (args.json) process.stdout.write(`${JSON.stringify({ ack })}\n`);
          },
          onGap: (g) => {
            if (!args.json) process.stderr.write(`gap ${g.ticker ?? "(all)"} ${new Date(g.start).toISOString()} … ${new Date(g.end).toISOString()}: ${g.reason}\n`);
          },
        });
      } catch (e) {
        throw new CliError(e instanceof Error ? e.message : String(e), 2);
      }
      const rec = session;
      const { done } = await rec.start().catch((e: unknown) => {
        throw new CliError(`cannot start the feed: ${e instanceof Error ? e.message : String(e)}`, 1);
      });
      feed.fake?.begin();
      const timer = args.duration !== undefined ? setTimeout(stop, args.duration * 1000) : null;
      const status = args.json ? null : setInterval(() => process.stderr.write(`recorded ${rec.recorder.acknowledged.rows} rows (${JSON.stringify(rec.recorder.acknowledged.byTable)}), stale: ${rec.source.staleTickers().length}\n`), 5_000);
      const manifest = await done.finally(() => {
        if (timer) clearTimeout(timer);
        if (status) clearInterval(status);
      });
      const summary = { out: args.out, tables: Object.fromEntries(Object.entries(manifest.tables).map(([t, e]) => [t, e?.rows ?? 0])), coverage: manifest.recording?.coverage ?? 1, gaps: manifest.recording?.gaps.length ?? 0 };
      process.stdout.write(args.json ? `${JSON.stringify({ done: summary })}\n` : `recorded ${args.out}: ${JSON.stringify(summary.tables)}, coverage ${summary.coverage.toFixed(4)}, ${summary.gaps} gap(s)\n`);
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      await feed.close();
    }
  },
};
