/**
 * The `tapedeck` command line. Each command lives in its own file in this
 * folder and exports a yargs CommandModule; this file only assembles them.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { commands } from "./commands.ts";
import { CliError } from "./cliError.ts";
import { codeVersion } from "../replay/codeVersion.ts";
import { DbFileError } from "../db/dbFile.ts";
import { ResumeMismatchError } from "../replay/resumeProof.ts";

export async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName("tapedeck")
    .usage(
      "$0 <command> [options]\n\n" +
        "Replay recorded Kalshi markets and news through the same modules you trade live with,\n" +
        "measure forecast accuracy, cost per signal and throughput into DuckDB, and compare models.",
    )
    .strict()
    .demandCommand(1, "Name a command; `tapedeck --help` lists them.")
    .recommendCommands()
    .help()
    .alias("h", "help")
    // `tapedeck --version`: the package version and the commit it runs from (what runs record as code_version).
    .version(codeVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .epilogue("Docs: README.md. Results go to reports/tapedeck.duckdb unless --db says otherwise.")
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`tapedeck: ${msg}\nRun with --help for usage.\n`);
      process.exit(2);
    });
  for (const command of commands) cli = cli.command(command);
  await cli.parseAsync();
}

try {
  await main(hideBin(process.argv));
} catch (error) {
  if (error instanceof CliError || error instanceof DbFileError || error instanceof ResumeMismatchError) {
    process.stderr.write(`tapedeck: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`tapedeck: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
