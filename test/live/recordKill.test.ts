/**
 * kill -9 during `tapedeck record`: every row the recorder acknowledged
 * (written and fsync'd) is in the dataset after `record --finalize`, the
 * folder is a valid dataset at the moment of the kill and after, and a
 * second session on the same folder marks the time in between as a gap.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb, sqlString } from "../../harness/db/duckdb.ts";
import { runScriptedSession, setUpScriptedMarkets } from "../../harness/live/fakeKalshi/scriptedSession.ts";
import { Recorder, type RecorderAck } from "../../harness/live/recorder.ts";
import { readManifest } from "../../datasets/manifest.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { startFakeVenue, type FakeVenue } from "./fakeMarket.ts";

const CLI = resolve(import.meta.dirname, "../../bin/tapedeck.js");
let venue: FakeVenue | null = null;
afterAll(async () => venue?.close());

async function tableIds(dir: string, table: "trades", column: string): Promise<string[]> {
  const manifest = await readManifest(dir);
  const entry = manifest.tables[table];
  if (!entry) return [];
  const db = await openDb();
  try {
    const r = await db.connection.runAndReadAll(`SELECT ${column} AS v FROM read_parquet(${sqlString(join(dir, entry.file))}) ORDER BY 1`);
    return r.getRowObjectsJS().map((x) => String(x["v"]));
  } finally {
    db.close();
  }
}

describe("record under kill -9", () => {
  it("loses nothing acknowledged; the folder validates; a second session marks the downtime as a gap", async () => {
    venue = await startFakeVenue();
    const v = venue;
    const markets = setUpScriptedMarkets(v.exchange, { series: "KXKILL", markets: 2 });
    const session = runScriptedSession(v.exchange, markets, { steps: 10_000, stepMs: 15, settle: false });
    const out = join(mkdtempSync(join(tmpdir(), "td-rec-")), "rec");
    const env = { ...process.env, KALSHI_API_KEY_ID: v.keyId, KALSHI_PRIVATE_KEY: v.privateKeyPem };
    const args = ["record", "--series", "KXKILL", "-o", out, "--json", "--rest-url", v.started.restBase, "--ws-url", v.started.wsUrl, "--segment-seconds", "0.4"];
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let last: RecorderAck | null = null;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolveKill, reject) => {
      let buf = "";
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const ack = (JSON.parse(line) as { ack?: RecorderAck }).ack;
          if (!ack) continue;
          last = ack;
          // Past at least one rebuild, with trades flowing: kill it mid-stream.
          if (ack.built >= 1 && (ack.byTable["trades"] ?? 0) >= 5) {
            child.kill("SIGKILL");
            resolveKill();
          }
        }
      });
      child.on("exit", (code, signal) => {
        if (signal !== "SIGKILL") reject(new Error(`record exited on its own (${code}): ${stderr}`));
      });
    });
    await new Promise((r) => child.once("close", r));
    session.stop();
    const acked = last as RecorderAck | null;
    expect(acked).not.toBeNull();

    // At the instant of the kill the folder is a complete dataset (an earlier generation).
    expect((await validateDataset(out)).problems).toEqual([]);

    // Rebuilt from the journal: every acknowledged row is there.
    await Recorder.finalize(out);
    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);
    const manifest = report.manifest!;
    expect(manifest.tables.trades!.rows).toBeGreaterThanOrEqual(acked!.byTable["trades"]!);
    expect(manifest.tables.orderbook!.rows).toBeGreaterThanOrEqual(acked!.byTable["orderbook"]!);
    expect(manifest.tables.quotes!.rows).toBeGreaterThanOrEqual(acked!.byTable["quotes"]!);
    const trades = await tableIds(out, "trades", "trade_id");
    expect(trades).toContain(acked!.lastTradeId);
    // Every trade the exchange printed from the first recorded to the last acknowledged was recorded (ids count up).
    const firstN = Number(trades[0]!.slice(3));
    const lastN = Number(acked!.lastTradeId!.slice(3));
    for (let n = firstN; n <= lastN; n++) expect(trades).toContain(`FT-${String(n).padStart(6, "0")}`);
    expect(manifest.recording!.coverage).toBe(1);

    // A second session on the folder continues it; the downtime is a gap for every market.
    const second = Recorder.open(out, { series: ["KXKILL"], tickers: [], feeds: [] }, { flushMs: 10_000, segmentMs: 60_000 });
    await second.close();
    const after = await readManifest(out);
    const downtime = after.recording!.gaps.find((g) => g.reason === "recorder not running");
    expect(downtime).toMatchObject({ ticker: null });
    expect(after.recording!.coverage).toBeLessThan(1);
    expect(after.recording!.coverage).toBeGreaterThan(0);
    expect(after.tables.trades!.rows).toBeGreaterThanOrEqual(trades.length);
    expect((await validateDataset(out)).problems).toEqual([]);

    // The recording was made with a signed connection; no key material reached any file of it.
    const pemBody = v.privateKeyPem.split("\n").filter((l) => l && !l.startsWith("-----"));
    for (const file of readdirSync(out, { recursive: true, encoding: "utf8" })) {
      const path = join(out, file);
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path).toString("latin1");
      expect(text.includes(v.keyId), file).toBe(false);
      expect(pemBody.some((l) => text.includes(l)), file).toBe(false);
    }
  }, 30_000);
});
