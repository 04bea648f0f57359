/**
 * Secrets stay in memory: after a live session on the fake exchange (orders,
 * fills, an unknown outcome, reconciliation in report and fix mode, a kill
 * switch, a promotion check, failures of every kind) neither the results DB
 * file, nor any log line, nor any error the client threw (as a string, JSON
 * or inspected) contains the key id, a line of the private key, or a
 * Kalshi signature header; nor does the report rendered from that DB.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { KalshiClient } from "../../harness/live/kalshi/client.ts";
import { KalshiCredentials } from "../../harness/live/kalshi/credentials.ts";
import { authorizeLive } from "../../harness/live/promotionGates.ts";
import { reconcile, ReconciliationLog } from "../../harness/live/reconcile.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { buildReport } from "../../reports/buildReport.ts";

/** Every file under a folder, as text (latin1 keeps every byte). */
function folderText(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? folderText(path) : readFileSync(path).toString("latin1")))
    .join("");
}
import { testKeyPair, TEST_KEY_ID } from "./fakeKalshiHelpers.ts";
import { buy, liveStack, OTHER, TICKER } from "./liveStack.ts";

describe("no secret leaves memory", () => {
  it("results DB, logs and errors hold no key id, private key material or signature", async () => {
    const dbPath = join(tempDir(), "results.duckdb");
    const logs: string[] = [];
    const s = await liveStack({ dbPath, timeoutMs: 250, broker: { log: (l) => logs.push(l) } });
    const errors: unknown[] = [];
    try {
      s.fake.exchange.seedLiquidity(TICKER, "ask", 0.4, 50);
      await s.submit(0, buy(TICKER, "yes", 4500, 3));
      s.fake.exchange.hangNextSubmit();
      await s.submit(1, buy(TICKER, "yes", 4500, 1));
      s.fake.exchange.setPosition(TEST_KEY_ID, OTHER, 2, 1);
      const log = new ReconciliationLog(s.db.connection, s.runId);
      await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "report", log });
      await reconcile({ client: s.client, broker: s.broker, local: s.engine.portfolio, drain: s.drain, mode: "fix", log });
      await s.broker.killAll("test kill");
      await authorizeLive(s.db.connection, { configHash: "cfg", environment: "demo", hasCredentials: true, confirmedRealMoney: false });
      // Failures of every class, kept to be printed.
      s.fake.exchange.failNext(500, { times: 10, method: "GET" });
      errors.push(await s.client.balanceUnits().catch((e: unknown) => e));
      s.fake.exchange.failNext(429, { times: 10 });
      errors.push(await s.client.positions().catch((e: unknown) => e));
      while (s.fake.exchange.takeFault("GET", "/", true)) {
        /* drain */
      }
      const stranger = new KalshiCredentials(TEST_KEY_ID, testKeyPair(true).privateKeyPem);
      errors.push(await KalshiClient.connect({ credentials: stranger, restBase: s.fake.started.restBase }).catch((e: unknown) => e));
      await s.store.checkpoint(100, Date.now());
    } finally {
      await s.close();
    }
    const pem = testKeyPair().privateKeyPem;
    const pemLines = pem.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
    const needles = [TEST_KEY_ID, ...pemLines, "KALSHI-ACCESS-SIGNATURE", "kalshi-access-signature", "PRIVATE KEY"];
    // The report rendered from that DB (HTML, markdown, charts) carries none of it either.
    const reportDir = join(tempDir(), "report");
    await buildReport({ dbPath, outDir: reportDir });
    const reportText = folderText(reportDir);
    expect(reportText.length).toBeGreaterThan(10_000);
    const dbText = [dbPath, `${dbPath}.wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString("latin1")).join("");
    const printed = [...logs, ...errors.flatMap((e) => [String(e), JSON.stringify(e), inspect(e, { depth: 10 })])].join("\n");
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    expect(logs.length).toBeGreaterThan(0);
    for (const n of needles) {
      expect(dbText.includes(n), `results DB contains ${n.slice(0, 12)}…`).toBe(false);
      expect(printed.includes(n), `a log line or error contains ${n.slice(0, 12)}…`).toBe(false);
      expect(reportText.includes(n), `the report contains ${n.slice(0, 12)}…`).toBe(false);
    }
    // The rows that should be there are: this is not a test of an empty file.
    expect(dbText).toContain("position_missing_locally");
  });
});
