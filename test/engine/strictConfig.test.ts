/**
 * Strict configs (issue 13, frictions 2 and 7): an unknown key in any section
 * stops the run with a did-you-mean, `sweep --vary` keys are checked before a
 * variant runs, and `models` keys must name a routed model (a bare model name
 * is taken for its route, with a warning) so contamination marking works.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { didYouMean, editDistance } from "../../strategies/configKeys.ts";
import { resolveTrainingCutoffs, routedModelNames } from "../../strategies/modelCutoffs.ts";
import { checkRunConfigKey, parseRunConfig } from "../../strategies/runConfig.ts";
import { parseVary } from "../../harness/replay/sweepPlan.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import type { Db } from "../../harness/db/duckdb.ts";
import type { RouterConfig } from "../../harness/router/routerConfig.ts";
import type { OpenAiLoopback } from "../loopback/openaiServer.ts";
import { loopbackRouter, startScriptedForecaster } from "../fixtures/scriptedForecaster.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const CLI = join(ROOT, "bin/tapedeck.js");
const SAMPLE = join(ROOT, "datasets/sample");
const ROUTER = loopbackRouter("http://127.0.0.1:9/v1", { forecast: "bull-1" }, { "bull-1": { input: 1, output: 1 } });

describe("unknown keys are rejected in every section, with a did-you-mean", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["risk", { strategy: { kind: "market" }, risk: { kellyFracton: 0.1 } }, /field risk: unknown key "kellyFracton" \(did you mean "kellyFraction"\?\)/],
    ["root", { strategy: { kind: "market" }, fliter: { kind: "interval" } }, /field \(root\): unknown key "fliter" \(did you mean "filter"\?\)/],
    ["strategy", { strategy: { kind: "momentum", lookbak: 3 } }, /field strategy: unknown key "lookbak" \(did you mean "lookback"\?\)/],
    ["filter", { strategy: { kind: "market" }, filter: { kind: "interval", minIntervalMS: 5 } }, /field filter: unknown key "minIntervalMS" \(did you mean "minIntervalMs"\?\)/],
    ["broker", { strategy: { kind: "market" }, broker: { latencyMS: 5 } }, /field broker: unknown key "latencyMS" \(did you mean "latencyMs"\?\)/],
    ["broker.tradePrint", { strategy: { kind: "market" }, broker: { tradePrint: { halfSpreadUnit: 50 } } }, /field broker\.tradePrint: unknown key "halfSpreadUnit" \(did you mean "halfSpreadUnits"\?\)/],
    ["broker.fees", { strategy: { kind: "market" }, broker: { fees: { serie: {} } } }, /field broker\.fees: unknown key "serie" \(did you mean "series"\?\)/],
    ["broker.fees.default", { strategy: { kind: "market" }, broker: { fees: { default: { makerFee: true } } } }, /field broker\.fees\.default: unknown key "makerFee" \(did you mean "makerFees"\?\)/],
    ["broker.fees.series", { strategy: { kind: "market" }, broker: { fees: { series: { KXA: { multipler: 2 } } } } }, /field broker\.fees\.series\.KXA: unknown key "multipler" \(did you mean "multiplier"\?\)/],
    ["metrics", { strategy: { kind: "market" }, metrics: { calibrationBin: 5 } }, /field metrics: unknown key "calibrationBin" \(did you mean "calibrationBins"\?\)/],
    ["modelLatency", { strategy: { kind: "market" }, modelLatency: { kind: "fixed", ms: 5, jitter: 1 } }, /field modelLatency: unknown key "jitter"/],
    [
      "router endpoint",
      { strategy: { kind: "llm" }, router: { ...ROUTER, endpoints: { scripted: { ...ROUTER.endpoints.scripted, concurency: 2 } } } },
      /field router\.endpoints\.scripted: unknown key "concurency" \(did you mean "concurrency"\?\)/,
    ],
    ["models", { strategy: { kind: "market" }, models: { m: { trainingCutof: "2025-01-01" } } }, /field models\.m: unknown key "trainingCutof" \(did you mean "trainingCutoff"\?\)/],
  ];
  for (const [section, config, message] of cases) {
    it(`in ${section}`, () => expect(() => parseRunConfig(config)).toThrow(message));
  }

  it("config check exits 2 on the typo that used to pass and run with the default", () => {
    const dir = tempDir();
    const file = join(dir, "typo.json");
    writeFileSync(file, JSON.stringify({ strategy: { kind: "market" }, risk: { kellyFracton: 0.1 } }));
    const r = spawnSync(process.execPath, [CLI, "config", "check", file], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown key "kellyFracton" (did you mean "kellyFraction"?)');
    expect(r.stderr).not.toContain("    at ");
  });

  it("suggests only near keys: edit distance is a metric, and a far word gets no suggestion", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, a)).toBe(0);
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
    expect(didYouMean("kellyFracton", ["kellyFraction", "minEdge"])).toBe("kellyFraction");
    expect(didYouMean("zzzzzzzz", ["kellyFraction", "minEdge"])).toBeNull();
  });
});

describe("sweep --vary keys are checked against the schema", () => {
  it("rejects a misspelt key before any variant runs, and accepts real ones, records and router fields", () => {
    expect(() => parseVary("risk.kellyFracton=0.1,0.25")).toThrow(/--vary risk\.kellyFracton: risk: unknown key "kellyFracton" \(did you mean "kellyFraction"\?\)/);
    expect(() => parseVary("strategy.lookbak=3,5")).toThrow(/did you mean "lookback"/);
    expect(() => parseVary("name.x=1")).toThrow(/name is a single value/);
    expect(checkRunConfigKey(["risk", "kellyFraction"])).toBeNull();
    expect(checkRunConfigKey(["strategy", "lookback"])).toBeNull();
    expect(checkRunConfigKey(["models", "scripted/bull-1", "trainingCutoff"])).toBeNull();
    expect(checkRunConfigKey(["router", "routes", "forecast", "temperature"])).toBeNull();
    expect(checkRunConfigKey(["router", "routes", "forecast", "temprature"])).toMatch(/did you mean "temperature"/);
  });

  it("the CLI refuses the sweep that used to run two identical variants", () => {
    const dir = tempDir();
    const r = spawnSync(
      process.execPath,
      [CLI, "sweep", "-c", join(ROOT, "strategies/configs/market.json"), "-d", SAMPLE, "--db", join(dir, "r.duckdb"), "--vary", "risk.kellyFracton=0.1,0.25"],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown key "kellyFracton" (did you mean "kellyFraction"?)');
  });
});

describe("models keys are checked against the routes", () => {
  const router = ROUTER as unknown as RouterConfig;

  it("keeps exact names, maps a bare model name with a warning, and refuses a name no route calls", () => {
    expect(routedModelNames(router)).toEqual(["scripted/bull-1"]);
    expect(resolveTrainingCutoffs({ "scripted/bull-1": { trainingCutoff: "2025-11-08" } }, router)).toEqual({ cutoffs: { "scripted/bull-1": Date.UTC(2025, 10, 8) }, warnings: [] });
    const byName = resolveTrainingCutoffs({ "bull-1": { trainingCutoff: "2025-11-08" } }, router);
    expect(byName.cutoffs).toEqual({ "scripted/bull-1": Date.UTC(2025, 10, 8) });
    expect(byName.warnings).toEqual([expect.stringMatching(/models\.bull-1: keyed by model name; taken as "scripted\/bull-1"/)]);
    expect(() => resolveTrainingCutoffs({ "scripted/bul-1": { trainingCutoff: "2025-11-08" } }, router)).toThrow(
      /field models\.scripted\/bul-1: no route calls this model.*did you mean "scripted\/bull-1"/,
    );
  });

  describe("end to end: a replay with models keyed by model name marks contamination", () => {
    let server: OpenAiLoopback;
    let db: Db;
    beforeAll(async () => {
      process.env["TAPEDECK_TEST_KEY"] = "sk-test-not-a-real-key-123456";
      server = await startScriptedForecaster({ "bull-1": 0.05 });
      db = await DuckDbStore.open(join(tempDir(), "results.duckdb"));
    });
    afterAll(async () => {
      db?.close();
      await server?.close();
    });

    it("counts contaminated forecasts for the routed name and warns once", async () => {
      const config = parseRunConfig({
        name: "by-model-name",
        strategy: { kind: "llm", task: "forecast", newsItems: 0 },
        filter: { minIntervalMs: 12 * 3_600_000 },
        router: loopbackRouter(server.baseURL, { forecast: "bull-1" }, { "bull-1": { input: 0.27, output: 1.1 } }),
        models: { "bull-1": { trainingCutoff: "2025-11-08T12:00:00Z" } },
      });
      const warnings: string[] = [];
      const out = await runReplay({ config, datasetDir: SAMPLE, db, onWarning: (w) => warnings.push(w) });
      expect(warnings).toHaveLength(1);
      const [early] = (
        await db.connection.runAndReadAll(
          `SELECT count(*)::DOUBLE AS n FROM forecasts f JOIN outcomes o USING (run_id, ticker) WHERE f.run_id = $1 AND NOT f.abstained AND o.close_time < $2`,
          [out.runId, Date.UTC(2025, 10, 8, 12)],
        )
      ).getRowObjectsJS() as Array<{ n: number }>;
      expect(early!.n).toBeGreaterThan(0);
      expect(out.metrics.find((m) => m.model === "scripted/bull-1" && m.metric === "contaminated_forecasts")?.value).toBe(early!.n);
    });
  });
});
