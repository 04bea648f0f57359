/**
 * `sweep --queue --cache <mode>` reaches the workers and is applied to the
 * shared cache as the in-process sweep applies it: the config's own cache
 * takes the mode (refresh never serves, read-only never stores), off leaves
 * it out for the sweep memo, and the memo is always used as "on". A sweep
 * id names its cache mode unless "on", so `--cache refresh` is a new sweep.
 */
import { describe, expect, it } from "vitest";
import { replayJobData, sweepIdFor } from "../../harness/queue/sweepJobs.ts";
import { workerCache } from "../../harness/queue/workerCache.ts";
import { parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";

const URL_ = "redis://127.0.0.1:6399/3";
const withCache = parseRunConfig({ name: "c", strategy: { kind: "momentum" }, cache: { enabled: true, backend: "duckdb", path: "/tmp/x.duckdb" } });
const withoutCache = parseRunConfig({ name: "n", strategy: { kind: "momentum" } });

describe("the cache of a queued sweep's worker", () => {
  it("applies --cache to the config's own cache, on the queue's Redis", () => {
    for (const mode of ["on", "refresh", "read-only"] as const) {
      const c = workerCache(withCache, "sw-1", URL_, {}, mode);
      expect(c.mode).toBe(mode);
      expect(c.cache.backend).toBe("redis");
      expect(c.cache.prefix).toBe("tapedeck:sweep:sw-1:cache:");
    }
  });

  it("uses the sweep memo as on when the mode is off or the config has no cache", () => {
    for (const [config, mode] of [[withCache, "off"], [withoutCache, "refresh"], [withoutCache, "read-only"], [withoutCache, "off"]] as const) {
      const c = workerCache(config, "sw-1", URL_, {}, mode);
      expect(c.mode).toBe("on");
      expect(c.cache.prefix).toBe("tapedeck:sweep:sw-1:memo:");
    }
  });

  it("travels in the job data (on when absent: jobs enqueued before the field)", () => {
    const job = { kind: "replay", sweepId: "sw-1", index: 0, label: "", role: "leader", config: {}, datasetDir: "/d", checkpointEvery: 10, exportForecasts: false };
    expect(replayJobData.parse(job).cacheMode).toBe("on");
    expect(replayJobData.parse({ ...job, cacheMode: "refresh" }).cacheMode).toBe("refresh");
    expect(replayJobData.safeParse({ ...job, cacheMode: "sometimes" }).success).toBe(false);
  });

  it("names a new sweep for a mode other than on, and keeps the ids of on sweeps", () => {
    const plan = planSweep({ name: "ids", strategy: { kind: "momentum" } }, [parseVary("risk.kellyFraction=0.1,0.25")]);
    expect(sweepIdFor(plan, "h1", "on")).toBe(sweepIdFor(plan, "h1"));
    const ids = new Set((["on", "off", "refresh", "read-only"] as const).map((m) => sweepIdFor(plan, "h1", m)));
    expect(ids.size).toBe(4);
  });
});
