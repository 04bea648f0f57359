/**
 * `npm start`'s local model row says something (issue 13, item 9): under the
 * forecast grammar the bundled 260K-parameter story model's answers are
 * probabilities in [0, 1], so a replay scores them, sizes them and may trade
 * them, instead of a row of dashes (every answer malformed).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { loadRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const SAMPLE = join(ROOT, "datasets/sample");

describe("the demo's local model row", () => {
  it("is scored: no forecast of the bundled model is malformed, and its Brier and skill are figures", async () => {
    const config = loadRunConfig(join(ROOT, "strategies/configs/local-llm.json"));
    expect(config.name).toMatch(/noise/);
    const source = await ReplaySource.open(SAMPLE);
    const tickers = (await source.markets()).map((m) => m.ticker).slice(0, 4);
    await source.close();
    const db = await DuckDbStore.open(join(tempDir(), "r.duckdb"));
    try {
      const out = await runReplay({ config, datasetDir: SAMPLE, db, source: { tickers } });
      const rows = (
        await db.connection.runAndReadAll(
          `SELECT count(*)::DOUBLE AS n, count(*) FILTER (WHERE abstain_reason = 'malformed_output')::DOUBLE AS malformed,
             count(*) FILTER (WHERE NOT abstained AND probability BETWEEN 0 AND 1)::DOUBLE AS scored FROM forecasts WHERE run_id = $1`,
          [out.runId],
        )
      ).getRowObjectsJS()[0] as { n: number; malformed: number; scored: number };
      expect(rows.n).toBeGreaterThan(5);
      expect(rows.malformed).toBe(0);
      expect(rows.scored).toBeGreaterThan(0.8 * rows.n);
      const metric = (name: string) => out.metrics.find((m) => m.model === "local/stories260K" && m.metric === name)?.value ?? null;
      expect(metric("brier")).not.toBeNull();
      expect(metric("brier_skill")).not.toBeNull();
      // Sized like any model: every scored forecast reached a decision.
      const [decisions] = (await db.connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM decisions WHERE run_id = $1`, [out.runId])).getRowObjectsJS() as Array<{ n: number }>;
      expect(decisions!.n).toBe(rows.scored);
    } finally {
      db.close();
    }
  });
});
