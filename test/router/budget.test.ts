import { afterEach, describe, expect, it } from "vitest";
import { atDecisionTime, DecisionClock } from "../../harness/clock/decisionTime.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { Budget, type BudgetAlert } from "../../harness/router/budget.ts";
import { MemoryCallLog } from "../../harness/router/callLog.ts";
import { buildRouter } from "../../harness/router/routerConfig.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { startOllamaServer, type OllamaLoopback } from "../loopback/ollamaServer.ts";
import { DAY0, ManualClock, goodAnswer, makeRouter, openaiEndpoint } from "./fixture.ts";

const servers: Array<OpenAiLoopback | OllamaLoopback> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("budget reservations", () => {
  it("refuses a reservation that would pass the limit once nothing is open; grants what fits", async () => {
    const budget = new Budget(new ManualClock(DAY0), { dailyNusd: 1000 });
    const a = await budget.reserve("cheap", 600);
    expect(a.ok).toBe(true);
    const b = await budget.reserve("cheap", 300); // 600 reserved + 300 fits
    expect(b.ok).toBe(true);
    if (a.ok) budget.settle(a.reservation, 200);
    if (b.ok) budget.settle(b.reservation, 300);
    const c = await budget.reserve("cheap", 600); // 500 spent + 600 > 1000, nothing open: refused
    expect(c.ok).toBe(false);
    if (!c.ok) expect([c.kind, c.reason]).toEqual(["budget", "overall daily budget: spent 500 + reserved 0 + this call 600 > limit 1000 nUSD"]);
    expect((await budget.reserve("cheap", 500)).ok).toBe(true);
    expect(budget.spentToday()).toBe(500);
  });

  it("a reservation that would be refused while earlier ones are open waits for them, and later ones queue behind it (FIFO)", async () => {
    const budget = new Budget(new ManualClock(DAY0), { dailyNusd: 1000 });
    const first = await budget.reserve("cheap", 800);
    if (!first.ok) throw new Error("first refused");
    const order: string[] = [];
    const second = budget.reserve("cheap", 400).then((o) => (order.push(`second ${o.ok}`), o)); // 800 + 400 > 1000: waits
    const third = budget.reserve("cheap", 100).then((o) => (order.push(`third ${o.ok}`), o)); // would fit now, but queues behind
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    expect([budget.openReservations, budget.waitingReservations]).toEqual([1, 2]);
    budget.settle(first.reservation, 500); // the actual cost: 500 + 400 fits
    const [s2, s3] = await Promise.all([second, third]);
    expect(order).toEqual(["second true", "third true"]);
    expect([s2.ok, s3.ok]).toEqual([true, true]);
    // A serial run: 500 spent, 400 + 100 reserved; 200 more would pass 1000 once they settle at their worst case.
    if (s2.ok) budget.settle(s2.reservation, 400);
    if (s3.ok) budget.settle(s3.reservation, 100);
    const last = await budget.reserve("cheap", 1);
    expect(last.ok).toBe(false);
  });

  it("per-tier limits, and days and months that follow the injected clock", async () => {
    const clock = new ManualClock(DAY0);
    const budget = new Budget(clock, { monthlyNusd: 5000, tiers: { premium: { dailyNusd: 100 } } });
    const r = await budget.reserve("premium", 100);
    expect(r.ok).toBe(true);
    if (r.ok) budget.settle(r.reservation, 100);
    expect((await budget.reserve("premium", 1)).ok).toBe(false);
    expect((await budget.reserve("cheap", 1000)).ok).toBe(true);
    clock.advance(86_400_000); // next simulated day
    expect((await budget.reserve("premium", 100)).ok).toBe(true);
    expect(budget.spentToday("premium")).toBe(0);
    expect(budget.spentThisMonth()).toBe(100);
  });

  it("alerts once per window when settled spend crosses a fraction", async () => {
    const alerts: BudgetAlert[] = [];
    const budget = new Budget(new ManualClock(DAY0), { dailyNusd: 1000, alertAt: [0.5, 0.8] }, (a) => alerts.push(a));
    for (const amount of [400, 200, 250, 100]) {
      const r = await budget.reserve("cheap", amount);
      if (r.ok) budget.settle(r.reservation, amount);
    }
    expect(alerts.filter((a) => a.scope === "overall").map((a) => [a.fraction, a.spentNusd])).toEqual([
      [0.5, 600],
      [0.8, 850],
    ]);
  });

  it("the run cap counts every tier and simulated day, and stays reached once it refuses", async () => {
    const clock = new ManualClock(DAY0);
    const budget = new Budget(clock, { dailyNusd: 40_000_000, runNusd: 50_000_000 }); // $0.04 a simulated day, $0.05 a run
    const spend = async (tier: string, worst: number, actual: number) => {
      const r = await budget.reserve(tier, worst);
      if (r.ok) budget.settle(r.reservation, actual);
      return r;
    };
    expect((await spend("cheap", 30_000_000, 29_700_000)).ok).toBe(true);
    clock.advance(86_400_000);
    expect((await spend("premium", 20_000_000, 20_000_000)).ok).toBe(true);
    expect(budget.spentThisRun).toBe(49_700_000);
    expect(budget.runExhausted).toBeNull();
    const refused = await spend("cheap", 1_000_000, 0);
    expect(refused).toEqual({
      ok: false,
      kind: "run_budget",
      reason: "budget.runUsd $0.05 reached: spent $0.0497 of real money in this run; raise budget.runUsd and resume",
    });
    expect(budget.runExhausted).toBe("budget.runUsd $0.05 reached: spent $0.0497 of real money in this run; raise budget.runUsd and resume");
    expect((await spend("cheap", 300_000, 0)).ok).toBe(false); // would fit, but the run has stopped
    expect((await spend("local", 0, 0)).ok).toBe(true); // free calls are never refused
  });

  it("seedSpent continues a resumed run's daily, monthly and run totals where they stopped", async () => {
    const alerts: BudgetAlert[] = [];
    const clock = new ManualClock(DAY0 + 86_400_000);
    const options = { dailyNusd: 1000, monthlyNusd: 1500, runNusd: 2000, tiers: { premium: { dailyNusd: 300 } }, alertAt: [0.5] };
    const budget = new Budget(clock, options, (a) => alerts.push(a));
    budget.seedSpent([
      { simTs: DAY0, tier: "cheap", costNusd: 600 }, // yesterday
      { simTs: DAY0 + 86_400_000 + 1, tier: "premium", costNusd: 250 },
      { simTs: DAY0 + 86_400_000 + 2, tier: "cheap", costNusd: 400 },
    ]);
    expect([budget.spentToday(), budget.spentToday("premium"), budget.spentThisMonth(), budget.spentThisRun]).toEqual([650, 250, 1250, 1250]);
    expect((await budget.reserve("premium", 100)).ok).toBe(false); // 250 + 100 > 300 premium today
    const monthly = await budget.reserve("cheap", 300); // 1250 + 300 > 1500 this month
    expect(!monthly.ok && monthly.reason).toMatch(/^overall monthly budget/);
    const ok = await budget.reserve("cheap", 250);
    expect(ok.ok).toBe(true);
    if (ok.ok) budget.settle(ok.reservation, 250);
    expect(alerts).toEqual([]); // the seeded spend had crossed 50% already: not alerted again
    clock.advance(40 * 86_400_000); // a later month: only the run total carries on
    const run = await budget.reserve("cheap", 600);
    expect(!run.ok && run.kind).toBe("run_budget");
    expect(budget.runExhausted).toMatch(/^budget.runUsd \$0.000002 reached/);
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
    // 1,500-byte prompts, all different (identical ones in flight at once would share one call).
    const prompt = (i: number) => [{ role: "user" as const, content: `${String(i).padStart(4, "0")}${"x".repeat(1496)}` }];
    const outcomes = await Promise.all(Array.from({ length: 64 }, (_, i) => router.complete({ task: "forecast", agent: `c${i}`, messages: prompt(i), answer: forecastAnswer })));
    const spent = log.calls.reduce((n, c) => n + c.costNusd, 0);
    const ok = outcomes.filter((o) => o.ok).length;
    const refused = outcomes.filter((o) => !o.ok && o.errorClass === "budget").length;
    expect(spent).toBeLessThanOrEqual(1_000_000_000);
    expect(ok + refused).toBe(64);
    // As in a serial run: the worst case (~$0.033) fits while 25M·k + worst ≤ $1.00, i.e. for the first 39 calls.
    expect(outcomes.map((o) => o.ok)).toEqual(Array.from({ length: 64 }, (_, i) => i < 39));
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

describe("deterministic refusals under concurrency", () => {
  /** Call i: a prompt of about 100 + (97·i mod 1800) bytes, an answer of 40 + (137·i mod 260) tokens; answers return out of order. */
  const serverFor = () =>
    startOpenAiServer(({ body }) => {
      const messages = body["messages"] as Array<{ content: string }>;
      const i = Number(/^call (\d+):/.exec(messages[0]?.content ?? "")?.[1]);
      return { kind: "reply", content: goodAnswer, promptTokens: 100 + ((97 * i) % 1800), completionTokens: 40 + ((137 * i) % 260), delayMs: ((i * 7) % 5) * 4 };
    });
  const call = (i: number) => [{ role: "user" as const, content: `call ${i}: ${"x".repeat((97 * i) % 1800)}` }];
  const config = (baseURL: string) => ({
    endpoints: { paid: openaiEndpoint(baseURL, { concurrency: 32 }) },
    routes: { forecast: { chain: [{ endpoint: "paid", model: "gpt", tier: "cheap" as const }], maxTokens: 300 } },
    prices: { models: { gpt: { input: 10, output: 30 } } },
    budget: { dailyUsd: "0.30", whenExhausted: { action: "abstain" as const } },
  });

  it("N concurrent calls with a binding daily budget refuse exactly the calls a serial run refuses", async () => {
    const N = 64;
    // Two simulated days: each request runs as of its decision time (the lead's pipeline does this with atDecisionTime).
    const decisionTs = (i: number) => DAY0 + (i < N / 2 ? 0 : 86_400_000) + i * 1000;
    const run = async (concurrent: boolean) => {
      const server = await serverFor();
      servers.push(server);
      const log = new MemoryCallLog();
      const router = buildRouter(config(server.baseURL), { clock: new DecisionClock(new SimulatedClock(DAY0)), callLog: log, env: { KEY_A: "k" } });
      const one = (i: number) => atDecisionTime(decisionTs(i), () => router.complete({ task: "forecast", agent: `c${i}`, messages: call(i), answer: forecastAnswer }));
      const outcomes = [];
      if (concurrent) outcomes.push(...(await Promise.all(Array.from({ length: N }, (_, i) => one(i)))));
      else for (let i = 0; i < N; i++) outcomes.push(await one(i));
      const spentByDay = new Map<number, number>();
      for (const c of log.calls) spentByDay.set(c.simTs, (spentByDay.get(c.simTs) ?? 0) + c.costNusd);
      return {
        refused: outcomes.flatMap((o, i) => (!o.ok && o.errorClass === "budget" ? [i] : [])),
        answered: outcomes.flatMap((o, i) => (o.ok ? [i] : [])),
        spent: log.calls.reduce((n, c) => n + c.costNusd, 0),
        requests: server.requests.length,
        day1Spent: log.calls.filter((c) => c.simTs < DAY0 + 86_400_000).reduce((n, c) => n + c.costNusd, 0),
      };
    };
    const serial = await run(false);
    const concurrent = await run(true);
    expect(concurrent.refused).toEqual(serial.refused);
    expect(concurrent.answered).toEqual(serial.answered);
    expect(concurrent.spent).toBe(serial.spent);
    expect(concurrent.requests).toBe(serial.answered.length);
    // The budget binds on both days, and some calls are answered after an earlier one was refused (a cheaper one still fits).
    expect(serial.refused.filter((i) => i < N / 2).length).toBeGreaterThan(0);
    expect(serial.refused.filter((i) => i >= N / 2).length).toBeGreaterThan(0);
    expect(serial.answered.some((i) => serial.refused.some((r) => r < i && r < N / 2 === i < N / 2))).toBe(true);
    expect(serial.day1Spent).toBeLessThanOrEqual(300_000_000);
  });
});

describe("the run's real-money cap (budget.runUsd)", () => {
  it("refuses the call that would pass it, records run_budget, stops the chain, and says so", async () => {
    const paid = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer, promptTokens: 10, completionTokens: 100 }));
    const ollama = await startOllamaServer(() => ({ kind: "reply", content: goodAnswer }));
    servers.push(paid, ollama);
    const { router, log, clock } = makeRouter({
      endpoints: { paid: openaiEndpoint(paid.baseURL), ollama: { kind: "ollama", host: ollama.origin } },
      routes: { forecast: { chain: [{ endpoint: "paid", model: "claude", tier: "premium" }, { endpoint: "ollama", model: "llama3.2", tier: "local" }], maxTokens: 100 } },
      prices: { models: { claude: { input: 3, output: 15 } } },
      budget: { dailyUsd: "1", runUsd: "0.005" },
    });
    // Each call: worst case 9 prompt bytes × 3,000 + 100 × 15,000 = 1,527,000 nUSD; actual 10 × 3,000 + 1,500,000 = 1,530,000 (reported usage).
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(await router.complete({ task: "forecast", agent: `a${i}`, messages: [{ role: "user", content: `q${i}` }] }));
      clock.advance(86_400_000); // a new simulated day each time: the daily budget never binds
    }
    expect(outcomes.map((o) => (o.ok ? o.provider : o.errorClass))).toEqual(["paid", "paid", "paid", "run_budget", "run_budget"]);
    expect(paid.requests).toHaveLength(3);
    expect(ollama.requests).toHaveLength(0); // the run stops: no fallback to another model
    expect(router.runBudgetExhausted()).toBe("budget.runUsd $0.005 reached: spent $0.0046 of real money in this run; raise budget.runUsd and resume");
    const last = outcomes[4];
    expect(!last?.ok && last?.message).toBe(router.runBudgetExhausted());
    expect(log.calls.map((c) => [c.agent, c.status, c.errorClass ?? null, c.costNusd])).toEqual([
      ["a0", "ok", null, 1_530_000],
      ["a1", "ok", null, 1_530_000],
      ["a2", "ok", null, 1_530_000],
      ["a3", "refused", "run_budget", 0],
      ["a4", "refused", "run_budget", 0],
    ]);
  });

  it("is null while the cap holds, and is read from the config's budget section", async () => {
    const paid = await startOpenAiServer(() => ({ kind: "reply", content: goodAnswer, promptTokens: 1, completionTokens: 1 }));
    servers.push(paid);
    const { router } = makeRouter({
      endpoints: { paid: openaiEndpoint(paid.baseURL) },
      routes: { forecast: { chain: [{ endpoint: "paid", model: "m", tier: "cheap" }], maxTokens: 10 } },
      prices: { models: { m: { input: 1, output: 1 } } },
      budget: { runUsd: 2 },
    });
    expect((await router.complete({ task: "forecast", messages: [{ role: "user", content: "q" }] })).ok).toBe(true);
    expect(router.runBudgetExhausted()).toBeNull();
    expect(router.budget.spentThisRun).toBe(2_000);
    expect(() => makeRouter({ endpoints: {}, routes: {}, budget: { runUsd: "-1" } })).toThrow(/runUsd/);
  });
});
