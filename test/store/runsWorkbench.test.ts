/**
 * Friction 5 of issue 13: runs could not be found or opened. Unique id
 * prefixes resolve everywhere (an ambiguous one lists the candidates),
 * `report <ids> --last N` takes the last N of those ids, `runs` lists and
 * filters, tags and removes a run with every one of its rows, `show`'s
 * funnel and abstentions come from the rows, `--market` opens a forecast
 * down to its stored prompt and raw answer, and `export` writes every table.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatTimeline } from "../../harness/cli/show.ts";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { DuckDbCallLog } from "../../harness/router/callLog.ts";
import { readTranscripts, capUtf8 } from "../../harness/store/callTranscripts.ts";
import { exportRun } from "../../harness/store/exportRun.ts";
import { countRunRows, listRuns, parseSince, removeRun, runTables, tagRun } from "../../harness/store/runCatalog.ts";
import { abstentionsByReason, decisionFunnel, marketTimeline, runMarkets } from "../../harness/store/runDetail.ts";
import { resolveRunId, resolveRunIds } from "../../harness/store/runIds.ts";
import { applySchema } from "../../harness/store/schema.ts";
import { selectRuns } from "../../reports/selectRuns.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

let dir: string;
let db: Db;
let runIds: string[];
let consensusRunId: string;

beforeAll(async () => {
  dir = tempDir("tapedeck-workbench-");
  const path = join(dir, "results.duckdb");
  const fixture = await buildResultsDb(path, { runs: 4, markets: 12 });
  runIds = fixture.runIds;
  consensusRunId = fixture.consensusRunId;
  db = await openDb(path);
  await applySchema(db.connection);
});
afterAll(() => db?.close());

describe("run ids", () => {
  it("an exact id, a unique prefix, an unknown id and an ambiguous prefix", async () => {
    const c = db.connection;
    expect(await resolveRunId(c, "run-002")).toBe("run-002");
    await c.run(`UPDATE runs SET run_id = 'llm-20251129-181950-ab12cd' WHERE run_id = 'run-005'`);
    expect(await resolveRunId(c, "llm-2025")).toBe("llm-20251129-181950-ab12cd");
    await expect(resolveRunId(c, "nope")).rejects.toThrow(/no such run in the results DB: nope/);
    await expect(resolveRunId(c, "run-00")).rejects.toThrow(/run id prefix "run-00" is ambiguous: it matches \d runs: run-\d{3}(, run-\d{3})+/);
    expect(await resolveRunIds(c, ["run-001", "run-001", "run-003"])).toEqual(["run-001", "run-003"]);
    await c.run(`UPDATE runs SET run_id = 'run-005' WHERE run_id = 'llm-20251129-181950-ab12cd'`);
  });

  it("report <ids> --last N: the last N started of the named ids (old main refused ids that exist)", async () => {
    const picked = await selectRuns(db.connection, { runIds: ["run-001", "run-003", "run-004"], last: 2 });
    expect(picked.map((r) => r.runId)).toEqual(["run-003", "run-004"]);
    await expect(selectRuns(db.connection, { runIds: ["run-001", "nope"], last: 1 })).rejects.toThrow(/no such run in the results DB: nope/);
  });
});

describe("runs list, tag, rm", () => {
  it("lists every run with counts taken from its rows, newest first, and filters", async () => {
    const all = await listRuns(db.connection);
    expect(all.map((r) => r.runId)).toEqual([...runIds].reverse());
    const expected = (await db.connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS f, count(*) FILTER (WHERE abstained)::INTEGER AS a FROM forecasts WHERE run_id = $1`,
      [consensusRunId],
    )).getRowObjectsJS()[0] as { f: number; a: number };
    const row = all.find((r) => r.runId === consensusRunId)!;
    expect(row.forecasts).toBe(expected.f);
    expect(row.abstained).toBe(expected.a);
    expect(row.scored).toBeLessThanOrEqual(row.forecasts - row.abstained);
    expect(await listRuns(db.connection, { status: "failed" })).toEqual([]);
    expect((await listRuns(db.connection, { dataset: "sample" })).length).toBe(all.length);
    expect(await listRuns(db.connection, { dataset: "other" })).toEqual([]);
    const newest = all[0]!.startedAt;
    expect((await listRuns(db.connection, { since: newest })).map((r) => r.runId)).toEqual([all[0]!.runId]);
    expect(parseSince("2d", Date.UTC(2025, 10, 9))).toBe(Date.UTC(2025, 10, 7));
    expect(parseSince("2025-11-07")).toBe(Date.UTC(2025, 10, 7));
    expect(() => parseSince("yesterday")).toThrow(/--since/);
  });

  it("P&L counts positions still open at the end at their mark, as the report's pnl_usd does", async () => {
    const c = db.connection;
    const runId = runIds[0]!;
    const pnlOf = async () => (await listRuns(c, { runId }))[0]!.pnlUsd;
    const marketPnl = async () => (await runMarkets(c, runId)).find((m) => m.ticker === "OPEN-AT-END")?.pnlUnits ?? null;
    const before = await pnlOf();
    // 3 YES bought for $1.50 (fees in), marked at $0.2655: -$1.2345 unrealized.
    await c.run(`INSERT INTO open_positions VALUES ($1, 1762500000000, 'OPEN-AT-END', 3, 0, 15000, 2655, -12345, 999999)`, [runId]);
    await c.run(`INSERT INTO forecasts (run_id, seq, ts, ticker, model, abstained) VALUES ($1, 999999, 1762400000000, 'OPEN-AT-END', 'm', false)`, [runId]);
    try {
      expect(await pnlOf()).toBeCloseTo(before - 1.2345, 9);
      expect(await marketPnl()).toBe(-12345);
    } finally {
      await c.run(`DELETE FROM open_positions WHERE run_id = $1 AND ticker = 'OPEN-AT-END'`, [runId]);
      await c.run(`DELETE FROM forecasts WHERE run_id = $1 AND ticker = 'OPEN-AT-END'`, [runId]);
    }
  });

  it("tags a run once, and filters by tag", async () => {
    expect(await tagRun(db.connection, "run-002", "baseline")).toBe(true);
    expect(await tagRun(db.connection, "run-002", "baseline")).toBe(false);
    const tagged = await listRuns(db.connection, { tag: "baseline" });
    expect(tagged.map((r) => [r.runId, r.tags])).toEqual([["run-002", ["baseline"]]]);
  });

  it("rm deletes the run's rows in every table and nothing of other runs", async () => {
    const victim = runIds[runIds.length - 1]!;
    const totalBefore = async () => {
      let n = 0;
      for (const t of await runTables(db.connection)) n += Number((await db.connection.runAndReadAll(`SELECT count(*) FROM "${t}"`)).getRows()[0]![0]);
      return n;
    };
    // The audit trail of what went live stays: a promotion of this run survives its removal.
    await db.connection.run(`INSERT INTO promotions (promotion_id, ts, config_hash, run_id, gates_json, decision) VALUES ('p-audit', 1, 'h', $1, '{}', 'promoted')`, [victim]);
    const before = await countRunRows(db.connection, victim);
    expect(before["forecasts"]).toBeGreaterThan(0);
    expect(before["promotions"]).toBeUndefined();
    expect(before["runs"]).toBe(1);
    const all = await totalBefore();
    const deleted = await removeRun(db.connection, victim);
    expect(deleted).toEqual(before);
    expect(await countRunRows(db.connection, victim)).toEqual({});
    expect(await totalBefore()).toBe(all - Object.values(before).reduce((a, b) => a + b, 0));
    const kept = await db.connection.runAndReadAll(`SELECT promotion_id FROM promotions WHERE run_id = $1`, [victim]);
    expect(kept.getRows()).toEqual([["p-audit"]]);
    runIds = runIds.slice(0, -1);
  });
});

describe("show and export", () => {
  it("abstentions by reason and the decision funnel are counted from the rows", async () => {
    const c = db.connection;
    await c.run(`UPDATE forecasts SET abstained = true, probability = NULL, abstain_reason = 'budget' WHERE run_id = 'run-002' AND seq % 4 = 0`);
    const abst = await abstentionsByReason(c, "run-002");
    const n = Number((await c.runAndReadAll(`SELECT count(*) FROM forecasts WHERE run_id = 'run-002' AND abstained`)).getRows()[0]![0]);
    const total = Number((await c.runAndReadAll(`SELECT count(*) FROM forecasts WHERE run_id = 'run-002'`)).getRows()[0]![0]);
    expect(abst.reduce((a, x) => a + x.n, 0)).toBe(n);
    expect(abst.find((a) => a.reason === "budget")!.share).toBeCloseTo(abst.find((a) => a.reason === "budget")!.n / total, 12);
    const funnel = Object.fromEntries((await decisionFunnel(c, "run-002")).map((s) => [s.step, s.n]));
    const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);
    expect(funnel["forecasts"]).toBe(total);
    expect(funnel["abstentions"]).toBe(n);
    expect(funnel["decisions"]).toBe(await count(`SELECT count(*) FROM decisions WHERE run_id = 'run-002'`));
    expect(funnel["signals"]! + funnel["no edge"]! + funnel["risk holds"]!).toBe(funnel["decisions"]);
    expect(funnel["orders"]).toBe(await count(`SELECT count(*) FROM orders WHERE run_id = 'run-002'`));
    expect(funnel["fills"]).toBe(await count(`SELECT count(*) FROM fills WHERE run_id = 'run-002'`));
  });

  it("--market opens a forecast down to the stored prompt (headlines included) and the raw answer", async () => {
    const c = db.connection;
    const [f] = (await c.runAndReadAll(`SELECT seq::INTEGER AS seq, ticker, llm_call_id FROM forecasts WHERE run_id = $1 AND llm_call_id IS NOT NULL ORDER BY seq LIMIT 1`, [consensusRunId])).getRowObjectsJS() as Array<{ seq: number; ticker: string; llm_call_id: string }>;
    const prompt = [
      { role: "system" as const, content: "You forecast binary prediction markets." },
      { role: "user" as const, content: `Ticker: ${f!.ticker}\nRecent headlines:\n- [2025-11-07T15:00:00Z] wire: Phone battery fire at an airport` },
    ];
    // Through the call log, as the router writes it: the transcript goes to llm_transcripts, compressed.
    const log = new DuckDbCallLog(c, consensusRunId);
    log.record({ callId: f!.llm_call_id, simTs: 0, wallTs: 0, task: "forecast", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 0, outputTokens: 0, cachedTokens: 0, costNusd: 0, cache: "miss", messages: prompt, servedText: '{"probability":0.31}' });
    await log.close();
    await c.run(`DELETE FROM llm_calls WHERE run_id = $1 AND provider = 'p'`, [consensusRunId]); // keep the fixture's own row for this call id
    const timeline = await marketTimeline(c, consensusRunId, f!.ticker);
    const shown = timeline.forecasts.find((x) => x.seq === f!.seq)!;
    expect(shown.call?.transcript?.prompt).toContain("Phone battery fire at an airport");
    expect(shown.call?.transcript?.answer).toBe('{"probability":0.31}');
    const text = formatTimeline(consensusRunId, timeline, true);
    expect(text).toContain("      | Recent headlines:");
    expect(text).toContain('raw answer (20 bytes):\n      | {"probability":0.31}');
    expect(text).toMatch(/decision #\d+: (hold|buy_yes|buy_no)/);
    // Stored compressed: fewer bytes than the text for a long prompt.
    const [z] = (await c.runAndReadAll(`SELECT octet_length(prompt_z)::INTEGER AS z, prompt_bytes::INTEGER AS raw FROM llm_transcripts WHERE call_id = $1`, [f!.llm_call_id])).getRowObjectsJS() as Array<{ z: number; raw: number }>;
    expect(z!.raw).toBeGreaterThan(100);
    expect((await readTranscripts(c, [f!.llm_call_id])).get(f!.llm_call_id)?.promptBytes).toBe(z!.raw);
  });

  it("a re-decided run's forecast shows the call it reused (the leader's, by its unique call id)", async () => {
    const c = db.connection;
    const [leader] = (await c.runAndReadAll(
      `SELECT f.llm_call_id, l.provider, l.model, l.status FROM forecasts f JOIN llm_calls l ON l.call_id = f.llm_call_id AND l.run_id = f.run_id WHERE f.run_id = $1 ORDER BY f.seq LIMIT 1`,
      [consensusRunId],
    )).getRowObjectsJS() as Array<{ llm_call_id: string; provider: string; model: string; status: string }>;
    const variant = runIds.find((id) => id !== consensusRunId)!;
    await c.run(`INSERT INTO forecasts (run_id, seq, ts, ticker, model, probability, abstained, llm_call_id) VALUES ($1, 888888, 1762400000000, 'REUSED-T', 'm', 0.4, false, $2)`, [variant, leader!.llm_call_id]);
    try {
      const timeline = await marketTimeline(c, variant, "REUSED-T", { transcripts: false });
      expect(timeline.forecasts[0]!.call).toMatchObject({ callId: leader!.llm_call_id, provider: leader!.provider, model: leader!.model, status: leader!.status });
    } finally {
      await c.run(`DELETE FROM forecasts WHERE run_id = $1 AND ticker = 'REUSED-T'`, [variant]);
    }
  });

  it("transcripts are capped on a character boundary and can be switched off", async () => {
    expect(capUtf8("héllo", 2)).toEqual({ text: "h", truncated: true });
    expect(capUtf8("héllo", 3)).toEqual({ text: "hé", truncated: true });
    expect(capUtf8("héllo", 6)).toEqual({ text: "héllo", truncated: false });
    const c = db.connection;
    const off = new DuckDbCallLog(c, "run-off", undefined, undefined, { enabled: false, maxBytes: 1024 });
    off.record({ callId: "off-1", simTs: 0, wallTs: 0, task: "t", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 0, outputTokens: 0, cachedTokens: 0, costNusd: 0, cache: "miss", messages: [{ role: "user", content: "x" }], answerText: "y" });
    await off.close();
    const capped = new DuckDbCallLog(c, "run-cap", undefined, undefined, { enabled: true, maxBytes: 300 });
    capped.record({ callId: "cap-1", simTs: 0, wallTs: 0, task: "t", provider: "p", model: "m", status: "ok", attempts: 1, inputTokens: 0, outputTokens: 0, cachedTokens: 0, costNusd: 0, cache: "miss", messages: [{ role: "user", content: "z".repeat(5_000) }], answerText: "y" });
    await capped.close();
    const t = await readTranscripts(c, ["off-1", "cap-1"]);
    expect(t.has("off-1")).toBe(false);
    expect(t.get("cap-1")).toMatchObject({ promptBytes: 300, truncated: true, answer: "y" });
  });

  it("export writes every table of the run as CSV and as Parquet, with the run's row counts", async () => {
    const c = db.connection;
    const counts = await countRunRows(c, "run-002");
    for (const format of ["csv", "parquet"] as const) {
      const out = await exportRun(c, "run-002", format, join(dir, `export-${format}`));
      expect(out.map((t) => t.table).sort()).toEqual((await runTables(c)).sort());
      for (const t of out) {
        expect(t.rows).toBe(counts[t.table] ?? 0);
        const read = format === "csv" ? `read_csv('${t.path}', header = true)` : `read_parquet('${t.path}')`;
        if ((counts[t.table] ?? 0) > 0) expect(Number((await c.runAndReadAll(`SELECT count(*) FROM ${read}`)).getRows()[0]![0])).toBe(counts[t.table]);
      }
    }
  });
});
