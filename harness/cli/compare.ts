/** `tapedeck compare <run A> <run B>`: paired Brier difference with a bootstrap interval, and the P&L difference. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandModule } from "yargs";
import { openDbForReading } from "../db/dbFile.ts";
import { CompareError, compareRuns, comparisonMarkdown } from "../../reports/compareRuns.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";
import { runIdArg } from "./runs.ts";

interface CompareArgs {
  runA: string;
  runB: string;
  modelA?: string;
  modelB?: string;
  db: string;
  out?: string;
  samples: number;
  seed: number;
  json: boolean;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: "compare <runA> <runB>",
  describe: "Paired comparison of two runs on the forecasts both made (Brier difference with bootstrap interval, P&L difference)",
  builder: (y) =>
    y
      .positional("runA", { type: "string", demandOption: true })
      .positional("runB", { type: "string", demandOption: true })
      .option("model-a", { type: "string", describe: "Model in run A (default: its only model, or consensus)" })
      .option("model-b", { type: "string", describe: "Model in run B" })
      .options(dbOption)
      .option("out", { alias: "o", type: "string", describe: "Folder for compare.md and compare.json (default reports/out/compare-<A>-vs-<B>)" })
      .option("samples", { type: "number", default: 2000, describe: "Bootstrap resamples" })
      .option("seed", { type: "number", default: 20251107, describe: "Bootstrap seed" })
      .option("json", { type: "boolean", default: false, describe: "Print the comparison as JSON" }) as never,
  handler: async (args) => {
    if (!existsSync(args.db)) throw new CliError(`${args.db}: no results DB there`);
    const db = await openDbForReading(args.db, "results");
    try {
      args.runA = await runIdArg(db, args.runA);
      args.runB = await runIdArg(db, args.runB);
      const c = await compareRuns(db.connection, { runA: args.runA, runB: args.runB, modelA: args.modelA, modelB: args.modelB, samples: args.samples, seed: args.seed });
      const out = args.out ?? join("reports", "out", `compare-${args.runA}-vs-${args.runB}`.replace(/[^A-Za-z0-9._-]/g, "_"));
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "compare.md"), comparisonMarkdown(c));
      writeFileSync(join(out, "compare.json"), `${JSON.stringify(c, null, 2)}\n`);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatTable(
          ["", `A ${c.runA}`, `B ${c.runB}`, "A − B", "95% lo", "95% hi"],
          [
            ["Brier", c.brierA, c.brierB, c.brierDiff.estimate, c.brierDiff.lower, c.brierDiff.upper],
            ["P&L after fees $", c.pnlA, c.pnlB, c.pnlDiff, null, null],
          ],
        )}\n${c.pairs} paired forecasts on ${c.markets} markets (${c.modelA} vs ${c.modelB}). Written to ${join(out, "compare.md")}\n`,
      );
    } catch (error) {
      if (error instanceof CompareError) throw new CliError(error.message);
      throw error;
    } finally {
      db.close();
    }
  },
};
