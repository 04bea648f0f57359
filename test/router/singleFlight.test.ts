/** Identical requests in flight at once go to the provider once and share its outcome, its row and its callId. */
import { afterEach, describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { goodAnswer, makeRouter, openaiEndpoint } from "./fixture.ts";

const servers: OpenAiLoopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const ask = (content: string) => [{ role: "user" as const, content }];
const lastUser = (body: Record<string, unknown>) => (body["messages"] as Array<{ content: string }>).at(-1)?.content ?? "";

describe("single flight", () => {
  it("ten identical concurrent requests make one provider request, one row, one callId; a different one goes on its own", async () => {
    const server = await startOpenAiServer(({ body }) =>
      lastUser(body).startsWith("bad") ? { kind: "status", status: 400, delayMs: 30 } : { kind: "reply", content: goodAnswer, promptTokens: 20, completionTokens: 30, delayMs: 30 },
    );
    servers.push(server);
    const { router, log } = makeRouter({
      endpoints: { p: openaiEndpoint(server.baseURL, { concurrency: 16 }) },
      routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }], maxTokens: 100 } },
      prices: { models: { m: { input: 1, output: 2 } } },
    });
    const same = Array.from({ length: 10 }, (_, i) => router.complete({ task: "forecast", agent: `a${i}`, messages: ask("Will BTC close above $100k?"), answer: forecastAnswer }));
    const other = router.complete({ task: "forecast", agent: "other", messages: ask("Will ETH close above $4k?"), answer: forecastAnswer });
    const bad = Array.from({ length: 3 }, () => router.complete({ task: "forecast", messages: ask("bad request") }));
    const outcomes = await Promise.all(same);
    const otherOutcome = await other;
    const badOutcomes = await Promise.all(bad);

    expect(server.requests).toHaveLength(3); // one per distinct request
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const ids = new Set(outcomes.map((o) => (o.ok ? o.callId : "")));
    expect(ids.size).toBe(1);
    expect(otherOutcome.ok && ids.has(otherOutcome.callId)).toBe(false);
    expect(outcomes.map((o) => o.ok && [o.answer.probability, o.costNusd])).toEqual(Array.from({ length: 10 }, () => [0.42, 20 * 1_000 + 30 * 2_000]));
    // Each sharer has its own trace object.
    const [first, second] = outcomes;
    if (first?.ok && second?.ok) expect(first.trace).not.toBe(second.trace);
    // A failure is shared the same way.
    expect(badOutcomes.map((o) => !o.ok && o.errorClass)).toEqual(["bad_request", "bad_request", "bad_request"]);
    expect(log.calls.map((c) => [c.agent ?? null, c.status, c.errorClass ?? null]).sort()).toEqual(
      [
        ["a0", "ok", null],
        ["other", "ok", null],
        [null, "error", "bad_request"],
      ].sort(),
    );
    expect(log.calls.find((c) => c.agent === "a0")?.callId).toBe([...ids][0]);
    // Money is spent once.
    expect(router.ledger.totalNusd).toBe(2 * 80_000);
    expect(router.budget.spentToday()).toBe(2 * 80_000);

    // Once it has settled, the same request is a new call.
    const again = await router.complete({ task: "forecast", messages: ask("Will BTC close above $100k?"), answer: forecastAnswer });
    expect(again.ok && !ids.has(again.callId)).toBe(true);
    expect(server.requests).toHaveLength(4);
  });

  it("requests that differ only in model parameters are not shared", async () => {
    const server = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer, delayMs: 20 }));
    servers.push(server);
    const { router, log } = makeRouter({
      endpoints: { p: openaiEndpoint(server.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }] } },
      prices: { models: { m: { input: 0, output: 0 } } },
    });
    await Promise.all([0, 0.5, 1].map((temperature) => router.complete({ task: "forecast", messages: ask("q"), temperature })));
    expect(server.requests).toHaveLength(3);
    expect(log.calls).toHaveLength(3);
  });
});
