/**
 * Resume from the answer journal: a run's answered calls are read back from
 * its llm_calls rows in a real DuckDB file, and a second router answers the
 * same calls from them without any provider request or new row.
 * Also: call-log rows are durable without flush(), even across a kill -9.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { CallJournal, loadSpentRows } from "../../harness/router/callJournal.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { forecastAnswer, type ForecastAnswer } from "../../providers/forecastAnswer.ts";
import type { RouterOutcome } from "../../harness/router/router.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { makeRouter, openaiEndpoint } from "./fixture.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const servers: OpenAiLoopback[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const db of dbs.splice(0)) db.close();
});

async function freshDb(): Promise<{ db: Db; path: string }> {
  const path = join(mkdtempSync(join(tmpdir(), "journal-")), "results.duckdb");
  const db = await openDb(path);
  dbs.push(db);
  await applySchema(db.connection);
  return { db, path };
}

async function count(db: Db, where = "true"): Promise<number> {
  const reader = await db.connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM llm_calls WHERE ${where}`);
  return (reader.getRowObjectsJS()[0] as { n: number }).n;
}

const answer = (p: number) => JSON.stringify({ probability: p, confidence: 0.6, rationale: `p=${p}` });
const ask = (content: string) => [{ role: "user" as const, content }];
const lastUser = (body: Record<string, unknown>) => (body["messages"] as Array<{ content: string }>).at(-1)?.content ?? "";

/** The primary answers "q<k>" with probability k/10, except "silly" (out of range) and "down" (503); the repeated question gets a new answer each time. */
function primaryScript(state: { down: boolean }) {
  const seen = new Map<string, number>();
  return ({ body }: { body: Record<string, unknown> }) => {
    const q = lastUser(body);
    if (state.down) return { kind: "status" as const, status: 500 };
    const n = (seen.get(q) ?? 0) + 1;
    seen.set(q, n);
    if (q === "silly") return { kind: "reply" as const, content: JSON.stringify({ probability: -5, confidence: 2, rationale: "nonsense" }), promptTokens: 11, completionTokens: 7 };
    if (q === "down") return { kind: "status" as const, status: 503 };
    if (q === "again") return { kind: "reply" as const, content: answer(n / 10), promptTokens: 12, completionTokens: 8 };
    return { kind: "reply" as const, content: answer(Number(q.slice(1)) / 10), promptTokens: 10 + q.length, completionTokens: 20, finishReason: "stop" };
  };
}

const config = (primary: string, backup: string) => ({
  endpoints: { primary: openaiEndpoint(primary), backup: openaiEndpoint(backup) },
  routes: { forecast: { chain: [{ endpoint: "primary", model: "m1", tier: "cheap" as const }, { endpoint: "backup", model: "m2", tier: "balanced" as const }], maxTokens: 50 } },
  prices: { models: { m1: { input: 1, output: 2 }, m2: { input: 3, output: 4 } } },
  retry: { maxRetries: 0 },
  budget: { dailyUsd: "1" },
});

const QUESTIONS = ["q1", "q2", "silly", "again", "q3", "down", "again", "q4"];

describe("answer journal", () => {
  it("a second router with the journal makes 0 provider requests and 0 new rows and returns the same answers", async () => {
    const { db } = await freshDb();
    const state = { down: false };
    const primary = await startOpenAiServer(primaryScript(state));
    const backup = await startOpenAiServer(() => ({ kind: "reply", content: answer(0.9), promptTokens: 30, completionTokens: 10 }));
    servers.push(primary, backup);

    const firstLog = new DuckDbCallLog(db.connection, "run-1");
    const first = makeRouter(config(primary.baseURL, backup.baseURL), undefined, { callLog: firstLog });
    const original: Array<RouterOutcome<ForecastAnswer>> = [];
    for (const q of QUESTIONS) original.push(await first.router.complete({ task: "forecast", messages: ask(q), answer: forecastAnswer }));
    await firstLog.close();
    const requestsBefore = primary.requests.length + backup.requests.length;
    expect(requestsBefore).toBe(10); // 8 to the primary, 2 fallbacks (silly, down)
    const rowsBefore = await count(db);
    expect(rowsBefore).toBe(10);
    // ok and malformed rows carry the raw answer text; failed ones do not.
    const texts = (await db.connection.runAndReadAll("SELECT status, error_class, answer_text FROM llm_calls ORDER BY wall_ts, rowid")).getRowObjectsJS() as Array<{
      status: string;
      error_class: string | null;
      answer_text: string | null;
    }>;
    expect(texts.filter((r) => r.status === "ok").every((r) => r.answer_text !== null)).toBe(true);
    expect(texts.find((r) => r.error_class === "malformed_output")?.answer_text).toBe(JSON.stringify({ probability: -5, confidence: 2, rationale: "nonsense" }));
    expect(texts.find((r) => r.error_class === "server")?.answer_text).toBeNull();

    const journal = await CallJournal.load(db.connection, "run-1");
    expect(journal.size).toBe(9); // 6 ok and 1 malformed on the primary, 2 fallbacks on the backup (the 503 is not an answer)
    const secondLog = new DuckDbCallLog(db.connection, "run-1");
    const second = makeRouter(config(primary.baseURL, backup.baseURL), undefined, { callLog: secondLog, journal });
    // The primary is down for the whole second run: only the journal can answer.
    state.down = true;
    const replayed = [];
    for (const q of QUESTIONS.filter((q) => q !== "down")) replayed.push(await second.router.complete({ task: "forecast", messages: ask(q), answer: forecastAnswer }));
    await secondLog.close();

    expect(primary.requests.length + backup.requests.length).toBe(requestsBefore);
    expect(await count(db)).toBe(rowsBefore);
    const summary = (o: (typeof original)[number]) => (o.ok ? [o.provider, o.model, o.tier, o.callId, o.answer.probability, o.costNusd, o.result.usage.inputTokens] : [o.errorClass]);
    expect(replayed.map(summary)).toEqual(original.filter((_, i) => QUESTIONS[i] !== "down").map(summary));
    // The repeated question gets its two answers in the order they were given.
    expect(replayed.filter((_, i) => QUESTIONS.filter((q) => q !== "down")[i] === "again").map((o) => o.ok && o.answer.probability)).toEqual([0.1, 0.2]);
    // The malformed answer is malformed again (validated like a fresh one), and the chain moves on the same way.
    const silly = replayed[2];
    expect(silly?.ok && silly.trace.map((t) => [t.provider, t.status, t.errorClass ?? null])).toEqual([
      ["primary", "error", "malformed_output"],
      ["backup", "ok", null],
    ]);
    // Budgets count journaled calls at their recorded cost (the down call's fallback was not replayed).
    const downCost = original[5]?.ok ? original[5].costNusd : 0;
    expect(second.router.budget.spentToday()).toBe(first.router.budget.spentToday() - downCost);
    expect(second.router.ledger.totalNusd).toBe(first.router.ledger.totalNusd - downCost);
    expect(journal.size).toBe(1); // the down call's fallback answer was never asked for
    // A call the journal does not hold goes to the provider as usual.
    const fresh = await second.router.complete({ task: "forecast", messages: ask("q7"), answer: forecastAnswer });
    expect(fresh.ok && fresh.provider).toBe("backup");
  });

  it("an answer malformed for its lone surrogate stays malformed on resume (its stored text is the well-formed copy)", async () => {
    const { db } = await freshDb();
    // A valid forecast but for a lone UTF-16 surrogate in its rationale: malformed_output, stored with U+FFFD in its place.
    const lone = `{"probability":0.4,"confidence":0.6,"rationale":"a\ud800b"}`;
    const primary = await startOpenAiServer(() => ({ kind: "reply", content: lone, promptTokens: 10, completionTokens: 20 }));
    const backup = await startOpenAiServer(() => ({ kind: "reply", content: answer(0.9), promptTokens: 30, completionTokens: 10 }));
    servers.push(primary, backup);
    const firstLog = new DuckDbCallLog(db.connection, "run-s");
    const first = makeRouter(config(primary.baseURL, backup.baseURL), undefined, { callLog: firstLog });
    const original = await first.router.complete({ task: "forecast", messages: ask("q1"), answer: forecastAnswer });
    await firstLog.close();
    expect(original.ok && original.trace.map((t) => [t.provider, t.errorClass ?? null])).toEqual([
      ["primary", "malformed_output"],
      ["backup", null],
    ]);
    const journal = await CallJournal.load(db.connection, "run-s");
    const secondLog = new DuckDbCallLog(db.connection, "run-s");
    const second = makeRouter(config(primary.baseURL, backup.baseURL), undefined, { callLog: secondLog, journal });
    const replayed = await second.router.complete({ task: "forecast", messages: ask("q1"), answer: forecastAnswer });
    await secondLog.close();
    expect(replayed.ok && [replayed.provider, replayed.answer.probability, replayed.trace.map((t) => t.errorClass ?? null)]).toEqual(["backup", 0.9, ["malformed_output", null]]);
    expect(primary.requests.length + backup.requests.length).toBe(2);
  });

  it("rows are checked when read back: a cost beyond a safe integer is refused, naming the row", async () => {
    const { db } = await freshDb();
    await db.connection.run(
      `INSERT INTO llm_calls (run_id, call_id, sim_ts, wall_ts, task, provider, model, prompt_hash, status, cost_nusd, answer_text)
       VALUES ('run-x', 'c1', 1, 1, 'forecast', 'p', 'm', 'h', 'ok', 9007199254740993, 'text')`,
    );
    await expect(CallJournal.load(db.connection, "run-x")).rejects.toThrow(/llm_calls row 0 of run run-x: .*safe integer/s);
    await expect(CallJournal.load(db.connection, "other-run")).resolves.toHaveProperty("size", 0);
  });

  it("loadSpentRows gives a run's paid rows for Budget.seedSpent", async () => {
    const { db } = await freshDb();
    const log = new DuckDbCallLog(db.connection, "run-s");
    const base = { task: "forecast", provider: "p", model: "m", attempts: 1, inputTokens: 1, outputTokens: 1, cachedTokens: 0, cache: "miss" as const };
    log.record({ ...base, callId: "a", simTs: 100, wallTs: 1, tier: "cheap", status: "ok", costNusd: 700 });
    log.record({ ...base, callId: "b", simTs: 200, wallTs: 2, tier: "premium", status: "refused", errorClass: "budget", costNusd: 0 });
    log.record({ ...base, callId: "c", simTs: 300, wallTs: 3, status: "error", errorClass: "malformed_output", costNusd: 50 });
    await log.close();
    expect(await loadSpentRows(db.connection, "run-s")).toEqual([
      { callId: "a", simTs: 100, tier: "cheap", costNusd: 700 },
      { callId: "c", simTs: 300, tier: null, costNusd: 50 },
    ]);
  });
});

describe("call log durability", () => {
  it("a recorded row reaches the table within ~200 ms without flush()", async () => {
    const { db } = await freshDb();
    const log = new DuckDbCallLog(db.connection, "run-d");
    log.record({ callId: "x", simTs: 1, wallTs: 1, task: "t", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 0, outputTokens: 0, cachedTokens: 0, costNusd: 0, cache: "miss", answerText: "hello" });
    const other = await db.instance.connect(); // another connection sees only committed rows
    const seen = async () => ((await other.runAndReadAll("SELECT count(*)::INTEGER AS n FROM llm_calls")).getRowObjectsJS()[0] as { n: number }).n;
    expect(await seen()).toBe(0);
    // The timer flushes after ~200 ms; a loaded machine may take longer to commit, so poll (never flush()).
    const deadline = Date.now() + 3_000;
    while ((await seen()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await seen()).toBe(1);
    other.closeSync();
    await log.close();
  });

  it("survives a kill -9 a second after the call was answered", async () => {
    const { db, path } = await freshDb();
    db.close();
    dbs.splice(dbs.indexOf(db), 1);
    const script = join(mkdtempSync(join(tmpdir(), "kill-")), "writer.mts");
    writeFileSync(
      script,
      `import { openDb } from ${JSON.stringify(join(ROOT, "harness/db/duckdb.ts"))};
import { DuckDbCallLog } from ${JSON.stringify(join(ROOT, "harness/router/callLog.ts"))};
const db = await openDb(${JSON.stringify(path)});
const log = new DuckDbCallLog(db.connection, "run-k");
log.record({ callId: "answered", simTs: 1, wallTs: 1, task: "t", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 3, outputTokens: 4, cachedTokens: 0, costNusd: 99, cache: "miss", answerText: "the answer" });
setTimeout(() => process.stdout.write("recorded\\n"), 1000); // five flush intervals: time to commit on a loaded machine
setInterval(() => {}, 1000); // stays alive until killed
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => (String(chunk).includes("recorded") ? resolve() : undefined));
      child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const after = await openDb(path);
    dbs.push(after);
    const rows = (await after.connection.runAndReadAll("SELECT call_id, cost_nusd::INTEGER AS cost, answer_text FROM llm_calls WHERE run_id = 'run-k'")).getRowObjectsJS();
    expect(rows).toEqual([{ call_id: "answered", cost: 99, answer_text: "the answer" }]);
  }, 30_000);
});
