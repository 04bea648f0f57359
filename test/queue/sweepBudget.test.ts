/** The sweep-wide cap: two workers' guards add to one Redis counter; each stops once the sum reached the cap, its own spend at once, the other's on refresh. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SweepBudget } from "../../harness/queue/sweepBudget.ts";
import { redisForTests, type RedisHandle } from "../cache/helpers.ts";
import { onDatabase } from "./processes.ts";

describe("sweep-wide budget on Redis", () => {
  let redis: RedisHandle;
  let url: string;
  beforeAll(async () => {
    redis = await redisForTests();
    url = onDatabase(redis.url, 6);
  });
  afterAll(async () => redis?.stop());

  it("stops every worker's runs once their spend together reached the cap", async () => {
    const sweepId = `sw-budget-${Date.now()}`;
    const cap = 1_000_000; // $0.001
    const [a, b] = await Promise.all([SweepBudget.open(url, sweepId, cap), SweepBudget.open(url, sweepId, cap)]);
    try {
      a.spent(400_000);
      b.spent(400_000);
      expect(a.stopReason()).toBeNull();
      a.spent(300_000); // a alone has seen 700,000, or more once its writes are acknowledged
      await a.refresh();
      await b.refresh();
      expect(a.stopReason()).toMatch(/reached its sweep-wide cap of \$0\.0010 \(spent \$0\.0011/);
      expect(b.stopReason()).not.toBeNull();
      // A worker that joins later (a resumed job) starts from the counter.
      const c = await SweepBudget.open(url, sweepId, cap);
      expect(c.stopReason()).not.toBeNull();
      await c.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
