/**
 * runNode owns the source it is handed: a run that cannot even be set up
 * (its row cannot be created or resumed) still closes the source.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import type { EventSource, MarketEvent } from "../../harness/events/types.ts";
import { runNode } from "../../harness/node/runNode.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

class CountingSource implements EventSource {
  closed = 0;
  async describe() {
    return { name: "stub", hash: "h", start: 0, end: 0, events: 0, hasBidAsk: true };
  }
  async *events(): AsyncIterable<MarketEvent[]> {}
  async close(): Promise<void> {
    this.closed++;
  }
}

describe("runNode set-up failure", () => {
  it("closes the source when the run's row cannot be resumed", async () => {
    const db = await DuckDbStore.open(join(tempDir("td-node-"), "results.duckdb"));
    const source = new CountingSource();
    try {
      await expect(
        runNode({
          config: parseRunConfig({ name: "x", strategy: { kind: "market" } }),
          db,
          runId: "no-such-run",
          resume: true,
          kind: "replay",
          label: null,
          parentRunId: null,
          dataset: { name: "stub", hash: null, path: null },
          totalEvents: 0,
          clock: new SimulatedClock(0),
          source,
          execution: () => {
            throw new Error("never reached");
          },
        }),
      ).rejects.toThrow("run no-such-run is not in the results database");
      expect(source.closed).toBe(1);
    } finally {
      db.close();
    }
  });
});
