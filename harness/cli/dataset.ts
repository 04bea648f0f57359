/**
 * `tapedeck dataset validate|info <dir>`: check a dataset folder (every
 * problem with file, row and field; exit 1 when any) and summarise it.
 */
import type { CommandModule } from "yargs";
import { validateDataset, formatValidationProblem } from "../../datasets/validate.ts";
import { datasetInfo, formatInfo } from "../../datasets/info.ts";
import { datasetHash, readManifest } from "../../datasets/manifest.ts";
import { CliError } from "./cliError.ts";

interface DirArgs {
  dir: string;
  json?: boolean;
  max?: number;
}

export const datasetCommand: CommandModule<object, object> = {
  command: "dataset <action>",
  describe: "Inspect a dataset folder: validate it (sha256, columns, every row rule) or summarise it",
  builder: (y) =>
    y
      .command<DirArgs>(
        "validate <dir>",
        "Check dataset.json, each table's sha256, columns and rows (prices in (0,1), bid <= ask, known tickers, unique trade ids, results yes/no/null, settle after open); exit 1 on any problem",
        (b) =>
          b
            .positional("dir", { type: "string", demandOption: true })
            .option("max", { type: "number", default: 20, describe: "problems listed per rule" })
            .option("json", { type: "boolean", default: false, describe: "print the report as JSON" }),
        async (a) => {
          const report = await validateDataset(a.dir, { maxPerRule: a.max ?? 20 });
          if (a.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else {
            for (const p of report.problems) process.stdout.write(`${formatValidationProblem(p)}\n`);
            if (report.ok && report.manifest) process.stdout.write(`${a.dir}: valid (dataset hash ${datasetHash(a.dir, report.manifest)})\n`);
          }
          if (!report.ok) throw new CliError(`${a.dir}: ${report.totalProblems} problem${report.totalProblems === 1 ? "" : "s"}`, 1);
        },
      )
      .command<DirArgs>(
        "info <dir>",
        "Rows per table, time span, markets by category and result, tickers with trades/quotes, and a few rows of each table",
        (b) => b.positional("dir", { type: "string", demandOption: true }).option("json", { type: "boolean", default: false }),
        async (a) => {
          try {
            const info = await datasetInfo(a.dir);
            const hash = datasetHash(a.dir, await readManifest(a.dir));
            process.stdout.write(a.json ? `${JSON.stringify({ ...info, hash }, null, 2)}\n` : `${formatInfo(info)}dataset hash ${hash}\n`);
          } catch (error) {
            throw new CliError(error instanceof Error ? error.message : String(error), 1);
          }
        },
      )
      .demandCommand(1, "Name an action: validate or info."),
  handler: () => undefined,
};
