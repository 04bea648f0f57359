/** API keys are read from the environment variables a config names, and never reach a log or llm_calls. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { buildRouter, parseRouterConfig } from "../../harness/router/routerConfig.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import type { ScriptStep } from "../loopback/script.ts";
import { ManualClock, DAY0, goodAnswer, question } from "./fixture.ts";

const SECRET_A = "sk-or-v1-SECRET-aaaaaaaaaaaaaaaa";
const SECRET_B = "sk-or-v1-SECRET-bbbbbbbbbbbbbbbb";

let server: OpenAiLoopback | undefined;
afterEach(() => server?.close());

describe("secrets", () => {
  it("spreads calls over keys, and no key appears in logs or llm_calls even when a server echoes it", async () => {
    let n = 0;
    server = await startOpenAiServer((req): ScriptStep => {
      n += 1;
      if (n % 3 === 0) return { kind: "status", status: 401, message: `Incorrect API key provided: ${String(req.headers["authorization"]).replace("Bearer ", "")}` };
      return { kind: "reply", content: goodAnswer };
    });
    const db = await openDb(join(mkdtempSync(join(tmpdir(), "secrets-")), "results.duckdb"));
    await applySchema(db.connection);
    const callLog = new DuckDbCallLog(db.connection, "run-secrets");
    const logs: string[] = [];
    const router = buildRouter(
      {
        endpoints: { openrouter: { kind: "openai", baseURL: server.baseURL, apiKeyEnv: ["OR_KEY_A", "OR_KEY_B"] } },
        routes: { forecast: { chain: [{ endpoint: "openrouter", model: "m", tier: "cheap" }] } },
        prices: { models: { m: { input: 1, output: 1 } } },
      },
      { clock: new ManualClock(DAY0), callLog, env: { OR_KEY_A: SECRET_A, OR_KEY_B: SECRET_B }, logger: (l, m, f) => logs.push(`${l} ${m} ${JSON.stringify(f)}`) },
    );
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await router.complete({ task: "forecast", messages: question }));
    await callLog.close();
    const auth = server.requests.map((r) => r.headers["authorization"]);
    expect(auth.filter((h) => h === `Bearer ${SECRET_A}`).length).toBeGreaterThan(0);
    expect(auth.filter((h) => h === `Bearer ${SECRET_B}`).length).toBeGreaterThan(0);
    expect(outcomes.some((o) => !o.ok && o.errorClass === "auth")).toBe(true);
    const reader = await db.connection.runAndReadAll("SELECT * FROM llm_calls");
    const dump = JSON.stringify(reader.getRowObjectsJson()) + logs.join("\n") + JSON.stringify(outcomes);
    expect(reader.currentRowCount).toBe(6);
    expect(dump).toContain("Incorrect API key provided: [redacted]");
    expect(dump).not.toContain("SECRET");
    db.close();
  });

  it("names the missing environment variable, not a value, and names bad config fields", () => {
    expect(() =>
      buildRouter(
        { endpoints: { x: { kind: "openai", baseURL: "http://127.0.0.1:1/v1", apiKeyEnv: "NOPE_KEY" } }, routes: { t: { chain: [{ endpoint: "x", model: "m", tier: "cheap" }] } }, prices: { models: { m: { input: 0, output: 0 } } } },
        { clock: new ManualClock(0), callLog: { record() {}, flush: async () => {} }, env: {} },
      ),
    ).toThrow(/environment variable NOPE_KEY is not set/);
    expect(() => parseRouterConfig({ endpoints: {}, routes: { t: { chain: [{ endpoint: "x", model: "m", tier: "gold" }] } } }, "router.json")).toThrow(/router\.json[\s\S]*routes\.t\.chain\[0\]\.tier/);
    expect(() =>
      buildRouter(
        { endpoints: { x: { kind: "ollama", host: "http://127.0.0.1:1" }, y: { kind: "openai", baseURL: "http://127.0.0.1:1/v1", apiKeyEnv: "K" } }, routes: { t: { chain: [{ endpoint: "y", model: "unpriced", tier: "cheap" }] } } },
        { clock: new ManualClock(0), callLog: { record() {}, flush: async () => {} }, env: { K: "k" } },
      ),
    ).toThrow(/no price for y\/unpriced/);
  });
});
