/**
 * Issue 14, findings 7 and 8: the breaker and the budget are asked when a
 * call leaves its endpoint's queue, not when it enters it. A burst against
 * a dead endpoint stops reaching it once the breaker opens; successes of
 * calls admitted before it opened do not close it; half-open admits exactly
 * one probe; reservations are held only by calls on the wire.
 */
import { afterEach, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { goodAnswer, makeRouter, openaiEndpoint } from "./fixture.ts";

let server: OpenAiLoopback | undefined;
afterEach(() => server?.close());

const ask = (i: number, content = `q${i}`) => ({ task: "forecast", messages: [{ role: "user" as const, content }] });

/** The breaker's last state, from the router's own log lines ("circuit open", "circuit closed", "circuit half_open"). */
const lastState = (logs: string[]) => logs.filter((l) => l.includes(" circuit ")).at(-1)?.split(" ")[2];

describe("finding 7: the breaker guards the wire", () => {
  it("a burst of 300 calls against a dead endpoint reaches it at most failures + concurrency times", async () => {
    server = await startOpenAiServer(() => ({ kind: "status", status: 500, delayMs: 2 }));
    const { router, log } = makeRouter({
      endpoints: { dead: openaiEndpoint(server.baseURL, { concurrency: 8 }) },
      routes: { forecast: { chain: [{ endpoint: "dead", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 1, output: 1 } } },
      breaker: { failures: 5, openMs: 60_000 },
      retry: { maxRetries: 0 },
    });
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => router.complete(ask(i))));
    expect(server.requests.length).toBeLessThanOrEqual(5 + 8);
    expect(outcomes.filter((o) => !o.ok && o.errorClass === "circuit_open").length).toBe(300 - server.requests.length);
    // Every call classified and logged once.
    expect(log.calls).toHaveLength(300);
    expect(new Set(log.calls.map((c) => c.errorClass))).toEqual(new Set(["server", "circuit_open"]));
  });

  it("successes of calls admitted before it opened do not close it; half-open admits exactly one probe", async () => {
    // Prompts starting "slow" answer after 150 ms; the others fail at once.
    let release: () => void = () => {};
    const probeHeld = new Promise<void>((resolve) => (release = resolve));
    server = await startOpenAiServer(({ body }) => {
      const content = (body["messages"] as Array<{ content: string }>)[0]?.content ?? "";
      if (content.startsWith("slow")) return { kind: "reply", content: goodAnswer, delayMs: 150 };
      if (content.startsWith("probe")) return { kind: "reply", content: goodAnswer, delayMs: 100 };
      return { kind: "status", status: 503 };
    });
    void probeHeld;
    const { router, health, logs } = makeRouter({
      endpoints: { p: openaiEndpoint(server.baseURL, { concurrency: 16 }) },
      routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 1, output: 1 } } },
      breaker: { failures: 5, openMs: 60_000 },
      retry: { maxRetries: 0 },
    });
    const slow = Array.from({ length: 3 }, (_, i) => router.complete(ask(i, `slow ${i}`)));
    const failing = await Promise.all(Array.from({ length: 5 }, (_, i) => router.complete(ask(i, `fail ${i}`))));
    expect(failing.every((o) => !o.ok && o.errorClass === "server")).toBe(true);
    expect(lastState(logs)).toBe("open");
    const late = await Promise.all(slow);
    expect(late.every((o) => o.ok)).toBe(true); // answered after the breaker opened…
    expect(lastState(logs)).toBe("open"); // …and it stays open
    const blocked = await router.complete(ask(99, "fail again"));
    expect(!blocked.ok && blocked.errorClass).toBe("circuit_open");

    health.advance(60_000);
    const before = server.requests.length;
    const probes = await Promise.all(Array.from({ length: 6 }, (_, i) => router.complete(ask(i, `probe ${i}`))));
    expect(server.requests.length - before).toBe(1);
    expect(probes.filter((o) => o.ok)).toHaveLength(1);
    expect(probes.filter((o) => !o.ok && o.errorClass === "circuit_open")).toHaveLength(5);
    expect(lastState(logs)).toBe("closed");
    release();
  });
});

describe("finding 8: reservations are held only by calls on the wire", () => {
  it("a burst of 64 at concurrency 4: open reservations never exceed 4, and the refusals are those of a serial run", async () => {
    let openSeen = 0;
    let routerRef: { budget: { openReservations: number } } | undefined;
    const step = () => {
      openSeen = Math.max(openSeen, routerRef?.budget.openReservations ?? 0);
      return { kind: "reply" as const, content: goodAnswer, promptTokens: 30, completionTokens: 40, delayMs: 3 };
    };
    const run = async (concurrent: boolean) => {
      server = await startOpenAiServer(step);
      const { router } = makeRouter({
        endpoints: { p: openaiEndpoint(server.baseURL, { concurrency: 4 }) },
        // Worst case of a call: ~430 prompt bytes (schema included) + 150 output tokens at $10/$30 per M ≈ 8.8 M nUSD; actual 1.5 M nUSD.
        routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }], maxTokens: 150 } },
        prices: { models: { m: { input: 10, output: 30 } } },
        budget: { dailyUsd: "0.05", whenExhausted: { action: "abstain" } },
      });
      routerRef = router;
      const one = (i: number) => router.complete({ ...ask(i), answer: forecastAnswer });
      const outcomes = [];
      if (concurrent) outcomes.push(...(await Promise.all(Array.from({ length: 64 }, (_, i) => one(i)))));
      else for (let i = 0; i < 64; i++) outcomes.push(await one(i));
      const requests = server.requests.length;
      await server.close();
      server = undefined;
      return { refused: outcomes.flatMap((o, i) => (!o.ok && o.errorClass === "budget" ? [i] : [])), spent: router.budget.spentToday(), requests };
    };
    const serial = await run(false);
    openSeen = 0;
    const burst = await run(true);
    expect(openSeen).toBeLessThanOrEqual(4);
    expect(burst.refused).toEqual(serial.refused);
    expect(burst.spent).toBe(serial.spent);
    // The budget is spent, not idle: what is left is less than one call's worst case.
    expect(50_000_000 - burst.spent).toBeLessThan(8_800_000);
    expect(burst.refused.length).toBeGreaterThan(0);
  });
});
