/** Friction 1 in the report: abstentions by run, model and reason, next to the leaderboard. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport } from "../../reports/buildReport.ts";
import { openDb } from "../../harness/db/duckdb.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

describe("report: abstentions by reason", () => {
  it("lists each run and model's abstained forecasts with their reasons and rate", async () => {
    const dir = tempDir("tapedeck-abst-");
    const path = join(dir, "results.duckdb");
    await buildResultsDb(path, { runs: 3, markets: 10, ablation: false });
    const db = await openDb(path);
    await db.connection.run(`UPDATE forecasts SET abstained = true, probability = NULL, abstain_reason = CASE WHEN seq % 2 = 0 THEN 'budget' ELSE 'network' END WHERE run_id = 'run-002'`);
    const total = Number((await db.connection.runAndReadAll(`SELECT count(*) FROM forecasts WHERE run_id = 'run-002'`)).getRows()[0]![0]);
    const budget = Number((await db.connection.runAndReadAll(`SELECT count(*) FROM forecasts WHERE run_id = 'run-002' AND abstain_reason = 'budget'`)).getRows()[0]![0]);
    db.close();
    const built = await buildReport({ dbPath: path, outDir: join(dir, "out") });
    const html = readFileSync(built.htmlPath, "utf8");
    const row = new RegExp(`<tr data-abstain-run="run-002"[^>]*><td>run-002</td><td>[^<]+</td><td class="num">${total}</td><td class="num">${total}</td><td class="num">100\\.0%</td><td>([^<]+)</td></tr>`).exec(html);
    expect(row).not.toBeNull();
    expect(row![1]).toContain(`budget ${budget}`);
    expect(row![1]).toContain(`network ${total - budget}`);
    expect(html).toMatch(/<tr data-abstain-run="run-001"[^>]*><td>run-001<\/td><td>market<\/td><td class="num">\d+<\/td><td class="num">0<\/td><td class="num">0\.0%<\/td><td>–<\/td><\/tr>/);
  });
});
