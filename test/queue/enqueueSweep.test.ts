/**
 * What `sweep --queue` puts on a real Redis: per forecasting group a flow of
 * a leader (runnable now) under a fan-out job (waiting for it), no
 * decision-only variant yet (they cannot start before the leader's forecasts
 * exist), a plain job for a group of one; a resubmission adds nothing, but
 * puts back a job that had failed; a sweep id already naming another plan is
 * refused.
 */
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueSweep } from "../../harness/queue/enqueueSweep.ts";
import { connectionFor, openRedis, SWEEP_QUEUE } from "../../harness/queue/redisConnection.ts";
import { fanoutJobId, replayJobId } from "../../harness/queue/sweepJobs.ts";
import { loadManifest } from "../../harness/queue/sweepManifest.ts";
import { parseVary, planSweep } from "../../harness/replay/sweepPlan.ts";
import { redisForTests, type RedisHandle } from "../cache/helpers.ts";
import { onDatabase } from "./processes.ts";

describe("enqueueing a sweep", () => {
  let redis: RedisHandle;
  let url: string;
  beforeAll(async () => {
    redis = await redisForTests();
    url = onDatabase(redis.url, 5);
  });
  afterAll(async () => redis?.stop());

  it("adds leaders under fan-out jobs, holds variants back, and is idempotent", async () => {
    const base = { name: "enq", strategy: { kind: "momentum" } };
    // Two forecasting groups (the momentum lookback), two decision variants each; plus a group of one.
    const variants = planSweep(base, [parseVary("strategy.lookback=5,8"), parseVary("risk.kellyFraction=0.1,0.25")]);
    const single = planSweep(base, [parseVary("strategy.lookback=12")]);
    const all = [...variants, { ...single[0]!, index: variants.length }];
    const sweepId = `sw-enq-${Date.now()}`;
    const connection = await openRedis(url);
    const queue = new Queue(SWEEP_QUEUE, { connection: connectionFor(url) });
    try {
      const options = { url, redis: connection, sweepId, variants: all, datasetDir: "/data/x", eventsPerRun: 100, checkpointEvery: 1000 };
      const first = await enqueueSweep(options);
      expect(first.added).toBe(3);
      const leaders = [all[0]!, all[2]!];
      for (const leader of leaders) {
        expect(await queue.getJobState(replayJobId(sweepId, leader.config))).toBe("waiting");
        const fanout = await queue.getJob(fanoutJobId(sweepId, leader.config));
        expect(await fanout!.getState()).toBe("waiting-children");
      }
      for (const variant of [all[1]!, all[3]!]) expect(await queue.getJob(replayJobId(sweepId, variant.config))).toBeUndefined();
      expect(await queue.getJobState(replayJobId(sweepId, all[4]!.config))).toBe("waiting");

      const manifest = await loadManifest(connection, sweepId);
      expect(manifest.runs.map((r) => r.role)).toEqual(["leader", "variant", "leader", "variant", "leader"]);
      expect(manifest.runs[1]!.leaderJobId).toBe(replayJobId(sweepId, all[0]!.config));

      expect((await enqueueSweep(options)).added).toBe(0);
      expect(await queue.getJobState(replayJobId(sweepId, all[0]!.config))).toBe("waiting");
      await expect(enqueueSweep({ ...options, variants: variants.slice(0, 2) })).rejects.toThrow(/already names another sweep/);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    }
  });

  it("a resubmission puts a failed job back (its cause fixed), and its fan-out then runs", async () => {
    const variants = planSweep({ name: "enq-retry", strategy: { kind: "momentum" } }, [parseVary("risk.kellyFraction=0.1,0.25")]);
    const sweepId = `sw-retry-${Date.now()}`;
    const leaderId = replayJobId(sweepId, variants[0]!.config);
    const fanoutId = fanoutJobId(sweepId, variants[0]!.config);
    const connection = await openRedis(url);
    const queue = new Queue(SWEEP_QUEUE, { connection: connectionFor(url) });
    const options = { url, redis: connection, sweepId, variants, datasetDir: "/data/x", eventsPerRun: 100, checkpointEvery: 1000 };
    let outage = true;
    const ran: string[] = [];
    let worker: Worker | undefined;
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      expect((await enqueueSweep(options)).retried).toBe(0);
      // A stand-in worker (started once the sweep is enqueued): the leader fails for good while the "outage" lasts; the fan-out just records that it ran.
      worker = new Worker(
        SWEEP_QUEUE,
        async (job) => {
          ran.push(job.id!);
          if (job.id === leaderId && outage) throw new UnrecoverableError("provider outage");
          return { ok: true };
        },
        { connection: connectionFor(url) },
      );
      await until(async () => (await queue.getJobState(leaderId)) === "failed");
      expect(await queue.getJobState(leaderId)).toBe("failed");
      expect(await queue.getJobState(fanoutId)).toBe("waiting-children");

      outage = false;
      const again = await enqueueSweep(options);
      expect(again).toMatchObject({ added: 0, retried: 1 });
      await until(async () => (await queue.getJobState(fanoutId)) === "completed");
      expect(await queue.getJobState(leaderId)).toBe("completed");
      expect(await queue.getJobState(fanoutId)).toBe("completed");
      expect(ran).toEqual([leaderId, leaderId, fanoutId]);
      expect((await enqueueSweep(options)).retried).toBe(0);
    } finally {
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    }
  });
});
