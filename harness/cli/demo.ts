/**
 * `tapedeck demo` (what `npm start` runs): replays the bundled real Kalshi
 * sample with the demo configs (the market baseline, a rule strategy and the
 * bundled local model), offline and without API keys, then writes the
 * comparison report and prints where everything is.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CommandModule } from "yargs";
import { buildReport } from "../../reports/buildReport.ts";
import { loadRunConfig } from "../../strategies/runConfig.ts";
import { runReplay, type ReplayOutcome } from "../replay/runReplay.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { replayProgressBar } from "./progress.ts";
import { formatTable } from "./table.ts";
import { metricValue } from "../results/runMetrics.ts";
import { cacheModeOption, type CacheMode } from "../cache/cacheMode.ts";

const ROOT = join(import.meta.dirname, "../..");
export const DEMO_DATASET = join(ROOT, "datasets/sample");
export const DEMO_CONFIGS = ["market.json", "last-trade.json", "momentum.json", "local-llm.json"].map((f) => join(ROOT, "strategies/configs", f));

interface DemoArgs {
  db: string;
  out: string;
  json: boolean;
  cache: CacheMode;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: "demo",
  describe: "Replay the bundled sample with the demo configs (incl. the bundled local model) and write the report; offline, no keys",
  builder: (y) =>
    y
      .options(dbOption)
      .option("out", { alias: "o", type: "string", default: "reports/out/demo", describe: "Report folder" })
      .options(cacheModeOption)
      .option("json", { type: "boolean", default: false, describe: "Print the outcome as JSON" }) as never,
  handler: async (args) => {
    const configs = DEMO_CONFIGS.filter((c) => existsSync(c));
    if (!existsSync(join(DEMO_DATASET, "dataset.json"))) throw new CliError(`${DEMO_DATASET}: the bundled sample is missing`);
    const db = await DuckDbStore.open(args.db);
    const outcomes: ReplayOutcome[] = [];
    try {
      for (const path of configs) {
        const config = loadRunConfig(path);
        const bar = replayProgressBar(!args.json, config.name.padEnd(10));
        try {
          outcomes.push(await runReplay({ config, datasetDir: DEMO_DATASET, db, label: `demo:${config.name}`, cacheMode: args.cache, onProgress: (p) => bar.update(p) }));
        } finally {
          bar.stop();
        }
      }
    } finally {
      db.close();
    }
    const report = await buildReport({ dbPath: args.db, runIds: outcomes.map((o) => o.runId), outDir: args.out, title: "tapedeck demo: bundled Kalshi sample" });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ runs: outcomes, report }, null, 2)}\n`);
      return;
    }
    const rows = outcomes.flatMap((o) =>
      [...new Set(o.metrics.map((m) => m.model))]
        .filter((m) => m !== "*")
        .map((model) => [o.runId, model, metricValue(o.metrics, model, "forecasts"), metricValue(o.metrics, model, "abstentions"), metricValue(o.metrics, "*", "provider_calls"), (metricValue(o.metrics, "*", "cache_exact_hits") ?? 0) + (metricValue(o.metrics, "*", "cache_semantic_hits") ?? 0), metricValue(o.metrics, model, "brier"), metricValue(o.metrics, model, "brier_skill"), metricValue(o.metrics, "*", "trades"), metricValue(o.metrics, "*", "pnl_usd"), metricValue(o.metrics, "*", "ai_spend_usd")]),
    );
    process.stdout.write(
      [
        `Replayed ${DEMO_DATASET} with ${outcomes.length} configs:`,
        "",
        formatTable(["run", "model", "forecasts", "abstained", "provider requests", "cache hits", "brier", "skill vs mkt", "trades", "P&L $", "AI $"], rows),
        "",
        "local/stories260K is a 260K-parameter model trained on children's stories: a grammar keeps its answers to probabilities in [0, 1],",
        "so its row is scored and traded like any model's, but its forecasts are noise. Point a config's router at a real model to forecast.",
        "",
        `Results DB: ${args.db}`,
        `Report:     ${report.htmlPath}`,
        `Summary:    ${report.markdownPath}`,
        "",
      ].join("\n"),
    );
  },
};
