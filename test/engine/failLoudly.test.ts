/**
 * Friction 1 of issue 13: failed model calls must not look like a success.
 * An endpoint on a wrong port or refusing the key fails the run before it
 * starts (pre-flight); a run whose forecasts all abstained exits non-zero
 * naming the top reasons; --max-abstain-rate fails a run above a rate; and
 * the summary says on which share of forecasts Brier and skill stand.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuoteRow } from "../../datasets/format.ts";
import { CliError } from "../../harness/cli/cliError.ts";
import { formatReplaySummary, replayCommand, withCounts } from "../../harness/cli/replay.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { startServer } from "../loopback/httpServer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, scriptedAnswer } from "../fixtures/scriptedForecaster.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";

const H = 3_600_000;
const TICKERS = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"];
let dir: string;
let datasetDir: string;

beforeAll(async () => {
  process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
  dir = tempDir("tapedeck-loud-");
  const quotes: QuoteRow[] = [];
  TICKERS.forEach((ticker, i) => {
    for (let t = 0; t < 8 * H; t += H / 2) quotes.push({ ts: t + i, ticker, yes_bid: 0.4, yes_ask: 0.42, last_price: 0.41, volume: 5000 + t / 1000, open_interest: 5000 });
  });
  datasetDir = await writeTinyDataset(join(dir, "ds"), {
    markets: TICKERS.map((t, i) => market(t, { close_time: 8 * H, settle_time: 8 * H + 1, result: i % 2 === 0 ? "yes" : "no" })),
    quotes,
  });
});

function llmConfig(baseURL: string, name = "loud") {
  return {
    name,
    strategy: { kind: "llm", task: "forecast", newsItems: 0 },
    filter: { minIntervalMs: 2 * H },
    router: loopbackRouter(baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
  };
}

describe("failed model calls fail the run loudly", () => {
  let db: Awaited<ReturnType<typeof DuckDbStore.open>>;
  beforeAll(async () => {
    db = await DuckDbStore.open(join(dir, "results.duckdb"));
  });
  afterAll(() => db?.close());

  it("an endpoint on a wrong port fails at once in pre-flight, before any forecast, with a message naming it", async () => {
    const gone = await startServer((_req, res) => void res.end());
    const port = new URL(gone.origin).port;
    await gone.close(); // nothing listens there now
    const started = performance.now();
    const run = runReplay({ config: parseRunConfig(llmConfig(`http://127.0.0.1:${port}/v1`, "wrong-port")), datasetDir, db });
    await expect(run).rejects.toThrow(/pre-flight check failed, nothing was run: endpoint "scripted": .*cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/models \(ECONNREFUSED\)/);
    expect(performance.now() - started).toBeLessThan(5_000);
    const rows = (await db.connection.runAndReadAll(`SELECT status, (SELECT count(*) FROM forecasts f WHERE f.run_id = r.run_id)::INTEGER AS n FROM runs r WHERE config_json LIKE '%wrong-port%'`)).getRowObjectsJS();
    expect(rows).toEqual([{ status: "failed", n: 0 }]);
  });

  it("an endpoint that refuses the key fails in pre-flight as an auth error", async () => {
    const refusing = await startServer((_req, res) => void res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"message":"bad key"}}'));
    try {
      await expect(runReplay({ config: parseRunConfig(llmConfig(`${refusing.origin}/v1`, "bad-key")), datasetDir, db })).rejects.toThrow(/refused the API key \(HTTP 401\)/);
      // The key itself never appears in the message.
      await expect(runReplay({ config: parseRunConfig(llmConfig(`${refusing.origin}/v1`, "bad-key")), datasetDir, db })).rejects.not.toThrow(/sk-test/);
    } finally {
      await refusing.close();
    }
  });
});

describe("the CLI exit code and summary", () => {
  let server: OpenAiLoopback;
  let n = 0;
  const answers = scriptedAnswer({ "bull-1": 0.05 });
  afterAll(async () => server?.close());

  async function replayCli(configJson: object, extra: Record<string, unknown> = {}): Promise<{ error: unknown; stdout: string }> {
    const path = join(dir, `cfg-${n++}.json`);
    writeFileSync(path, JSON.stringify(configJson));
    const write = process.stdout.write.bind(process.stdout);
    let stdout = "";
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    try {
      await replayCommand.handler({ config: path, dataset: datasetDir, db: join(dir, "cli.duckdb"), json: false, progress: false, verbose: false, checkpointEvery: 250_000, cache: "on", _: [], $0: "tapedeck", ...extra } as never);
      return { error: null, stdout };
    } catch (error) {
      return { error, stdout };
    } finally {
      process.stdout.write = write;
    }
  }

  it("a run whose every answer is malformed scored nothing: exit 4 with the top abstention reasons, not a table and exit 0", async () => {
    server = await startOpenAiServer(() => ({ kind: "reply", content: "Once upon a time there was a tiny model.", promptTokens: 10, completionTokens: 10 }));
    const { error, stdout } = await replayCli(llmConfig(server.baseURL, "all-malformed"));
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(4);
    expect((error as CliError).message).toMatch(/scored no forecast: (\d+) forecasts, \1 abstained \(top abstention reasons: malformed_output ×\1\)/);
    // The summary printed before it says what happened too.
    expect(stdout).toMatch(/abstentions: (\d+) of \1 forecasts \(malformed_output \1\)/);
    expect(stdout).toMatch(/scripted\/bull-1\s+\d+\s+\d+\s+0\s+0\.0%/);
  });

  it("--max-abstain-rate fails a run above it; the summary gives the scored share Brier and skill stand on", async () => {
    let i = 0;
    server.script = (request) => (i++ % 2 === 0 ? { kind: "reply", content: "not json at all", promptTokens: 5, completionTokens: 5 } : answers(request));
    const strict = await replayCli(llmConfig(server.baseURL, "half-malformed"), { maxAbstainRate: 0.2 });
    expect(strict.error).toBeInstanceOf(CliError);
    expect((strict.error as CliError).exitCode).toBe(4);
    expect((strict.error as CliError).message).toMatch(/abstained on (4\d|5\d)\.\d% of its forecasts, above --max-abstain-rate 0\.2 \(top abstention reasons: malformed_output ×\d+\)/);
    i = 0;
    const lenient = await replayCli(llmConfig(server.baseURL, "half-malformed-ok"), { maxAbstainRate: 0.9 });
    expect(lenient.error).toBeNull();
    const share = /scripted\/bull-1\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)%/.exec(lenient.stdout);
    expect(share).not.toBeNull();
    const [forecasts, abstained, scored, pct] = share!.slice(1).map(Number) as [number, number, number, number];
    expect(abstained + scored).toBe(forecasts);
    expect(pct).toBeCloseTo((100 * scored) / forecasts, 1);
    expect(pct).toBeLessThan(100);
  });

  it("--json carries abstentions by reason and the scored share", async () => {
    server.script = (request) => answers(request);
    const db = await DuckDbStore.open(join(dir, "json.duckdb"));
    try {
      const out = withCounts(await runReplay({ config: parseRunConfig(llmConfig(server.baseURL, "all-good")), datasetDir, db }));
      expect(out.abstentions).toEqual([]);
      expect(out.counts.scoredShare).toBe(1);
      expect(out.counts.providerRequests).toBe(out.counts.forecasts);
      expect(out.counts.cacheHits).toBe(0);
      expect(formatReplaySummary(out, "x.duckdb")).toContain(`model calls: ${out.counts.forecasts} provider requests, 0 cache hits`);
    } finally {
      db.close();
    }
  });
});
