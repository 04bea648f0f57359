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
  it("makes one item per decision the pool made (the stored consensus times), with each member's forecast as of then", async () => {
    const db = await openDb(dbPath, { readOnly: true });
    try {
      const input = await loadFitItems(db.connection, [fixture.consensusRunId]);
      expect(input.models).toEqual(["local/stories260K", "openai/gpt-4o-mini", "openrouter/deepseek-chat"]);
      expect(input.decisionTimes).toBe("consensus");
      const run = fixture.consensusRunId;
      // Independently: consensus (market, time) pairs on settled markets; kept when all 3 members had forecast at or before that time.
      const [sql] = await queryRows(
        db.connection,
        `WITH d AS (SELECT DISTINCT f.ticker, f.ts FROM forecasts f JOIN outcomes o ON o.run_id = f.run_id AND o.ticker = f.ticker
                      WHERE f.run_id = '${run}' AND f.model = 'consensus' AND o.result IN ('yes', 'no'))
         SELECT count(*) AS total,
                count(*) FILTER (WHERE (SELECT count(DISTINCT m.model) FROM forecasts m WHERE m.run_id = '${run}' AND m.model <> 'consensus'
                                          AND NOT m.abstained AND m.ticker = d.ticker AND m.ts <= d.ts) = 3) AS kept
           FROM d`,
      );
      expect(input.items.length).toBe(Number(sql!["kept"]));
      expect(input.items.length + input.dropped).toBe(Number(sql!["total"]));
      // Items are decisions in time order, each stamped with its decision time and its market's settle time.
      for (let i = 1; i < input.items.length; i++) expect(input.items[i]!.time).toBeGreaterThanOrEqual(input.items[i - 1]!.time);
      const item = input.items.filter((i) => i.key.startsWith("KX-0010@")).at(-1)!;
      const [asOf] = await queryRows(
        db.connection,
        `SELECT probability FROM forecasts WHERE run_id = '${run}' AND ticker = 'KX-0010' AND model = 'openai/gpt-4o-mini' AND NOT abstained AND ts <= ${item.time} ORDER BY ts DESC LIMIT 1`,
      );
      expect(item.probabilities[1]).toBe(asOf!["probability"]);
      const [settle] = await queryRows(db.connection, `SELECT settle_ts FROM outcomes WHERE run_id = '${run}' AND ticker = 'KX-0010'`);
      expect(item.known).toBe(Number(settle!["settle_ts"]));
      expect(item.time).toBeLessThan(item.known!);
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
