/** Run configs: every committed config validates, the JSON Schema is current, and bad configs fail naming the field. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configHash, loadRunConfig, parseRunConfig, runConfigJsonSchema } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const CONFIGS = join(ROOT, "strategies/configs");
const CLI = join(ROOT, "bin/tapedeck.js");

describe("run configs", () => {
  it("validates every committed config", () => {
    const files = readdirSync(CONFIGS).filter((f) => f.endsWith(".json") && !f.includes("schema") && !f.endsWith(".fit.json"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(() => loadRunConfig(join(CONFIGS, f)), f).not.toThrow();
  });

  it("keeps the committed JSON Schema in step with the zod schema", () => {
    const committed = JSON.parse(readFileSync(join(CONFIGS, "run-config.schema.json"), "utf8")) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(runConfigJsonSchema())));
  });

  it("hashes equal configs equally, whatever the key order, and different decisions differently", () => {
    const a = parseRunConfig({ name: "x", strategy: { kind: "momentum", lookback: 5, gain: 0.5 } });
    const b = parseRunConfig({ strategy: { gain: 0.5, kind: "momentum", lookback: 5 }, name: "x" });
    const c = parseRunConfig({ name: "x", strategy: { kind: "momentum", lookback: 5, gain: 0.5 }, risk: { kellyFraction: 0.1 } });
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).not.toBe(configHash(c));
  });

  it("names the bad field, and the CLI exits non-zero with it", () => {
    expect(() => parseRunConfig({ strategy: { kind: "momentum", lookback: -1 } })).toThrow(/field strategy\.lookback/);
    expect(() => parseRunConfig({ strategy: { kind: "llm" } })).toThrow(/field router: strategy "llm" calls models/);
    expect(() => parseRunConfig({ strategy: { kind: "market" }, risk: { kellyFraction: 2 } })).toThrow(/field risk\.kellyFraction/);
    // Configs are stored with every run, so a secret has no place in one.
    expect(() => parseRunConfig({ strategy: { kind: "market" }, cache: { backend: "redis", url: "redis://:hunter2@127.0.0.1:6379" } })).toThrow(
      /field cache\.url: must not carry a password/,
    );
    const dir = tempDir();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ strategy: { kind: "market" }, broker: { latencyMs: "soon" } }));
    const r = spawnSync(process.execPath, [CLI, "replay", "-c", bad, "-d", join(ROOT, "datasets/sample"), "--db", join(dir, "r.duckdb")], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("field broker.latencyMs");
    const nokey = join(dir, "nokey.json");
    writeFileSync(
      nokey,
      JSON.stringify({
        strategy: { kind: "llm" },
        router: {
          endpoints: { or: { kind: "openai", baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: "TAPEDECK_TEST_UNSET_KEY" } },
          routes: { forecast: { chain: [{ endpoint: "or", model: "m", tier: "cheap" }] } },
          prices: { models: { m: { input: 1, output: 1 } } },
        },
      }),
    );
    const noKey = spawnSync(process.execPath, [CLI, "replay", "-c", nokey, "-d", join(ROOT, "datasets/sample"), "--db", join(dir, "r.duckdb")], {
      encoding: "utf8",
      env: { ...process.env, TAPEDECK_TEST_UNSET_KEY: "" },
    });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain("environment variable TAPEDECK_TEST_UNSET_KEY is not set");
    expect(noKey.stderr).not.toContain("    at ");
    const missing = spawnSync(process.execPath, [CLI, "replay", "-c", join(CONFIGS, "market.json"), "-d", join(dir, "nope"), "--db", join(dir, "r.duckdb")], { encoding: "utf8" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope.*dataset.json: not found/);
  });
});
