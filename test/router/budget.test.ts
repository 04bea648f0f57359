import { afterEach, describe, expect, it } from "vitest";
import { Budget, type BudgetAlert } from "../../harness/router/budget.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startOllamaServer, type OllamaLoopback } from "../loopback/ollamaServer.ts";
import { DAY0, ManualClock, goodAnswer, makeRouter, openaiEndpoint } from "./fixture.ts";

const servers: Array<OpenAiLoopback | OllamaLoopback> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("budget reservations", () => {
  it("refuses a reservation that would pass the limit, counting open reservations", () => {
    const budget = new Budget(new ManualClock(DAY0), { dailyNusd: 1000 });
    const a = budget.reserve("cheap", 600);
    expect(a.ok).toBe(true);
    const b = budget.reserve("cheap", 500);
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.reason).toMatch(/overall daily budget/);
    if (a.ok) budget.settle(a.reservation, 200);
    expect(budget.reserve("cheap", 800).ok).toBe(true);
    expect(budget.spentToday()).toBe(200);
  });

  it("per-tier limits, and days and months that follow the injected clock", () => {
    const clock = new ManualClock(DAY0);
    const budget = new Budget(clock, { monthlyNusd: 5000, tiers: { premium: { dailyNusd: 100 } } });
    const r = budget.reserve("premium", 100);
    expect(r.ok).toBe(true);
    if (r.ok) budget.settle(r.reservation, 100);
    expect(budget.reserve("premium", 1).ok).toBe(false);
    expect(budget.reserve("cheap", 1000).ok).toBe(true);
    clock.advance(86_400_000); // next simulated day
    expect(budget.reserve("premium", 100).ok).toBe(true);
    expect(budget.spentToday("premium")).toBe(0);
    expect(budget.spentThisMonth()).toBe(100);
  });

  it("alerts once per window when settled spend crosses a fraction", () => {
    const alerts: BudgetAlert[] = [];
    const budget = new Budget(new ManualClock(DAY0), { dailyNusd: 1000, alertAt: [0.5, 0.8] }, (a) => alerts.push(a));
    for (const amount of [400, 200, 250, 100]) {
      const r = budget.reserve("cheap", amount);
      if (r.ok) budget.settle(r.reservation, amount);
    }
    expect(alerts.filter((a) => a.scope === "overall").map((a) => [a.fraction, a.spentNusd])).toEqual([
      [0.5, 600],
      [0.8, 850],
    ]);
  });
});

describe("budget in the router", () => {
  it("64 concurrent calls against a $1.00 budget never spend more than $1.00, and every refusal is recorded", async () => {
    // Each call really costs 1,000 in × $10/M + 500 out × $30/M = $0.025; its worst case is reserved first.
    const server = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer, promptTokens: 1000, completionTokens: 500, delayMs: 15 }));
    servers.push(server);
    const { router, log } = makeRouter({
      endpoints: { paid: openaiEndpoint(server.baseURL, { concurrency: 64 }) },
      routes: { forecast: { chain: [{ endpoint: "paid", model: "gpt", tier: "balanced" }], maxTokens: 500 } },
      prices: { models: { gpt: { input: 10, output: 30 } } },
      budget: { dailyUsd: "1.00", whenExhausted: { action: "abstain" } },
    });
    const prompt = [{ role: "user" as const, content: "x".repeat(1500) }];
    const outcomes = await Promise.all(Array.from({ length: 64 }, (_, i) => router.complete({ task: "forecast", agent: `c${i}`, messages: prompt, answer: forecastAnswer })));
    const spent = log.calls.reduce((n, c) => n + c.costNusd, 0);
    const ok = outcomes.filter((o) => o.ok).length;
    const refused = outcomes.filter((o) => !o.ok && o.errorClass === "budget").length;
    expect(spent).toBeLessThanOrEqual(1_000_000_000);
    expect(ok + refused).toBe(64);
    expect(refused).toBeGreaterThan(0);
    expect(spent).toBe(ok * 25_000_000);
    const refusedRows = log.calls.filter((c) => c.status === "refused");
    expect(refusedRows).toHaveLength(refused);
    expect(refusedRows.every((r) => r.errorClass === "budget" && r.costNusd === 0)).toBe(true);
    expect(new Set(log.calls.map((c) => c.agent)).size).toBe(64);
    expect(server.requests).toHaveLength(ok);
  });

  it("when the budget is spent, falls back to a free local model (free_only)", async () => {
    const paid = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer, promptTokens: 5, completionTokens: 100 }));
    const ollama = await startOllamaServer(() => ({ kind: "reply", content: goodAnswer }));
    servers.push(paid, ollama);
    const { router, log, logs } = makeRouter({
      endpoints: { paid: openaiEndpoint(paid.baseURL), ollama: { kind: "ollama", host: ollama.origin } },
      routes: { forecast: { chain: [{ endpoint: "paid", model: "claude", tier: "premium" }], maxTokens: 100 } },
      prices: { models: { claude: { input: 3, output: 15 } } },
      budget: {
        tiers: { premium: { dailyUsd: "0.002" } },
        alertAt: [0.5],
        whenExhausted: { action: "free_only", fallback: [{ endpoint: "ollama", model: "llama3.2", tier: "local" }] },
      },
    });
    const ask = () => router.complete({ task: "forecast", messages: [{ role: "user", content: "q" }] });
    // worst case 9 prompt bytes × 3,000 nUSD + 100 × 15,000 nUSD = 1,527,000 nUSD fits under $0.002; it costs 5 × 3,000 + 1,500,000.
    const first = await ask();
    expect(first.ok && [first.provider, first.costNusd]).toEqual(["paid", 1_515_000]);
    const second = await ask();
    expect(second.ok && second.provider).toBe("ollama");
    expect(log.calls.map((c) => [c.provider, c.status, c.errorClass ?? null])).toEqual([
      ["paid", "ok", null],
      ["paid", "refused", "budget"],
      ["ollama", "ok", null],
    ]);
    expect(paid.requests).toHaveLength(1);
    expect(logs.some((l) => l.startsWith("warn budget alert") && l.includes("tier:premium"))).toBe(true);
  });

  it("abstains when configured to, without calling anything", async () => {
    const paid = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer }));
    servers.push(paid);
    const { router, log } = makeRouter({
      endpoints: { paid: openaiEndpoint(paid.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "paid", model: "claude", tier: "premium" }, { endpoint: "paid", model: "gpt", tier: "cheap" }] } },
      prices: { models: { claude: { input: 3, output: 15 }, gpt: { input: 1, output: 1 } } },
      budget: { dailyUsd: 0, whenExhausted: { action: "abstain" } },
    });
    const outcome = await router.complete({ task: "forecast", messages: [{ role: "user", content: "q" }] });
    expect(!outcome.ok && outcome.errorClass).toBe("budget");
    expect(paid.requests).toHaveLength(0);
    expect(log.calls).toHaveLength(1);
  });
});
