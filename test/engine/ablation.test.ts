/**
 * The ablation table on the bundled sample: with the scripted loopback model
 * (meaningful probabilities, known token counts and prices) every number is
 * checked against what the server saw and against SQL over the same DB; with
 * the real tiny local model the CLI prints the table and its numbers are read
 * back from the DB.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { ABLATION_STEPS, ablationConfig, runAblation, type AblationRow } from "../../harness/replay/runAblation.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { formatAblation } from "../../harness/cli/ablate.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { chatRequests, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { COMPLETION_TOKENS, loopbackRouter, PROMPT_TOKENS, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const SAMPLE = join(ROOT, "datasets/sample");
const TICKERS = ["KXBTCD-25NOV0910-T102749.99", "KXBTCD-25NOV0910-T103249.99", "KXCSGOGAME-FALFUR25-FUR", "KXATPMATCH-25NOV08DJOMUS-DJO"];

async function brierFromSql(db: Db, runId: string, model: string): Promise<number | null> {
  const r = await db.connection.runAndReadAll(
    `SELECT avg(power(f.probability - CASE o.result WHEN 'yes' THEN 1 ELSE 0 END, 2)) AS b
       FROM forecasts f JOIN outcomes o USING (run_id, ticker)
      WHERE f.run_id = $1 AND f.model = $2 AND NOT f.abstained AND o.result IN ('yes', 'no')`,
    [runId, model],
  );
  return (r.getRowObjectsJS()[0] as { b: number | null }).b;
}

describe("ablation with the scripted loopback model", () => {
  let server: OpenAiLoopback;
  let db: Db;
  let rows: AblationRow[];
  const requestsPerStep: number[] = [];

  beforeAll(async () => {
    process.env["TAPEDECK_TEST_KEY"] = "sk-test-ablation";
    server = await startScriptedForecaster({ "bull-1": 0.04 });
    db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    const config = parseRunConfig({
      name: "abl",
      // The compact prompt keeps the semantic step's embeddings (by the tiny local model) quick.
      strategy: { kind: "llm", task: "forecast", prompt: "forecast-compact-v1" },
      filter: { kind: "market", minIntervalMs: 1_800_000 },
      cache: { semantic: { enabled: true, threshold: 0.999 } },
      router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
    });
    let before = 0;
    rows = await runAblation({
      config,
      datasetDir: SAMPLE,
      db,
      source: { tickers: TICKERS },
      onStep: () => {
        requestsPerStep.push(chatRequests(server) - before);
        before = chatRequests(server);
      },
    });
  }, 240_000);
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  it("runs every step, each a labelled run", async () => {
    expect(rows.map((r) => r.step)).toEqual([...ABLATION_STEPS]);
    const labels = (await db.connection.runAndReadAll(`SELECT label FROM runs ORDER BY started_at`)).getRowObjectsJS().map((r) => r["label"]);
    expect(labels).toEqual(ABLATION_STEPS.map((s) => `ablation:${s}`));
  });

  it("reports model calls, tokens and dollars that match what the server saw and the price table", () => {
    for (const [i, r] of rows.entries()) {
      expect(r.modelCalls, r.step).toBe(requestsPerStep[i]);
      expect(r.tokens, r.step).toBe(r.modelCalls * (PROMPT_TOKENS + COMPLETION_TOKENS));
      expect(r.aiSpendUsd, r.step).toBeCloseTo((r.modelCalls * (PROMPT_TOKENS * 270 + COMPLETION_TOKENS * 1100)) / 1e9, 12);
      expect(r.callsAvoided, r.step).toBe(rows[0]!.modelCalls - r.modelCalls);
    }
    expect(rows[0]!.modelCalls).toBeGreaterThan(20);
    expect(rows[0]!.cacheHits).toBe(0);
    // The filter layers keep calls from the model: fewer calls than the unfiltered steps.
    expect(rows[3]!.modelCalls).toBeLessThan(rows[0]!.modelCalls);
  });

  it("reports Brier, skill and money that SQL over the same DB reproduces", async () => {
    for (const r of rows) {
      expect(r.brier, r.step).toBeCloseTo((await brierFromSql(db, r.runId, "scripted/bull-1"))!, 12);
      const m = (await db.connection.runAndReadAll(
        `SELECT (SELECT sum(pnl_units) FROM settlements WHERE run_id = $1)::DOUBLE / 10000 AS pnl`,
        [r.runId],
      )).getRowObjectsJS()[0] as { pnl: number | null };
      expect(r.pnlUsd ?? 0, r.step).toBeCloseTo(m.pnl ?? 0, 9);
      expect(r.netPnlUsd!, r.step).toBeCloseTo((r.pnlUsd ?? 0) - r.aiSpendUsd, 9);
    }
    const table = formatAblation(rows);
    expect(table.split("\n")).toHaveLength(2 + ABLATION_STEPS.length);
    expect(table).toContain("+ event-filter");
  });

  it("builds each step's config with exactly its layers on", () => {
    const base = parseRunConfig({ strategy: { kind: "market" } });
    const cfg = ABLATION_STEPS.map((s) => ablationConfig(base, s));
    expect(cfg.map((c) => c.cache?.enabled)).toEqual([false, true, true, true, true, true]);
    expect(cfg.map((c) => c.cache?.semantic.enabled)).toEqual([false, false, true, true, true, true]);
    expect(cfg.map((c) => c.filter.kind === "market" && c.filter.triggers.enabled)).toEqual([false, false, false, true, true, true]);
    expect(cfg.map((c) => c.filter.kind === "market" && c.filter.sampling.enabled)).toEqual([false, false, false, false, true, true]);
    expect(cfg.map((c) => c.filter.kind === "market" && c.filter.batching.enabled)).toEqual([false, false, false, false, false, true]);
    expect(cfg.every((c) => c.cache?.backend === "memory")).toBe(true);
  });
});

describe("ablation with the real tiny local model, through the CLI", () => {
  it("prints the table, and every number is in the DB", async () => {
    const dir = tempDir();
    const configPath = join(dir, "tiny.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        name: "tiny",
        strategy: { kind: "llm", task: "forecast", prompt: "forecast-compact-v1", temperature: 0, seed: 7 },
        filter: { kind: "market", minIntervalMs: 4 * 3_600_000 },
        router: {
          endpoints: { local: { kind: "local", modelPath: join(ROOT, "models/stories260K.gguf"), sequences: 1 } },
          routes: { forecast: { chain: [{ endpoint: "local", model: "stories260K", tier: "local" }], maxTokens: 48 } },
        },
      }),
    );
    const dbPath = join(dir, "results.duckdb");
    const args = [join(ROOT, "bin/tapedeck.js"), "ablate", "-c", configPath, "-d", SAMPLE, "--markets", "3", "--db", dbPath];
    const printed = spawnSync(process.execPath, [...args, "--json"], { encoding: "utf8", cwd: ROOT });
    expect(printed.status, printed.stderr).toBe(0);
    const rows = JSON.parse(printed.stdout) as AblationRow[];
    expect(rows.map((r) => r.step)).toEqual([...ABLATION_STEPS]);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      for (const r of rows) {
        const sql = (await db.connection.runAndReadAll(
          `SELECT count(*) FILTER (WHERE cache = 'miss')::DOUBLE AS calls, count(*) FILTER (WHERE cache <> 'miss')::DOUBLE AS hits,
                  coalesce(sum(input_tokens + output_tokens), 0)::DOUBLE AS tokens, coalesce(sum(cost_nusd), 0)::DOUBLE AS cost
             FROM llm_calls WHERE run_id = $1`,
          [r.runId],
        )).getRowObjectsJS()[0] as { calls: number; hits: number; tokens: number; cost: number };
        expect({ calls: r.modelCalls, hits: r.cacheHits, tokens: r.tokens, cost: r.aiSpendUsd }).toEqual({ ...sql, cost: 0 });
        // The tiny model is local: free, but its calls and tokens are real.
        expect(sql.cost).toBe(0);
      }
      expect(rows[0]!.modelCalls).toBeGreaterThan(0);
      expect(rows[0]!.tokens).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  }, 300_000);
});
