/**
 * `tapedeck trade <config> [--live]`: the config on the live feed. Paper by
 * default (the paper broker fills against the live book; a `paper` run in
 * the results DB like any other). `--live` places real orders through the
 * Kalshi broker, and only for a config whose exact hash has a completed
 * replay that passed the promotion gates (harness/live/promotionGates.ts);
 * production also needs credentials and --i-understand-this-trades-real-money.
 */
import type { CommandModule } from "yargs";
import { authorizeLive, loadPromotionGates } from "../live/promotionGates.ts";
import { feedOptions, openFeed, type FeedCliArgs } from "../live/feedConnection.ts";
import { LiveRun, type LiveOutcome } from "../live/liveNode.ts";
import { NewsFeed } from "../live/newsFeed.ts";
import { Recorder } from "../live/recorder.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { ConfigError, configHash, loadRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatReplaySummary } from "./replay.ts";
import { formatTable } from "./table.ts";

interface TradeArgs extends FeedCliArgs {
  config: string;
  live: boolean;
  iUnderstandThisTradesRealMoney: boolean;
  gates?: string;
  series: string[];
  markets: string[];
  news: string[];
  duration?: number;
  record?: string;
  reconcile: "report" | "fix";
  reconcileEvery: number;
  killFile?: string;
  keepResting: boolean;
  label?: string;
  db: string;
  json: boolean;
}

export const tradeCommand: CommandModule<object, TradeArgs> = {
  command: "trade <config>",
  describe: "Trade a config on the live feed: paper by default (a `paper` run), real orders with --live once its replay passed the promotion gates",
  builder: (y) =>
    y
      .positional("config", { type: "string", demandOption: true, describe: "Run config JSON" })
      .option("live", { type: "boolean", default: false, describe: "Place real orders (refused unless a completed replay of this exact config passed the gates)" })
      .option("i-understand-this-trades-real-money", { type: "boolean", default: false, describe: "Required with --live --env production" })
      .option("gates", { type: "string", describe: "Promotion gates JSON (default: the safe defaults; see `tapedeck promote --help`)" })
      .option("series", { type: "string", array: true, default: [], describe: "Series tickers to trade (every market of each not yet settled)" })
      .option("markets", { type: "string", array: true, default: [], describe: "Market tickers to trade as well" })
      .option("news", { type: "string", array: true, default: [], describe: "RSS/Atom feed URLs for news events" })
      .option("duration", { type: "number", describe: "Stop after this many seconds (default: until every market settles, or Ctrl-C)" })
      .option("record", { type: "string", describe: "Also record what this session sees into a dataset folder (as `tapedeck record`)" })
      .option("reconcile", { choices: ["report", "fix"] as const, default: "report" as const, describe: "--live: on a discrepancy with the exchange, stop trading (report) or repair the local side (fix)" })
      .option("reconcile-every", { type: "number", default: 30, describe: "--live: seconds between reconciliations" })
      .option("kill-file", { type: "string", describe: "--live: when this file appears, cancel every resting order and stop" })
      .option("keep-resting", { type: "boolean", default: false, describe: "--live: leave resting orders on the exchange at a graceful stop" })
      .option("label", { type: "string", describe: "Free-text label stored with the run" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print the outcome as JSON (for scripts)" })
      .options(feedOptions)
      .example("$0 trade strategies/configs/momentum.json --fake-exchange", "paper-trade on a loopback fake exchange (no keys)")
      .example("$0 trade cfg.json --series KXHIGHNY", "paper-trade NYC temperature markets on Kalshi demo")
      .example("$0 trade cfg.json --series KXHIGHNY --live", "real orders on demo, if cfg.json's replay passed the gates") as never,
  handler: async (args) => {
    let config;
    try {
      config = loadRunConfig(args.config);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e), 2);
    }
    if (!args.fakeExchange && args.series.length === 0 && args.markets.length === 0) throw new CliError("trade needs --series <S…> and/or --markets <ticker…> (or --fake-exchange)", 2);
    if (args.live && args.fakeExchange && args.env === "production") throw new CliError("--fake-exchange is a demo: it cannot be production", 2);
    const db = await DuckDbStore.open(args.db);
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    try {
      const feed = await openFeed(
        args,
        { series: args.series, tickers: args.markets },
      ).catch((e: unknown) => {
        throw new CliError(e instanceof Error ? e.message : String(e), 2);
      });
      try {
        if (args.live) {
          let gates;
          try {
            gates = loadPromotionGates(args.gates);
          } catch (e) {
            throw new CliError(e instanceof Error ? e.message : String(e), 2);
          }
          const auth = await authorizeLive(db.connection, {
            configHash: configHash(config),
            environment: args.env,
            hasCredentials: feed.credentials !== null,
            confirmedRealMoney: args.iUnderstandThisTradesRealMoney,
            gates,
          });
          if (!args.json && auth.check.gates.length > 0) {
            say(formatTable(["gate", "value", "threshold", "passed"], auth.check.gates.map((g) => [g.gate, g.value === null ? "n/a" : String(g.value), g.threshold, g.passed ? "yes" : "NO"])));
          }
          if (!auth.allowed) throw new CliError(`--live refused: ${auth.reason} (promotion ${auth.promotionId})`, 4);
          say(`--live on ${args.env}${feed.fake ? " (fake exchange)" : ""}: config ${auth.check.configHash.slice(0, 12)}… promoted from run ${auth.check.runId} (promotion ${auth.promotionId})`);
        }
        const recorder = args.record ? Recorder.open(args.record, { series: feed.series, tickers: feed.tickers, feeds: args.news }) : null;
        const run = new LiveRun({
          config,
          db,
          feed,
          news: args.news.map((url) => new NewsFeed({ url })),
          mode: args.live ? "live" : "paper",
          reconcile: { mode: args.reconcile, everyMs: args.reconcileEvery * 1000 },
          ...(args.killFile ? { killFile: args.killFile } : {}),
          keepResting: args.keepResting,
          ...(args.duration !== undefined ? { durationMs: args.duration * 1000 } : {}),
          ...(args.label ? { label: args.label } : {}),
          ...(recorder ? { tap: (e) => recorder.event(e) } : {}),
          onStart: (runId, source) => {
            if (recorder) {
              for (const m of source.markets()) recorder.market(m);
              source.onMarket((m) => recorder.market(m));
              source.onGap((g) => recorder.gap(g));
            }
            if (!args.json) say(`run ${runId} (${args.live ? "live" : "paper"}) on ${feed.environment}: ${source.markets().length} market(s); Ctrl-C stops and completes the run`);
          },
          log: args.json ? () => undefined : say,
        });
        const stop = (): void => void run.stop("interrupted (signal)");
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        let outcome: LiveOutcome;
        let ran = false;
        try {
          outcome = await run.run();
          ran = true;
        } finally {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          // The recording is closed on every path (its flush and segment timers stopped, what it holds fsync'd).
          if (recorder) {
            for (const g of run.source.openGaps()) recorder.gap(g);
            const closed = recorder.close();
            if (ran) await closed;
            else await closed.catch((e: unknown) => say(`--record ${args.record}: dataset not rebuilt (${e instanceof Error ? e.message : String(e)}); its journal is kept`));
          }
        }
        if (args.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        else process.stdout.write(`${formatReplaySummary(outcome, args.db)}\nended: ${outcome.ended}\n`);
      } finally {
        await feed.close();
      }
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2);
      throw error;
    } finally {
      db.close();
    }
  },
};
