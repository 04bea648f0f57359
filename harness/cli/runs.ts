/**
 * `tapedeck runs`: find runs (filters, --json), tag them, remove them with
 * their rows. Run ids may be given as any unique prefix (harness/store/runIds.ts).
 */
import { existsSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Argv, CommandModule } from "yargs";
import { openDb, type Db } from "../db/duckdb.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { countRunRows, listRuns, parseSince, removeRun, tagRun, untagRun, type RunListEntry } from "../store/runCatalog.ts";
import { resolveRunId, resolveRunIds, RunIdError } from "../store/runIds.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { formatTable } from "./table.ts";

interface ListArgs {
  db: string;
  dataset?: string;
  config?: string;
  status?: string;
  since?: string;
  tag?: string;
  limit?: number;
  json: boolean;
}

/** Open the results DB for reading, or say plainly that there is none. */
export async function openResults(path: string, readOnly = true): Promise<Db> {
  if (!existsSync(path)) throw new CliError(`${path}: no results DB there (run \`tapedeck replay\` first or pass --db)`);
  // Writers go through DuckDbStore.open so a file from an older version gains the newer tables.
  return readOnly ? openDb(path, { readOnly: true }) : DuckDbStore.open(path);
}

/** A bad run reference (unknown, ambiguous) as a one-line CLI error. */
async function asCliError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof RunIdError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** A user's run reference (id or unique prefix) as a run id; a bad one is a one-line CLI error. */
export function runIdArg(db: Db, ref: string): Promise<string> {
  return asCliError(resolveRunId(db.connection, ref));
}

/** Several run references, each resolved; duplicates kept once. */
export function resolveRunIdsArg(db: Db, refs: readonly string[]): Promise<string[]> {
  return asCliError(resolveRunIds(db.connection, refs));
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

export function formatRunList(runs: readonly RunListEntry[]): string {
  return formatTable(
    ["id", "kind", "label", "config", "dataset", "status", "started (UTC)", "wall s", "forecasts", "scored", "abstained", "trades", "P&L $", "AI $", "tags"],
    runs.map((r) => [
      r.runId,
      r.kind,
      r.label ?? "",
      r.configName ?? "",
      r.dataset ?? "",
      r.status,
      stamp(r.startedAt),
      r.wallMs === null ? null : (r.wallMs / 1000).toFixed(1),
      r.forecasts,
      r.scored,
      r.abstained,
      r.trades,
      Math.round(r.pnlUsd * 100) / 100,
      r.aiUsd,
      r.tags.join(","),
    ]),
  );
}

const listCommand: CommandModule<object, ListArgs> = {
  command: "$0",
  describe: "List runs, newest first",
  builder: (y) =>
    y
      .options(dbOption)
      .option("dataset", { type: "string", describe: "Only runs on this dataset (its name, as `dataset info` shows it)" })
      .option("config", { type: "string", describe: "Only runs of this config name (the config's \"name\")" })
      .option("status", { type: "string", choices: ["running", "interrupted", "completed", "failed"], describe: "Only runs with this status" })
      .option("since", { type: "string", describe: "Only runs started since a date (2025-11-07) or an age (6h, 2d)" })
      .option("tag", { type: "string", describe: "Only runs with this tag" })
      .option("limit", { type: "number", describe: "At most this many runs" })
      .option("json", { type: "boolean", default: false, describe: "Print the runs as JSON" }) as never,
  handler: async (args) => {
    let since: number | undefined;
    try {
      since = args.since !== undefined ? parseSince(args.since) : undefined;
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    const db = await openResults(args.db);
    try {
      let runs = await listRuns(db.connection, { dataset: args.dataset, config: args.config, status: args.status, since, tag: args.tag });
      if (args.limit !== undefined) runs = runs.slice(0, Math.max(0, args.limit));
      if (args.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      else process.stdout.write(runs.length === 0 ? "no runs match\n" : `${formatRunList(runs)}\n${runs.length} run(s) in ${args.db}\n`);
    } finally {
      db.close();
    }
  },
};

interface TagArgs {
  db: string;
  run: string;
  tag: string;
  remove: boolean;
  json: boolean;
}

const tagCommand: CommandModule<object, TagArgs> = {
  command: "tag <run> <tag>",
  describe: "Tag a run (free text, no commas); --remove takes the tag off",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run id or unique prefix" })
      .positional("tag", { type: "string", demandOption: true })
      .option("remove", { type: "boolean", default: false, describe: "Remove the tag instead" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const db = await openResults(args.db, false);
    try {
      const runId = await runIdArg(db, args.run);
      let changed: boolean;
      try {
        changed = args.remove ? await untagRun(db.connection, runId, args.tag) : await tagRun(db.connection, runId, args.tag);
      } catch (error) {
        throw new CliError((error as Error).message, 2);
      }
      if (args.json) process.stdout.write(`${JSON.stringify({ runId, tag: args.tag, removed: args.remove, changed })}\n`);
      else process.stdout.write(`${runId}: tag "${args.tag}" ${args.remove ? (changed ? "removed" : "was not there") : changed ? "added" : "already there"}\n`);
    } finally {
      db.close();
    }
  },
};

interface RmArgs {
  db: string;
  run: string;
  yes: boolean;
  json: boolean;
}

const rmCommand: CommandModule<object, RmArgs> = {
  command: "rm <run>",
  describe: "Delete a run and its rows in every table but the live audit trail (promotions, reconciliations); asks first, --yes skips the question",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run id or unique prefix" })
      .option("yes", { alias: "y", type: "boolean", default: false, describe: "Do not ask for confirmation" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false }) as never,
  handler: async (args) => {
    const db = await openResults(args.db, false);
    try {
      const runId = await runIdArg(db, args.run);
      const counts = await countRunRows(db.connection, runId);
      const summary = Object.entries(counts).map(([t, n]) => `${t} ${n.toLocaleString("en-US")}`).join(", ");
      if (!args.yes) {
        if (!process.stdin.isTTY) throw new CliError(`runs rm ${runId}: not a terminal, so nothing to confirm with; pass --yes to delete (${summary})`, 2);
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Delete run ${runId} (${summary})? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          process.stderr.write("nothing deleted\n");
          return;
        }
      }
      const deleted = await removeRun(db.connection, runId);
      if (args.json) process.stdout.write(`${JSON.stringify({ runId, deleted })}\n`);
      else process.stdout.write(`deleted run ${runId}: ${summary}\n`);
    } finally {
      db.close();
    }
  },
};

export const runsCommand: CommandModule<object, object> = {
  command: "runs",
  describe: "Find runs in the results DB (filters, --json); `runs tag`, `runs rm`. Run ids may be shortened to any unique prefix everywhere",
  builder: (y: Argv) =>
    y
      .command(listCommand)
      .command(tagCommand)
      .command(rmCommand)
      .example("$0 runs --dataset sample --status completed --since 2d", "completed runs of the last two days on the sample")
      .example("$0 runs tag market-2025 baseline", "tag the run whose id starts with market-2025")
      .example("$0 runs rm llm-20251129 --yes", "delete a run and all its rows") as never,
  handler: () => {},
};
