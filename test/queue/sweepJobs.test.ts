/** Job ids and sweep ids are derived, so a resubmitted sweep names the same jobs; BullMQ refuses ':' in custom ids. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectionFor } from "../../harness/queue/redisConnection.ts";
import { fanoutIdOfLeaderJob, fanoutJobId, replayJobId, SWEEP_ID, sweepIdFor } from "../../harness/queue/sweepJobs.ts";
import { parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";

const base = { name: "ids", strategy: { kind: "momentum" } };

describe("sweep job ids", () => {
  it("are the same for the same plan and dataset, and differ when either changes", () => {
    const plan = () => planSweep(base, [parseVary("risk.kellyFraction=0.1,0.25"), parseVary("risk.minEdge=0.01,0.03")]);
    expect(sweepIdFor(plan(), "h1")).toBe(sweepIdFor(plan(), "h1"));
    expect(sweepIdFor(plan(), "h1")).not.toBe(sweepIdFor(plan(), "h2"));
    expect(sweepIdFor(plan().slice(1), "h1")).not.toBe(sweepIdFor(plan(), "h1"));
    const ids = plan().map((v) => replayJobId("sw-a", v.config));
    expect(new Set(ids).size).toBe(4);
  });

  it("never contain ':' and map a leader to its fan-out job", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.double({ min: 0.01, max: 1, noNaN: true }), (sweepId, kelly) => {
        const [variant] = planSweep(base, [parseVary(`risk.kellyFraction=${kelly}`)]);
        const id = replayJobId(sweepId, variant!.config);
        expect(SWEEP_ID.test(sweepId)).toBe(true);
        expect(id.includes(":")).toBe(false);
        expect(fanoutIdOfLeaderJob(sweepId, id)).toBe(fanoutJobId(sweepId, variant!.config));
      }),
    );
  });

  it("reads a queue URL, and names what is wrong with a bad one", () => {
    expect(connectionFor("redis://:s3cret@10.0.0.5:6380/2")).toMatchObject({ host: "10.0.0.5", port: 6380, password: "s3cret", db: 2, maxRetriesPerRequest: null });
    expect(() => connectionFor("http://10.0.0.5")).toThrow(/expected a redis:\/\//);
    expect(() => connectionFor("redis://:s3cret@h:1/x")).toThrow(/database number/);
    expect(() => connectionFor("redis://:s3cret@h:1/x")).not.toThrow(/s3cret/);
  });
});
