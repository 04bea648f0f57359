/**
 * `tapedeck cache stats|clear`: what the response cache holds, and emptying
 * it. The cache is named by a run config (its "cache" section) or directly
 * (--path for a DuckDB file, --redis for a server); default: the DuckDB
 * file every config uses unless it says otherwise.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import type { CacheBackend } from "../cache/cache.ts";
import { DEFAULT_CACHE_PATH, parseCacheConfig, type CacheConfig } from "../cache/cacheConfig.ts";
import { openCacheBackend } from "../cache/openCache.ts";
import { ConfigError, loadRunConfig } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";

interface CacheArgs {
  config?: string;
  path?: string;
  redis?: string;
  prefix?: string;
  yes: boolean;
  json: boolean;
}

function cacheConfigFrom(args: CacheArgs): CacheConfig {
  if (args.config !== undefined) {
    let cache;
    try {
      cache = loadRunConfig(args.config).cache;
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2);
      throw error;
    }
    if (!cache) throw new CliError(`${args.config}: the config has no "cache" section`, 2);
    return cache;
  }
  if (args.redis !== undefined) return parseCacheConfig({ backend: "redis", url: args.redis, ...(args.prefix !== undefined ? { prefix: args.prefix } : {}) }, "--redis");
  return parseCacheConfig({ backend: "duckdb", path: args.path ?? DEFAULT_CACHE_PATH }, "--path");
}

function where(config: CacheConfig): string {
  if (config.backend === "duckdb") return resolve(config.path ?? DEFAULT_CACHE_PATH);
  if (config.backend === "redis") return `${(config.url ?? "$TAPEDECK_REDIS_URL").replace(/\/\/[^@/]*@/, "//***@")} prefix ${config.prefix ?? "tapedeck:cache:"}`;
  return "memory (per run: nothing persists)";
}

/** A DuckDB cache file that is not there yet: looking at it must not create it. */
function missingFile(config: CacheConfig): string | null {
  if (config.backend !== "duckdb") return null;
  const path = resolve(config.path ?? DEFAULT_CACHE_PATH);
  return existsSync(path) ? null : path;
}

async function withBackend<T>(args: CacheArgs, use: (backend: CacheBackend, config: CacheConfig) => Promise<T>): Promise<T> {
  const config = cacheConfigFrom(args);
  let backend: CacheBackend;
  try {
    backend = await openCacheBackend(config);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  try {
    return await use(backend, config);
  } finally {
    await backend.close();
  }
}

const shared = (y: Argv) =>
  y
    .option("config", { alias: "c", type: "string", describe: "Run config whose cache section names the cache" })
    .option("path", { type: "string", describe: `DuckDB cache file (default ${DEFAULT_CACHE_PATH})` })
    .option("redis", { type: "string", describe: "Redis URL of a shared cache (password in TAPEDECK_REDIS_URL instead)" })
    .option("prefix", { type: "string", describe: "Key prefix of the Redis cache" })
    .option("json", { type: "boolean", default: false, describe: "Print as JSON" });

export const statsCommand: CommandModule<object, CacheArgs> = {
  command: "stats",
  describe: "Entries in the cache and where it is",
  builder: (y) => shared(y) as never,
  handler: async (args) => {
    const missing = missingFile(cacheConfigFrom(args));
    if (missing !== null) {
      process.stdout.write(args.json ? `${JSON.stringify({ backend: "duckdb", where: missing, entries: 0, exists: false })}\n` : `cache duckdb at ${missing}: no cache file yet (0 entries)\n`);
      return;
    }
    return withBackend(args, async (backend, config) => {
      const entries = await backend.count();
      if (args.json) process.stdout.write(`${JSON.stringify({ backend: backend.kind, where: where(config), entries })}\n`);
      else process.stdout.write(`cache ${backend.kind} at ${where(config)}: ${entries.toLocaleString("en-US")} entries\n`);
    });
  },
};

export const clearCommand: CommandModule<object, CacheArgs> = {
  command: "clear",
  describe: "Delete every entry of the cache (refuses without --yes)",
  builder: (y) => shared(y).option("yes", { alias: "y", type: "boolean", default: false, describe: "Really delete" }) as never,
  handler: async (args) => {
    const missing = missingFile(cacheConfigFrom(args));
    if (missing !== null) {
      process.stdout.write(args.json ? `${JSON.stringify({ backend: "duckdb", where: missing, deleted: 0, exists: false })}\n` : `cache duckdb at ${missing}: no cache file, nothing to clear\n`);
      return;
    }
    return withBackend(args, async (backend, config) => {
      if (!args.yes) throw new CliError(`cache clear would delete all ${await backend.count()} entries of ${where(config)}; pass --yes`, 2);
      const deleted = await backend.clear();
      if (args.json) process.stdout.write(`${JSON.stringify({ backend: backend.kind, where: where(config), deleted })}\n`);
      else process.stdout.write(`deleted ${deleted.toLocaleString("en-US")} entries from ${where(config)}\n`);
    });
  },
};

export const cacheCommand: CommandModule<object, object> = {
  command: "cache <action>",
  describe: "The response cache: `cache stats` (entries, where), `cache clear --yes`. Per run: `--cache on|off|refresh|read-only` on replay, sweep, demo",
  builder: (y: Argv) =>
    y
      .command(statsCommand)
      .command(clearCommand)
      .demandCommand(1, "Name an action: stats or clear")
      .example("$0 cache stats -c strategies/configs/local-llm.json", "how many answers the config's cache holds")
      .example("$0 cache clear --yes", "empty reports/cache.duckdb") as never,
  handler: () => {},
};
