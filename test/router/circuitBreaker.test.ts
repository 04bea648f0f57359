import { afterEach, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../harness/router/circuitBreaker.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import type { ScriptStep } from "../loopback/script.ts";
import { DAY0, ManualClock, goodAnswer, makeRouter, openaiEndpoint, question } from "./fixture.ts";

describe("circuit breaker", () => {
  it("opens after the configured consecutive failures, half-opens after the window, closes on a good probe", () => {
    const clock = new ManualClock(DAY0);
    const breaker = new CircuitBreaker(clock, { failureThreshold: 5, openMs: 300_000 });
    for (let i = 0; i < 4; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure();
    }
    expect(breaker.state).toBe("closed");
    breaker.recordFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(299_999);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.state).toBe("half_open");
    expect(breaker.tryAcquire()).toBe(true); // the probe
    expect(breaker.tryAcquire()).toBe(false); // only one probe at a time
    breaker.recordSuccess();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("a failed probe re-opens it for a full window", () => {
    const clock = new ManualClock(DAY0);
    const breaker = new CircuitBreaker(clock, { failureThreshold: 2, openMs: 1000 });
    breaker.recordFailure();
    breaker.recordFailure();
    clock.advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe("open");
    clock.advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("a success resets the failure streak", () => {
    const breaker = new CircuitBreaker(new ManualClock(0), { failureThreshold: 3, openMs: 1000 });
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe("closed");
  });

  it("a ticketless success while open (no probe out) leaves it open; only the probe's success closes it", () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreaker(clock, { failureThreshold: 2, openMs: 1000 });
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe("open");
    breaker.recordSuccess(); // a call admitted before it opened answering late
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1000);
    expect(breaker.tryAcquire()).toBe(true); // the probe
    breaker.recordSuccess();
    expect(breaker.state).toBe("closed");
  });
});

describe("breaker inside the router", () => {
  let server: OpenAiLoopback | undefined;
  let backup: OpenAiLoopback | undefined;
  afterEach(async () => {
    await server?.close();
    await backup?.close();
  });

  it("stops calling a failing provider after 5 failures and probes it again after 5 minutes of wall time", async () => {
    let healthy = false;
    server = await startOpenAiServer((): ScriptStep => (healthy ? { kind: "reply", content: goodAnswer } : { kind: "status", status: 503 }));
    backup = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer }));
    const { router, health, logs } = makeRouter({
      endpoints: { flaky: openaiEndpoint(server.baseURL), backup: openaiEndpoint(backup.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "flaky", model: "m", tier: "cheap" }, { endpoint: "backup", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 0, output: 0 } } },
      retry: { maxRetries: 0 },
      breaker: { failures: 5, openMs: 300_000 },
    });
    for (let i = 0; i < 5; i++) expect((await router.complete({ task: "forecast", messages: question })).ok).toBe(true);
    expect(server.requests).toHaveLength(5);
    for (let i = 0; i < 3; i++) await router.complete({ task: "forecast", messages: question });
    expect(server.requests).toHaveLength(5); // open: not called
    expect(logs.some((l) => l.startsWith("warn circuit open"))).toBe(true);
    healthy = true;
    health.advance(300_000);
    const probe = await router.complete({ task: "forecast", messages: question });
    expect(probe.ok && probe.provider).toBe("flaky");
    expect(server.requests).toHaveLength(6);
    expect(logs.some((l) => l.startsWith("info circuit closed"))).toBe(true);
  });

  it("stays open while simulated time jumps hours between decisions but wall time does not", async () => {
    server = await startOpenAiServer(() => ({ kind: "status", status: 503 }));
    backup = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer }));
    const { router, clock, health, log } = makeRouter({
      endpoints: { dead: openaiEndpoint(server.baseURL), backup: openaiEndpoint(backup.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "dead", model: "m", tier: "cheap" }, { endpoint: "backup", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 0, output: 0 } } },
      retry: { maxRetries: 0 },
      breaker: { failures: 2, openMs: 300_000 },
    });
    for (let i = 0; i < 2; i++) expect((await router.complete({ task: "forecast", messages: question })).ok).toBe(true);
    expect(server.requests).toHaveLength(2); // open now
    // Ten decisions, four simulated hours apart (40 h of replay in well under a second of wall time).
    for (let i = 0; i < 10; i++) {
      clock.advance(4 * 3_600_000);
      health.advance(10);
      const outcome = await router.complete({ task: "forecast", messages: question });
      expect(outcome.ok && outcome.provider).toBe("backup");
      expect(outcome.trace.map((t) => [t.provider, t.status, t.errorClass ?? null])).toEqual([
        ["dead", "skipped", "circuit_open"],
        ["backup", "ok", null],
      ]);
    }
    expect(server.requests).toHaveLength(2); // never re-probed
    expect(log.calls.filter((c) => c.provider === "dead").map((c) => c.errorClass)).toEqual(["server", "server"]);
    // Five minutes of wall time later (100 ms already passed), one probe goes out.
    health.advance(300_000 - 100);
    await router.complete({ task: "forecast", messages: question });
    expect(server.requests).toHaveLength(3);
  });

  it("the breaker's default clock is monotonic wall time (performance.now)", async () => {
    const breaker = new CircuitBreaker(undefined, { failureThreshold: 1, openMs: 30 });
    breaker.recordFailure();
    expect(breaker.tryAcquire()).toBe(false);
    await new Promise((r) => setTimeout(r, 40));
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("records a call as failed when every breaker on its chain is open", async () => {
    server = await startOpenAiServer(() => ({ kind: "status", status: 500 }));
    const { router, log } = makeRouter({
      endpoints: { only: openaiEndpoint(server.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "only", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 1, output: 1 } } },
      retry: { maxRetries: 0 },
      breaker: { failures: 1 },
    });
    await router.complete({ task: "forecast", messages: question });
    const blocked = await router.complete({ task: "forecast", messages: question, agent: "a2" });
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.errorClass).toBe("circuit_open");
    expect(log.calls.at(-1)).toMatchObject({ agent: "a2", status: "error", errorClass: "circuit_open", attempts: 0 });
  });
});
