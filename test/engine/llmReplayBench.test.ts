/**
 * `bench llm-replay` (the function, not the CLI) on a tiny dataset at 20 ms:
 * the figures agree with each other and with the server's own counts, both
 * runs produce the same digest, and the figures land in the benchmarks table.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuoteRow } from "../../datasets/format.ts";
import { benchLlmReplay } from "../../harness/bench/llmReplayBench.ts";
import { startFixedLatencyServer } from "../../harness/bench/fixedLatencyServer.ts";
import { openDb } from "../../harness/db/duckdb.ts";
import { market, tempDir, writeTinyDataset } from "../fixtures/tinyDataset.ts";

const H = 3_600_000;
const TICKERS = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"];

describe("bench llm-replay", () => {
  let dir: string;
  let datasetDir: string;

  beforeAll(async () => {
    dir = tempDir("tapedeck-llm-bench-test-");
    // Six markets quoted every 15 minutes for 12 hours: the example config's 2-hour minimum interval gives a few dozen calls.
    const quotes: QuoteRow[] = [];
    TICKERS.forEach((ticker, i) => {
      for (let t = 0; t < 12 * H; t += H / 4) {
        const mid = 0.3 + 0.05 * i + 0.1 * Math.sin(t / (3 * H) + i);
        quotes.push({ ts: t + i, ticker, yes_bid: Number((mid - 0.01).toFixed(2)), yes_ask: Number((mid + 0.01).toFixed(2)), last_price: Number(mid.toFixed(2)), volume: 1000 + t / 1000, open_interest: 5000 });
      }
    });
    datasetDir = await writeTinyDataset(join(dir, "ds"), {
      markets: TICKERS.map((t, i) => market(t, { close_time: 12 * H, settle_time: 12 * H + 1, result: i % 2 === 0 ? "yes" : "no" })),
      quotes,
    });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers every chat completion with a valid forecast derived from the prompt, and counts requests in flight", async () => {
    const server = await startFixedLatencyServer(30, { kind: "forecast" });
    try {
      const ask = async (prompt: string) => {
        const res = await fetch(`${server.baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }] }),
        });
        const body = (await res.json()) as { model: string; choices: Array<{ message: { content: string } }> };
        return { model: body.model, answer: JSON.parse(body.choices[0]!.message.content) as { probability: number; confidence: number; rationale: string } };
      };
      const answers = await Promise.all(["a", "b", "a", "c", "d"].map(ask));
      for (const { model, answer } of answers) {
        expect(model).toBe("m");
        expect(answer.probability).toBeGreaterThan(0);
        expect(answer.probability).toBeLessThan(1);
        expect(answer.confidence).toBeGreaterThanOrEqual(0.5);
        expect(answer.confidence).toBeLessThanOrEqual(0.95);
        expect(typeof answer.rationale).toBe("string");
      }
      expect(answers[0]!.answer).toEqual(answers[2]!.answer); // same prompt, same answer
      expect(new Set(answers.map((a) => a.answer.probability)).size).toBeGreaterThan(2); // different prompts, different answers
      expect(await server.stats()).toEqual({ requests: 5, inFlight: 0, maxInFlight: 5 });
      expect(await server.resetStats()).toEqual({ requests: 0, inFlight: 0, maxInFlight: 0 });
    } finally {
      await server.close();
    }
  });

  it("reports calls, wall, ideal and ratio consistently, with equal digests, and stores the figures in benchmarks", async () => {
    const benchDb = join(dir, "bench.duckdb");
    const r = await benchLlmReplay({ latencyMs: 20, concurrency: 4, datasetDir, resultsDb: join(dir, "results.duckdb"), benchDb });

    expect(r.latency.status).toBe("completed");
    expect(r.zeroLatency.status).toBe("completed");
    expect(r.calls).toBeGreaterThan(10);
    // Every request the server saw is one logged call and one forecast, none malformed; the zero-latency run made the same calls.
    expect(r.calls).toBe(r.latency.server.requests);
    expect(r.latency.llmCalls).toBe(r.calls);
    expect(r.latency.forecasts).toBe(r.calls);
    expect(r.latency.abstained).toBe(0);
    expect(r.zeroLatency.server.requests).toBe(r.calls);
    expect(r.latency.server.inFlight).toBe(0);
    expect(r.serverMaxInFlight).toBeGreaterThanOrEqual(1);
    expect(r.serverMaxInFlight).toBeLessThanOrEqual(4);
    // The digest does not depend on the model's latency.
    expect(r.digest).toMatch(/^[0-9a-f]{16,}$/);
    expect(r.zeroLatencyDigest).toBe(r.digest);
    expect(r.digestsMatch).toBe(true);
    // ideal = calls × L / C + zero-latency wall; ratio = wall / ideal; wall can never beat calls × L / C.
    expect(r.effectiveConcurrency).toBe(4);
    expect(r.idealSeconds).toBeCloseTo((r.calls * 0.02) / 4 + r.zeroLatencyWallSeconds, 9);
    expect(r.ratio).toBeCloseTo(r.wallSeconds / r.idealSeconds, 9);
    expect(r.wallSeconds).toBeGreaterThanOrEqual((r.calls * 0.02) / 4);

    const db = await openDb(benchDb);
    try {
      const rows = (
        await db.connection.runAndReadAll(`SELECT kind, metric, value, unit, params_json FROM benchmarks WHERE bench_id = $1 ORDER BY metric`, [r.benchId])
      ).getRowObjectsJS();
      const value = (metric: string) => rows.find((row) => row["metric"] === metric)?.["value"];
      expect(rows.map((row) => row["metric"]).sort()).toEqual(["calls", "ideal_s", "ratio", "server_max_in_flight", "wall_s", "zero_latency_wall_s"]);
      expect(rows.every((row) => row["kind"] === "llm-replay")).toBe(true);
      expect(value("calls")).toBe(r.calls);
      expect(value("wall_s")).toBeCloseTo(r.wallSeconds, 9);
      expect(value("ideal_s")).toBeCloseTo(r.idealSeconds, 9);
      expect(value("ratio")).toBeCloseTo(r.ratio, 9);
      expect(value("server_max_in_flight")).toBe(r.serverMaxInFlight);
      expect(JSON.parse(rows[0]!["params_json"] as string)).toMatchObject({ latencyMs: 20, concurrency: 4, maxInFlight: null, digest: r.digest, digestsMatch: true });
    } finally {
      db.close();
    }
  });

  it("passes maxInFlight to the replay, and the server never sees more in flight", async () => {
    const r = await benchLlmReplay({ latencyMs: 20, concurrency: 8, maxInFlight: 2, datasetDir, benchDb: join(dir, "bench.duckdb") });
    expect(r.resultsDb).toBeNull(); // the runs went to a temp file
    expect(r.maxInFlight).toBe(2);
    expect(r.effectiveConcurrency).toBe(2);
    expect(r.serverMaxInFlight).toBeGreaterThanOrEqual(1);
    expect(r.serverMaxInFlight).toBeLessThanOrEqual(2);
    expect(r.idealSeconds).toBeCloseTo((r.calls * 0.02) / 2 + r.zeroLatencyWallSeconds, 9);
    expect(r.digestsMatch).toBe(true);
  });
});
