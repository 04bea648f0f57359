/**
 * Friction 4 of issue 13: the cache replayed a broken model's answers
 * silently. A model server gives useless answers (p = 0.5 everywhere), a
 * run fills the DuckDB cache with them; the server is fixed. `--cache on`
 * (the old and only behaviour) answers the rerun from the cache: 0
 * requests, the broken digest. `refresh` sends every request and replaces
 * the stored answers; `off` sends every request and stores nothing;
 * `read-only` serves hits and stores nothing. Summaries count provider
 * requests and cache hits apart, and `tapedeck cache stats|clear` see and
 * empty the file.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuoteRow } from "../../datasets/format.ts";
import { clearCommand, statsCommand } from "../../harness/cli/cache.ts";
import { formatReplaySummary } from "../../harness/cli/replay.ts";
import type { CacheMode } from "../../harness/cache/cacheMode.ts";
import { openDb } from "../../harness/db/duckdb.ts";
import { runReplay, type ReplayOutcome } from "../../harness/replay/runReplay.ts";
import { metricValue } from "../../harness/results/runMetrics.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { chatRequests, startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";

const H = 3_600_000;
let dir: string;
let datasetDir: string;
let server: OpenAiLoopback;
let db: Awaited<ReturnType<typeof DuckDbStore.open>>;
let cachePath: string;

const broken = () => ({ kind: "reply" as const, content: JSON.stringify({ probability: 0.5, confidence: 0.9, rationale: "broken" }), promptTokens: 10, completionTokens: 10 });
const fixed = scriptedAnswer({ "bull-1": 0.2 });

beforeAll(async () => {
  process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
  dir = tempDir("tapedeck-cache-modes-");
  cachePath = join(dir, "cache.duckdb");
  const quotes: QuoteRow[] = [];
  ["ALPHA", "BRAVO", "CHARLIE"].forEach((ticker, i) => {
    for (let t = 0; t < 8 * H; t += H / 2) quotes.push({ ts: t + i, ticker, yes_bid: 0.3, yes_ask: 0.32, last_price: 0.31, volume: 5000 + t / 1000, open_interest: 5000 });
  });
  datasetDir = await writeTinyDataset(join(dir, "ds"), {
    markets: ["ALPHA", "BRAVO", "CHARLIE"].map((t, i) => market(t, { close_time: 8 * H, settle_time: 8 * H + 1, result: i === 1 ? "no" : "yes" })),
    quotes,
  });
  server = await startOpenAiServer(broken);
  db = await DuckDbStore.open(join(dir, "results.duckdb"));
});

afterAll(async () => {
  db?.close();
  await server?.close();
});

const config = () =>
  parseRunConfig({
    name: "cached",
    strategy: { kind: "llm", task: "forecast", newsItems: 0 },
    filter: { minIntervalMs: 2 * H },
    router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
    cache: { enabled: true, backend: "duckdb", path: cachePath, ttlMs: { default: 100 * H } },
  });

async function run(mode: CacheMode): Promise<{ out: ReplayOutcome; sent: number }> {
  const before = chatRequests(server);
  const out = await runReplay({ config: config(), datasetDir, db, cacheMode: mode });
  return { out, sent: chatRequests(server) - before };
}

async function entries(): Promise<number> {
  const cache = await openDb(cachePath, { readOnly: true });
  try {
    return Number((await cache.connection.runAndReadAll("SELECT count(*) FROM cache_entries")).getRows()[0]![0]);
  } finally {
    cache.close();
  }
}

const hits = (o: ReplayOutcome) => (metricValue(o.metrics, "*", "cache_exact_hits") ?? 0) + (metricValue(o.metrics, "*", "cache_semantic_hits") ?? 0);

describe("--cache on|off|refresh|read-only", () => {
  it("refresh replaces what a broken server left in the cache; on, off and read-only do what they say", async () => {
    const first = await run("on");
    const n = metricValue(first.out.metrics, "*", "forecasts")!;
    expect(n).toBeGreaterThan(5);
    expect(first.sent).toBe(n);
    expect(await entries()).toBe(n);

    server.script = fixed; // the model server is fixed
    const stale = await run("on");
    expect(stale.sent).toBe(0); // what the issue saw: no request, the broken answers again
    expect(stale.out.digest).toBe(first.out.digest);
    expect(hits(stale.out)).toBe(n);
    expect(metricValue(stale.out.metrics, "*", "provider_calls")).toBe(0);
    expect(formatReplaySummary(stale.out, "db")).toContain(`model calls: 0 provider requests, ${n} cache hits (${n} exact, 0 semantic)`);

    const refreshed = await run("refresh");
    expect(refreshed.sent).toBe(n);
    expect(hits(refreshed.out)).toBe(0);
    expect(refreshed.out.digest).not.toBe(first.out.digest);
    expect(await entries()).toBe(n); // replaced in place, not added beside

    const warm = await run("on");
    expect(warm.sent).toBe(0);
    expect(warm.out.digest).toBe(refreshed.out.digest); // the cache now holds the fixed answers

    const off = await run("off");
    expect(off.sent).toBe(n);
    expect(hits(off.out)).toBe(0);
    expect(off.out.digest).toBe(refreshed.out.digest);
    expect(await entries()).toBe(n);

    const readOnly = await run("read-only");
    expect(readOnly.sent).toBe(0);
    expect(hits(readOnly.out)).toBe(n);
  });

  it("read-only stores nothing on a miss", async () => {
    const before = await entries();
    server.script = scriptedAnswer({ "bull-1": -0.1 });
    const other = parseRunConfig({ ...JSON.parse(JSON.stringify(config())), name: "other", strategy: { kind: "llm", task: "forecast", newsItems: 0, temperature: 0.3 } });
    const sent = chatRequests(server);
    const out = await runReplay({ config: other, datasetDir, db, cacheMode: "read-only" });
    expect(chatRequests(server) - sent).toBe(metricValue(out.metrics, "*", "forecasts"));
    expect(await entries()).toBe(before);
  });

  it("tapedeck cache stats and clear see and empty the cache file", async () => {
    const write = process.stdout.write.bind(process.stdout);
    let stdout = "";
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    try {
      const n = await entries();
      await statsCommand.handler({ path: cachePath, json: true, yes: false, _: [], $0: "" } as never);
      await expect(clearCommand.handler({ path: cachePath, json: true, yes: false, _: [], $0: "" } as never)).rejects.toThrow(/would delete all \d+ entries .* pass --yes/);
      await clearCommand.handler({ path: cachePath, json: true, yes: true, _: [], $0: "" } as never);
      const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ backend: "duckdb", entries: n });
      expect(lines[1]).toMatchObject({ backend: "duckdb", deleted: n });
    } finally {
      process.stdout.write = write;
    }
    expect(await entries()).toBe(0);
  });

  it("cache stats and clear on a cache file that is not there say so and do not create it", async () => {
    const missing = join(dir, "never", "cache.duckdb");
    const write = process.stdout.write.bind(process.stdout);
    let stdout = "";
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    try {
      await statsCommand.handler({ path: missing, json: true, yes: false, _: [], $0: "" } as never);
      await clearCommand.handler({ path: missing, json: true, yes: true, _: [], $0: "" } as never);
    } finally {
      process.stdout.write = write;
    }
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { backend: "duckdb", where: missing, entries: 0, exists: false },
      { backend: "duckdb", where: missing, deleted: 0, exists: false },
    ]);
    expect(existsSync(missing)).toBe(false);
  });
});
