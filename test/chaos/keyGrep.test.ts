/**
 * A planted key never reaches any output (issue 14, finding 6): an LLM
 * replay whose model server echoes the key in its error bodies (a 401 like
 * OpenAI's "Incorrect API key provided", a 500 with the key straddling the
 * 300-character cut), with a DuckDB cache and a Redis cache; configs with
 * the key pasted into apiKeyEnv, a ?key= parameter or user:key@; then the
 * report. Grepped: what the process wrote to stderr, the results DB, the
 * cache file, every Redis key and value, and every file of the report.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbText } from "../../harness/bench/chaosBench.ts";
import { startChaosServer, type ChaosServer } from "../../harness/bench/chaosServer.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { buildReport } from "../../reports/buildReport.ts";
import { redisForTests, type RedisHandle } from "../cache/helpers.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");
const KEY = "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";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("a planted key in every output", () => {
  let server: ChaosServer;
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await redisForTests();
    server = await startChaosServer(({ n, bearer, prompt }) => {
      const price = Number(/Market probability now: ([0-9]+\.[0-9]+)/.exec(prompt)?.[1] ?? 0.5);
      const answer = { kind: "answer" as const, content: JSON.stringify({ probability: Math.min(0.99, price + 0.2), confidence: 0.8, rationale: "r" }), usage: { prompt_tokens: 400, completion_tokens: 30 } };
      if (n % 7 === 1) return { fault: "key_echo", action: { kind: "status", status: 401, message: `Incorrect API key provided: ${bearer}. You can find your API key at https://example.invalid` } };
      if (n % 7 === 3) return { fault: "key_echo", action: { kind: "status", status: 500, message: `${"x".repeat(270)} upstream said key=${bearer}` } };
      return { fault: "ok", action: answer };
    });
  }, 20_000);
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it("appears nowhere: stderr, results DB, cache file, Redis, report", async () => {
    const dir = tempDir();
    process.env["TAPEDECK_GREP_KEY"] = KEY;
    const router = {
      endpoints: { echo: { kind: "openai", baseURL: server.baseURL, apiKeyEnv: "TAPEDECK_GREP_KEY", concurrency: 4 } },
      routes: { forecast: { chain: [{ endpoint: "echo", model: "m", tier: "cheap" }], maxTokens: 200 } },
      prices: { models: { "echo/m": { input: 1, output: 2 } } },
      retry: { maxRetries: 0 },
      breaker: { failures: 1_000_000 },
    };
    const base = { strategy: { kind: "llm", task: "forecast" }, filter: { minIntervalMs: 12 * 3_600_000 }, router };
    const dbPath = join(dir, "results.duckdb");
    const cachePath = join(dir, "cache.duckdb");
    const prefix = "tapedeck-grep:";
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const db = await DuckDbStore.open(dbPath);
    try {
      const a = await runReplay({ config: parseRunConfig({ ...base, name: "grep-duckdb", cache: { backend: "duckdb", path: cachePath } }), datasetDir: SAMPLE, db });
      const b = await runReplay({ config: parseRunConfig({ ...base, name: "grep-redis", cache: { backend: "redis", url: redis.url, prefix } }), datasetDir: SAMPLE, db });
      expect(a.status).toBe("completed");
      expect(b.status).toBe("completed");
      // A key pasted where a variable name belongs, or into the URL: refused before any run row could store it,
      // with a message (what the CLI prints) that does not repeat it.
      const echo = router.endpoints.echo;
      for (const bad of [{ apiKeyEnv: KEY }, { baseURL: `${server.baseURL}?key=${KEY}` }, { baseURL: server.baseURL.replace("http://", `http://user:${KEY}@`) }]) {
        try {
          const refused = parseRunConfig({ ...base, name: "grep-pasted", router: { ...router, endpoints: { echo: { ...echo, ...bad } } } });
          await runReplay({ config: refused, datasetDir: SAMPLE, db });
          written.push("a config with a pasted key was accepted\n");
        } catch (error) {
          written.push(`tapedeck: ${(error as Error).message}\n`);
        }
      }
    } finally {
      db.close();
      process.stderr.write = write;
    }
    expect(server.faults.get("key_echo") ?? 0).toBeGreaterThan(5);
    const report = await buildReport({ dbPath, outDir: join(dir, "report") });
    const client = new Redis(redis.url);
    const redisText: string[] = [];
    try {
      for (const k of await client.keys(`${prefix}*`)) {
        redisText.push(k);
        const type = await client.type(k);
        if (type === "hash") redisText.push(JSON.stringify(await client.hgetall(k)));
        else if (type === "zset") redisText.push(JSON.stringify(await client.zrange(k, 0, -1)));
        else redisText.push(String(await client.get(k)));
      }
    } finally {
      client.disconnect();
    }
    expect(redisText.length).toBeGreaterThan(0);
    const outputs: Array<[string, string]> = [
      ["stderr", written.join("")],
      ["results DB", await dbText(dbPath)],
      ["cache file", await dbText(cachePath)],
      ["redis", redisText.join("\n")],
      ...filesUnder(join(dir, "report")).map((f): [string, string] => [f, readFileSync(f).toString("latin1")]),
    ];
    expect(report.htmlPath).toBeTruthy();
    let bytes = 0;
    for (const [where, text] of outputs) {
      bytes += text.length;
      expect(text.includes(KEY.slice(0, 14)), where).toBe(false);
    }
    expect(bytes).toBeGreaterThan(100_000);
    // The echoes were seen and classified: the results DB says auth and server failures happened.
    expect(outputs[1]?.[1]).toContain('"error_class":"auth"');
    expect(outputs[0]?.[1]).not.toContain("was accepted");
  }, 60_000);
});

describe("the grep reads what the results DB compresses", () => {
  it("a marker in a call's prompt and answer (deflated in llm_transcripts) is found by dbText", async () => {
    const path = join(tempDir(), "transcripts.duckdb");
    const marker = "MARKER-4f1e2d3c-prompt";
    const db = await DuckDbStore.open(path);
    try {
      const log = new DuckDbCallLog(db.connection, "r1");
      log.record({ callId: "c1", simTs: 0, wallTs: 0, task: "forecast", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 1, outputTokens: 1, cachedTokens: 0, costNusd: 0, cache: "miss", answerText: "answer MARKER-9a8b7c6d-answer", messages: [{ role: "user", content: `question ${marker}` }] });
      await log.close();
    } finally {
      db.close();
    }
    const text = await dbText(path);
    expect(text).toContain(marker);
    expect(text).toContain("MARKER-9a8b7c6d-answer");
  });
});
