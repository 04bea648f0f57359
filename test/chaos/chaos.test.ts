/**
 * The chaos suite's CI variant (issue 14): a seeded storm of model calls at
 * concurrency 64 against a server injecting every fault class, and a kill -9
 * of an LLM replay child resumed to the end. The long variant is
 * `tapedeck bench chaos --json --calls 10000 --kills 20 --seed 7`.
 */
import { describe, expect, it } from "vitest";
import { benchChaos } from "../../harness/bench/chaosBench.ts";

describe("chaos (CI variant)", () => {
  it("800 calls under injected faults and one kill -9 with resume: every invariant holds", async () => {
    const r = await benchChaos({ calls: 800, kills: 1, seed: 20251108 });
    expect(r.violations).toEqual([]);
    expect(r.invariants).toEqual({ noCrash: true, everyCallClassifiedAndLoggedOnce: true, spendWithinLimit: true, resumedDigestEqualsUninterrupted: true, noKeyInAnyOutput: true });
    // Every fault class was met, and survived.
    for (const cls of ["rate_limited_retry_after", "rate_limited_bare", "server_5xx", "reset", "hang", "malformed_body", "hostile_answer", "odd_usage", "key_echo"]) {
      expect(r.faultsInjected[cls] ?? 0, cls).toBeGreaterThan(0);
    }
    const injected = Object.entries(r.faultsInjected).filter(([k]) => k !== "ok").reduce((n, [, v]) => n + v, 0);
    expect(r.faultsSurvived).toBe(injected);
    expect(r.kills).toBe(1);
    expect(r.killsSurvived).toBe(1);
    expect(r.badAnswersTried).toBeGreaterThan(30);
    expect(r.usageAnomalies["bad_tokens"] ?? 0).toBeGreaterThan(0);
    // The daily limit binds (odd usage is charged its worst case), and is never passed.
    expect(r.outcomes["budget"] ?? 0).toBeGreaterThan(0);
    expect(r.spentNusd).toBeLessThanOrEqual(4 * r.dailyLimitNusd);
    expect(r.bytesGrepped).toBeGreaterThan(1_000_000);
  }, 90_000);
});
