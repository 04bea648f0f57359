/**
 * `tapedeck promote <run>`: the promotion gates and the run's value for each,
 * i.e. whether `tapedeck trade <its config> --live` would be allowed. Only a
 * completed replay can promote its config. With `--record` the verdict is
 * written as a `promotions` row (`trade --live` writes one on every attempt).
 */
import { existsSync } from "node:fs";
import type { CommandModule } from "yargs";
import { openDb } from "../db/duckdb.ts";
import { applySchema } from "../store/schema.ts";
import { checkRun, loadPromotionGates, recordPromotion } from "../live/promotionGates.ts";
import type { KalshiEnvironmentName } from "../live/kalshi/environment.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";

interface PromoteArgs {
  run: string;
  db: string;
  gates?: string;
  environment: KalshiEnvironmentName;
  record: boolean;
  json: boolean;
}

export const promoteCommand: CommandModule<object, PromoteArgs> = {
  command: "promote <run>",
  describe: "Show the promotion gates and a replay run's value for each: whether its config may trade live",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run id of a completed replay" })
      .options(dbOption)
      .option("gates", { type: "string", describe: "Gates file (JSON: minScoredForecasts, minBrierSkillLowerBound, minNetPnlUsd, maxDrawdownFraction, maxAiBudgetShare); default the safe defaults" })
      .option("environment", { choices: ["demo", "production"] as const, default: "demo" as const, describe: "Environment the promotion is for" })
      .option("record", { type: "boolean", default: false, describe: "Write the verdict as a promotions row" })
      .option("json", { type: "boolean", default: false, describe: "Print the verdict as JSON" })
      .example("$0 promote 20251107-1200-llm-ab12", "Gates and values for that run") as never,
  handler: async (args) => {
    if (!existsSync(args.db)) throw new CliError(`${args.db}: no results DB there`);
    let gates;
    try {
      gates = loadPromotionGates(args.gates);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const db = await openDb(args.db, { readOnly: !args.record });
    try {
      if (args.record) await applySchema(db.connection);
      let check;
      try {
        check = await checkRun(db.connection, args.run, args.environment, gates);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const promotionId = args.record ? await recordPromotion(db.connection, check) : null;
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ ...check, promotionId }, null, 2)}\n`);
      } else {
        const table = formatTable(
          ["gate", "value", "needs", "passed", "detail"],
          check.gates.map((g) => [g.gate, g.value, g.threshold, g.passed ? "yes" : "NO", g.detail ?? ""]),
        );
        process.stdout.write(
          `run ${check.runId} (config ${check.configHash}${check.model ? `, model ${check.model}` : ""}), for ${check.environment}\n` +
            `${check.gates.length > 0 ? `${table}\n` : ""}` +
            (check.passed ? "PROMOTABLE: this run passes every gate (`tapedeck trade <config> --live` judges the newest completed replay of the config; production also needs credentials and --i-understand-this-trades-real-money).\n" : `NOT PROMOTABLE: ${check.reason}\n`) +
            (promotionId ? `recorded as ${promotionId}\n` : ""),
        );
      }
      if (!check.passed) process.exitCode = 3;
    } finally {
      db.close();
    }
  },
};
