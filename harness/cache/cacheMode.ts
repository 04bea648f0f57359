/**
 * How a run uses the response cache, chosen per invocation (`--cache`), not
 * part of the experiment (the config's hash and the run's digest do not
 * depend on it):
 * - on: look up, and store new answers (the config's cache as written);
 * - off: no cache at all: every request goes to its provider, nothing is stored;
 * - refresh: never serve from the cache, send every request, and store each
 *   answer in place of any older one for the same prompt and time (fixes a
 *   cache filled by a broken endpoint);
 * - read-only: serve hits, send misses, store nothing (a shared cache stays as it was).
 */
export const CACHE_MODES = ["on", "off", "refresh", "read-only"] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

/** The yargs option every command that runs replays shares. */
export const cacheModeOption = {
  cache: {
    choices: CACHE_MODES,
    default: "on" as CacheMode,
    describe: "Response cache: on (look up and store), off (no cache), refresh (send every request, overwrite stored answers), read-only (serve hits, store nothing)",
  },
} as const;
