import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";
import { loadFitItems } from "../../harness/consensus/loadFitItems.ts";
import { queryRows } from "../../reports/query.ts";
import { buildResultsDb, type Fixture } from "../fixtures/resultsDb.ts";

let dir: string;
let dbPath: string;
let fixture: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tapedeck-consensus-"));
  dbPath = join(dir, "r.duckdb");
  fixture = await buildResultsDb(dbPath, { runs: 6, markets: 60, seed: 3 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("consensus fit from the results DB", () => {
  it("takes each member's last forecast per market and keeps markets every member forecast", async () => {
    const db = await openDb(dbPath, { readOnly: true });
    try {
      const input = await loadFitItems(db.connection, [fixture.consensusRunId]);
      expect(input.models).toEqual(["local/stories260K", "openai/gpt-4o-mini", "openrouter/deepseek-chat"]);
      const [sql] = await queryRows(
        db.connection,
        `SELECT count(*) AS n FROM (SELECT ticker FROM forecasts WHERE run_id = '${fixture.consensusRunId}' AND model <> 'consensus' AND NOT abstained
           GROUP BY ticker HAVING count(DISTINCT model) = 3)`,
      );
      expect(input.items.length).toBe(sql!["n"]);
      expect(input.items.length + input.dropped).toBe(60);
      const item = input.items.find((i) => i.key === "KX-0010")!;
      const [last] = await queryRows(
        db.connection,
        `SELECT probability FROM forecasts WHERE run_id = '${fixture.consensusRunId}' AND ticker = 'KX-0010' AND model = 'openai/gpt-4o-mini' AND NOT abstained ORDER BY ts DESC LIMIT 1`,
      );
      expect(item.probabilities[1]).toBe(last!["probability"]);
    } finally {
      db.close();
    }
  });

  it("same model in several runs becomes run:model members", async () => {
    const db = await openDb(dbPath, { readOnly: true });
    try {
      // run-002 and the consensus run both hold deepseek.
      const input = await loadFitItems(db.connection, ["run-002", fixture.consensusRunId]);
      expect(input.models).toContain(`run-002:openrouter/deepseek-chat`);
      expect(input.models).toContain(`${fixture.consensusRunId}:openrouter/deepseek-chat`);
    } finally {
      db.close();
    }
  });

  it("`tapedeck consensus --fit` prints in- and out-of-sample scores and writes a config with weights summing to 1", () => {
    const out = join(dir, "fit.json");
    const stdout = execFileSync(
      process.execPath,
      ["--import", "tsx", "harness/cli/main.ts", "consensus", "--fit", "--runs", "run-002", "run-003", "run-004", "--db", dbPath, "-o", out],
      { encoding: "utf8" },
    );
    expect(stdout).toMatch(/in-sample/);
    expect(stdout).toMatch(/out-of-sample/);
    const config = JSON.parse(readFileSync(out, "utf8")) as { strategy: { kind: string; pool: string; extremize: number; members: Array<{ task: string; weight: number }> } };
    expect(config.strategy.kind).toBe("consensus");
    // These runs were not consensus members, so each model is named as its own router task.
    expect(config.strategy.members.map((m) => m.task)).toEqual(["openrouter/deepseek-chat", "openai/gpt-4o-mini", "local/stories260K"]);
    expect(config.strategy.members.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 5);
    const fit = JSON.parse(readFileSync(join(dir, "fit.fit.json"), "utf8")) as { folds: Array<{ trainMaxTime: number; testMinTime: number }>; outOfSample: { n: number } };
    expect(fit.folds.length).toBeGreaterThan(0);
    for (const f of fit.folds) expect(f.trainMaxTime).toBeLessThan(f.testMinTime);
  });
});
