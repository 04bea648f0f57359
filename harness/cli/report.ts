/** `tapedeck report [run …] [--last N] -o <dir>`: HTML report with charts, SVG/PNG per chart, and summary.md. */
import { existsSync } from "node:fs";
import type { CommandModule } from "yargs";
import { buildReport } from "../../reports/buildReport.ts";
import { RunSelectionError } from "../../reports/selectRuns.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";

interface ReportArgs {
  runs?: string[];
  last?: number;
  out: string;
  db: string;
  title?: string;
  json: boolean;
  dataset?: string;
  mixDatasets: boolean;
  category?: string;
  series?: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report [runs..]",
  describe: "Build an HTML report (charts inline, opens offline), SVG/PNG charts and a Markdown summary from the results DB",
  builder: (y) =>
    y
      .positional("runs", { type: "string", array: true, describe: "Run ids (default: every run, or --last N)" })
      .option("last", { type: "number", describe: "Only the N most recently started runs" })
      .option("out", { alias: "o", type: "string", default: "reports/out/latest", describe: "Output folder" })
      .options(dbOption)
      .option("title", { type: "string", describe: "Report title" })
      .option("json", { type: "boolean", default: false, describe: "Print the written paths as JSON" })
      .option("dataset", { type: "string", describe: "Only runs on this dataset (runs on different datasets are refused unless --mix-datasets)" })
      .option("mix-datasets", { type: "boolean", default: false, describe: "Allow runs on different datasets in one report (their figures are not comparable)" })
      .option("category", { type: "string", describe: "Only markets of this category (figures recomputed from those markets' rows)" })
      .option("series", { type: "string", describe: "Only markets of this Kalshi series (ticker prefix before the first '-', e.g. KXNFLGAME)" })
      .example("$0 report --last 5 -o reports/out/last5", "compare the five latest runs")
      .example("$0 report --dataset sample --category Sports", "runs on one dataset, Sports markets only") as never,
  handler: async (args) => {
    if (!existsSync(args.db)) throw new CliError(`${args.db}: no results DB there (run \`tapedeck replay\` first or pass --db)`);
    if (args.last !== undefined && !(Number.isInteger(args.last) && args.last > 0)) throw new CliError(`--last must be a positive whole number, got ${args.last}`);
    const started = performance.now();
    try {
      const built = await buildReport({
        dbPath: args.db,
        runIds: args.runs,
        last: args.last,
        outDir: args.out,
        title: args.title,
        dataset: args.dataset,
        mixDatasets: args.mixDatasets,
        category: args.category,
        series: args.series,
      });
      const ms = Math.round(performance.now() - started);
      if (args.json) process.stdout.write(`${JSON.stringify({ ...built, ms }, null, 2)}\n`);
      else {
        process.stdout.write(
          `Report of ${built.runIds.length} run(s) in ${ms} ms\n  HTML:     ${built.htmlPath}\n  Markdown: ${built.markdownPath}\n  Charts:   ${built.chartFiles.length} files in ${built.chartFiles[0] ? built.chartFiles[0].replace(/\/[^/]+$/, "") : "-"}\n`,
        );
      }
    } catch (error) {
      if (error instanceof RunSelectionError) throw new CliError(error.message);
      throw error;
    }
  },
};
