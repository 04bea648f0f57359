/**
 * `tapedeck import kalshi|news|forecastbench …`: convert recorded data into
 * the dataset format (datasets/importers). Every importer validates what it
 * wrote and only then moves it onto the output folder.
 */
import type { CommandModule } from "yargs";
import type { Manifest } from "../../datasets/format.ts";
import { readFile } from "node:fs/promises";
import { importKalshi, type ImportKalshiOptions } from "../../datasets/importers/kalshi.ts";
import { importNews, type ImportNewsOptions } from "../../datasets/importers/news.ts";
import { importForecastBench } from "../../datasets/importers/forecastbench.ts";
import { InputError } from "../../datasets/inputError.ts";
import { DatasetValidationError } from "../../datasets/datasetWriter.ts";
import { ManifestError } from "../../datasets/manifest.ts";
import { CliError } from "./cliError.ts";

function summary(out: string, m: Manifest, seconds: number): string {
  const entries = Object.entries(m.tables).flatMap(([t, e]) => (e ? [[t, e.rows] as const] : []));
  const rows = entries.map(([t, n]) => `${t} ${n.toLocaleString("en-US")}`).join(", ");
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const notes = m.source.notes.map((n) => `  note: ${n}\n`).join("");
  return `wrote ${out}: ${rows} (${Math.round(total / Math.max(seconds, 1e-9)).toLocaleString("en-US")} rows/s in ${seconds.toFixed(2)} s)\n${notes}`;
}

async function run(out: string, body: () => Promise<Manifest>, json = false): Promise<void> {
  const started = performance.now();
  try {
    const manifest = await body();
    const seconds = (performance.now() - started) / 1000;
    if (json) {
      const tables = Object.fromEntries(Object.entries(manifest.tables).flatMap(([t, e]) => (e ? [[t, e.rows] as const] : [])));
      process.stdout.write(`${JSON.stringify({ out, name: manifest.name, tables, seconds: Number(seconds.toFixed(3)), notes: manifest.source.notes }, null, 2)}\n`);
    } else process.stdout.write(summary(out, manifest, seconds));
  } catch (error) {
    if (error instanceof InputError || error instanceof DatasetValidationError || error instanceof ManifestError) throw new CliError(error.message, 1);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliError(error.message.split("\n")[0] ?? error.message, 1);
    throw error;
  }
}

interface ImportArgs {
  src?: string;
  questions?: string;
  resolutions?: string;
  out: string;
  name?: string;
  into?: string;
  news?: string;
  "orderbook-ts"?: string;
  unlisted?: "drop" | "stub";
  "scheduled-close-from"?: string;
  from?: string;
  to?: string;
  tickers?: string;
  json?: boolean;
}

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value.includes("T") || value.length > 10 ? value : `${value}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new CliError(`--${flag}: not a time: ${value}`, 2);
  return ms;
}

async function parseTickers(value: string): Promise<string[]> {
  const text = value.startsWith("@") ? await readFile(value.slice(1), "utf8") : value;
  return text.split(/[\s,]+/).map((t) => t.trim()).filter((t) => t !== "" && !t.startsWith("#"));
}

export const importCommand: CommandModule<object, object> = {
  command: "import <kind>",
  describe: "Convert recorded data (Kalshi API dumps and CSV recordings, news headlines, ForecastBench) into a validated dataset",
  builder: (y) =>
    y
      .option("json", { type: "boolean", default: false, describe: "Print what was written (tables, rows, notes) as JSON" })
      .command<ImportArgs>(
        "kalshi <src>",
        "Kalshi recording folder: markets CSV + trades/*.csv, saved REST responses (markets*/trades*/candlesticks*/orderbook*.json[l]), or the old snapshot layout (market_data.json …)",
        (b) =>
          b
            .positional("src", { type: "string", demandOption: true, describe: "folder with the recording" })
            .option("out", { alias: "o", type: "string", demandOption: true, describe: "dataset folder to write (replaced atomically)" })
            .option("name", { type: "string", describe: "dataset name (default: output folder name)" })
            .option("news", { type: "string", describe: "also import this news headline folder into the same dataset" })
            .option("tickers", { type: "string", describe: "keep only these tickers (comma-separated, or @file with one per line)" })
            .option("from", { type: "string", describe: "keep trades/quotes/books/news at or after this time (ISO or epoch ms)" })
            .option("to", { type: "string", describe: "keep trades/quotes/books/news before this time (ISO or epoch ms)" })
            .option("orderbook-ts", { type: "string", describe: "snapshot layout: time the order books were taken (default: last market_history time)" })
            .option("unlisted", {
              choices: ["drop", "stub"] as const,
              default: "stub" as const,
              describe: "snapshot layout: rows for tickers absent from market_data.json: kept under placeholder markets (stub, default) or dropped",
            })
            .option("scheduled-close-from", {
              type: "string",
              describe:
                "markets field to show strategies as the close time, when the input has no scheduled close (expected_expiration_time, latest_expiration_time, or close_time of a still-open market); you vouch it was known in advance. Without one, a recording that holds only the actual close gives strategies no close time",
            }),
        async (a) => {
          const options: ImportKalshiOptions = { unlisted: a.unlisted ?? "stub" };
          if (a.name !== undefined) options.name = a.name;
          if (a.tickers !== undefined) options.tickers = await parseTickers(a.tickers);
          const from = parseTime(a.from, "from");
          const to = parseTime(a.to, "to");
          const obTs = parseTime(a["orderbook-ts"], "orderbook-ts");
          if (from !== undefined) options.from = from;
          if (to !== undefined) options.to = to;
          if (obTs !== undefined) options.orderbookTs = obTs;
          if (a["scheduled-close-from"] !== undefined) options.scheduledCloseFrom = a["scheduled-close-from"];
          await run(a.out, async () => {
            const manifest = await importKalshi(a.src ?? "", a.out, options);
            if (a.news === undefined) return manifest;
            const newsOptions: ImportNewsOptions = { into: a.out };
            if (from !== undefined) newsOptions.from = from;
            if (to !== undefined) newsOptions.to = to;
            return importNews(a.news, a.out, newsOptions);
          }, a.json);
        },
      )
      .command<ImportArgs>(
        "news <src>",
        "Headline snapshots (YYYY-MM-DD/HH-MM-SS_headlines.json): a headline repeated across snapshots is one row at the first time it was seen; zone-less times are UTC",
        (b) =>
          b
            .positional("src", { type: "string", demandOption: true })
            .option("out", { alias: "o", type: "string", demandOption: true, describe: "dataset folder to write; with --into, the merged dataset" })
            .option("into", { type: "string", describe: "merge the news into this existing dataset (its markets and other tables are kept)" })
            .option("from", { type: "string", describe: "keep headlines first seen at or after this time" })
            .option("to", { type: "string", describe: "keep headlines first seen before this time" })
            .option("name", { type: "string" }),
        async (a) => {
          const options: ImportNewsOptions = {};
          const from = parseTime(a.from, "from");
          const to = parseTime(a.to, "to");
          if (from !== undefined) options.from = from;
          if (to !== undefined) options.to = to;
          if (a.into !== undefined) options.into = a.into;
          if (a.name !== undefined) options.name = a.name;
          await run(a.out, () => importNews(a.src ?? "", a.out, options), a.json);
        },
      )
      .command<ImportArgs>(
        "forecastbench <questions> <resolutions>",
        "ForecastBench question set + resolution set: each market question (polymarket, manifold, metaculus, infer) becomes a market with one quote at freeze_datetime",
        (b) =>
          b
            .positional("questions", { type: "string", demandOption: true, describe: "question set JSON (e.g. 2025-10-26-llm.json)" })
            .positional("resolutions", { type: "string", demandOption: true, describe: "its resolution set JSON" })
            .option("out", { alias: "o", type: "string", demandOption: true })
            .option("name", { type: "string" }),
        async (a) => {
          await run(a.out, () => importForecastBench(a.questions ?? "", a.resolutions ?? "", a.out, a.name === undefined ? {} : { name: a.name }), a.json);
        },
      )
      .demandCommand(1, "Name what to import: kalshi, news or forecastbench."),
  handler: () => undefined,
};
