/**
 * `tapedeck consensus --runs … --fit`: fit consensus weights and an
 * extremizing factor walk-forward in time, print in-sample and
 * out-of-sample scores beside equal weights and the best single model, and
 * write the fitted weights as a run config (strategy kind "consensus").
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CommandModule } from "yargs";
import { openDbForReading } from "../db/dbFile.ts";
import { DEFAULT_FIT_OPTIONS, fitWeightsWalkForward, type FitLoss, type FitResult } from "../consensus/fitWeights.ts";
import { loadFitItems } from "../consensus/loadFitItems.ts";
import { fittedRouter, FittedRouterError, type FittedRouter } from "../consensus/fittedRouter.ts";
import { fitWarnings } from "../consensus/fitWarnings.ts";
import type { PoolKind } from "../consensus/pools.ts";
import { queryRows, str } from "../../reports/query.ts";
import { CliError } from "./cliError.ts";
import { resolveRunIdsArg } from "./runs.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";

interface ConsensusArgs {
  runs: string[];
  fit: boolean;
  loss: FitLoss;
  pool: PoolKind;
  folds: number;
  db: string;
  out?: string;
  json: boolean;
}

/** The config replay/redecide reads: the first run's config with the strategy replaced by the fitted pool. */
export function fittedConfig(
  baseConfigJson: string,
  fit: FitResult,
  runIds: readonly string[],
  /** Router task of each member model (from a consensus run's member rows); a model without one is named as its own task. */
  taskOf: ReadonlyMap<string, string> = new Map(),
  /** Every member's endpoint, route and price (fittedRouter): replaces the base config's router and `models`. */
  routed?: FittedRouter,
): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(baseConfigJson) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) base = parsed as Record<string, unknown>;
  } catch {
    // A run without a JSON config: start from an empty one.
  }
  const { ablation: _ablation, ...rest } = base;
  const tasks = routed?.taskOf ?? taskOf;
  return {
    ...rest,
    ...(routed ? { router: routed.router, models: routed.models } : {}),
    name: `${typeof base["name"] === "string" ? base["name"] : "run"}-consensus-fit`,
    description: `Consensus weights fitted walk-forward (${fit.pool} pool, ${fit.loss}) on runs ${runIds.join(", ")}`,
    strategy: {
      kind: "consensus",
      pool: fit.pool,
      extremize: Number(fit.final.extremize.toFixed(4)),
      members: fit.models.map((model, i) => ({ task: tasks.get(model) ?? model, weight: Number((fit.final.weights[i] ?? 0).toFixed(6)) })),
    },
  };
}

export const consensusCommand: CommandModule<object, ConsensusArgs> = {
  command: "consensus",
  describe: "Fit consensus weights walk-forward over several runs' forecasts and write them as a new config",
  builder: (y) =>
    y
      .option("runs", { type: "string", array: true, demandOption: true, describe: "Runs whose models become the members" })
      .option("fit", { type: "boolean", default: false, describe: "Fit the weights (required: it is what this command does)" })
      .option("loss", { choices: ["log_loss", "brier"] as const, default: "log_loss" as FitLoss, describe: "What the fit minimises" })
      .option("pool", { choices: ["log-odds", "linear"] as const, default: "log-odds" as PoolKind, describe: "Opinion pool" })
      .option("folds", { type: "number", default: DEFAULT_FIT_OPTIONS.folds, describe: "Walk-forward folds" })
      .options(dbOption)
      .option("out", { alias: "o", type: "string", describe: "Config file to write (default strategies/configs/consensus-fit.json)" })
      .option("json", { type: "boolean", default: false, describe: "Print the fit as JSON" }) as never,
  handler: async (args) => {
    if (!args.fit) throw new CliError("consensus needs --fit (the only action so far)", 2);
    if (!existsSync(args.db)) throw new CliError(`${args.db}: no results DB there`);
    const db = await openDbForReading(args.db, "results");
    let fit: FitResult;
    let base = "{}";
    let dropped: number;
    const taskOf = new Map<string, string>();
    let routed: FittedRouter;
    try {
      args.runs = await resolveRunIdsArg(db, args.runs);
      const input = await loadFitItems(db.connection, args.runs);
      if (input.models.length < 2) throw new CliError(`runs ${args.runs.join(", ")} hold ${input.models.length} model(s); a consensus needs at least 2`);
      if (input.items.length < 2 * DEFAULT_FIT_OPTIONS.minTrain) {
        throw new CliError(`only ${input.items.length} decisions on settled markets carry a forecast from every member; need at least ${2 * DEFAULT_FIT_OPTIONS.minTrain}`);
      }
      dropped = input.dropped;
      fit = fitWeightsWalkForward(input.items, { ...DEFAULT_FIT_OPTIONS, models: input.models, loss: args.loss, pool: args.pool, folds: args.folds });
      const first = await queryRows(db.connection, "SELECT config_json FROM runs WHERE run_id = $1", [args.runs[0] ?? ""]);
      base = str(first[0], "config_json") || "{}";
      // Consensus members are stored with agent "<strategy>:<task>": that names each model's route.
      const agents = await queryRows(
        db.connection,
        `SELECT DISTINCT model, agent FROM forecasts WHERE run_id IN (${args.runs.map(() => "?").join(", ")}) AND agent LIKE '%:%' AND model <> 'consensus'`,
        args.runs,
      );
      for (const r of agents) taskOf.set(str(r, "model"), str(r, "agent").slice(str(r, "agent").indexOf(":") + 1));
      // Members may come from different runs: the fitted config carries each one's endpoint, route and price.
      const configs = await queryRows(db.connection, `SELECT run_id, config_json FROM runs WHERE run_id IN (${args.runs.map(() => "?").join(", ")})`, args.runs);
      try {
        routed = fittedRouter(input.members, new Map(configs.map((r) => [str(r, "run_id"), str(r, "config_json")])));
      } catch (error) {
        if (error instanceof FittedRouterError) throw new CliError(`consensus --fit: ${error.message}`, 2);
        throw error;
      }
    } finally {
      db.close();
    }
    const out = args.out ?? "strategies/configs/consensus-fit.json";
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(fittedConfig(base, fit, args.runs, taskOf, routed), null, 2)}\n`);
    // Say so when the fit does not pay out of sample: a user should not adopt weights that lose to the simple choices.
    const warnings = fitWarnings(fit);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    const fitPath = out.replace(/\.json$/, "") + ".fit.json";
    writeFileSync(fitPath, `${JSON.stringify({ runs: args.runs, dropped, ...fit }, null, 2)}\n`);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...fit, warnings }, null, 2)}\n`);
      return;
    }
    const oos = fit.outOfSample;
    process.stdout.write(
      `${formatTable(
        ["member", "weight"],
        fit.models.map((m, i) => [m, fit.final.weights[i] ?? null]),
      )}\nextremizing factor ${fit.final.extremize.toFixed(3)} (${fit.pool} pool, minimising ${fit.loss})\n\n${formatTable(
        [fit.loss, "fitted", "equal weights", "best single", "best single model", "markets"],
        [
          ["in-sample", fit.inSample.fitted, fit.inSample.equal, fit.inSample.bestSingle.score, fit.inSample.bestSingle.model, fit.inSample.n],
          ["out-of-sample", oos?.fitted ?? null, oos?.equal ?? null, oos?.bestSingle.score ?? null, oos?.bestSingle.model ?? null, oos?.n ?? 0],
        ],
      )}\nOut-of-sample: ${fit.folds.length} walk-forward folds, each fitted only on markets that settled before every market it scores.\nWrote ${out} and ${fitPath}\n`,
    );
  },
};
