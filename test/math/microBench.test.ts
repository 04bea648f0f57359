import { describe, expect, it } from "vitest";
import { runMicroBenchmarks } from "../../harness/bench/microBench.ts";

describe("micro-benchmarks", () => {
  it("run every task and report positive, consistent figures (speed is not asserted)", async () => {
    const rows = await runMicroBenchmarks({ timeMs: 20, warmupMs: 5 });
    expect(rows.map((r) => r.name.split(":")[0])).toEqual(["fees", "fees", "kelly", "risk", "fills", "metrics", "metrics", "metrics"]);
    for (const r of rows) {
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.meanNs).toBeGreaterThan(0);
      expect(Number.isFinite(r.opsPerSec)).toBe(true);
    }
  });
});
