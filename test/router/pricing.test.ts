import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { PriceTable, costNusd, dollarsToNusd, perMillionToPusd } from "../../harness/router/pricing.ts";
import { CostLedger } from "../../harness/router/costLedger.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { sequence } from "../loopback/script.ts";
import { DAY0, goodAnswer, makeRouter, openaiEndpoint, question } from "./fixture.ts";

describe("price arithmetic", () => {
  it("parses per-million prices exactly", () => {
    expect(perMillionToPusd("0.0375")).toBe(37_500);
    expect(perMillionToPusd("15")).toBe(15_000_000);
    expect(perMillionToPusd("0.000001")).toBe(1);
    expect(() => perMillionToPusd("0.0000001")).toThrow(/6 decimals/);
    expect(dollarsToNusd("1.00")).toBe(1_000_000_000);
    expect(dollarsToNusd("0.000000001")).toBe(1);
  });

  it("a call's cost is the price-table arithmetic to the nano-dollar", () => {
    const table = new PriceTable({ models: { "deepseek/deepseek-chat": { input: "0.27", output: "1.10", cachedInput: "0.07" } } });
    const price = table.lookup("openrouter", "deepseek/deepseek-chat");
    expect(price).toBeDefined();
    // 234 uncached × $0.27/M + 1,000 cached × $0.07/M + 567 out × $1.10/M = $0.00075688
    expect(costNusd(price!, { inputTokens: 1234, cachedInputTokens: 1000, outputTokens: 567 })).toBe(756_880);
  });

  it("rounds a fraction of a nano-dollar up, once per call", () => {
    const price = { inputPusd: perMillionToPusd("0.0375"), outputPusd: 0, cachedInputPusd: 0 };
    expect(costNusd(price, { inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 })).toBe(38); // 37.5 nUSD → 38
  });

  it("property: cost equals exact BigInt arithmetic on the decimal prices", () => {
    const decimalPrice = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 999_999 })).map(([w, f]) => `${w}.${String(f).padStart(6, "0")}`);
    fc.assert(
      fc.property(decimalPrice, decimalPrice, decimalPrice, fc.nat(2_000_000), fc.nat(2_000_000), fc.nat(200_000), (pin, pout, pcached, input, cachedRaw, output) => {
        const cached = Math.min(cachedRaw, input);
        const table = new PriceTable({ models: { m: { input: pin, output: pout, cachedInput: pcached } } });
        const micro = (s: string) => BigInt(s.replace(".", "")); // 6 decimals → integer millionths of $/M = pUSD/token
        const pusd = BigInt(input - cached) * micro(pin) + BigInt(cached) * micro(pcached) + BigInt(output) * micro(pout);
        const expected = (pusd + 999n) / 1000n;
        return BigInt(costNusd(table.lookup("x", "m")!, { inputTokens: input, cachedInputTokens: cached, outputTokens: output })) === expected;
      }),
      { numRuns: 500 },
    );
  });

  it("the ledger sums exactly per model, provider, task, agent, day and month", () => {
    const ledger = new CostLedger();
    ledger.add({ provider: "openrouter", model: "a", task: "screen", agent: "x", ts: DAY0, costNusd: 100 });
    ledger.add({ provider: "openrouter", model: "b", task: "forecast", ts: DAY0 + 86_400_000, costNusd: 250 });
    ledger.add({ provider: "xai", model: "a", task: "forecast", agent: "x", ts: DAY0 + 40 * 86_400_000, costNusd: 7 });
    expect(ledger.totalNusd).toBe(357);
    expect(ledger.totals("provider")).toEqual([
      { key: "openrouter", costNusd: 350 },
      { key: "xai", costNusd: 7 },
    ]);
    expect(ledger.totals("day").map((d) => d.key)).toEqual(["2025-11-08", "2025-11-09", "2025-12-18"]);
    expect(ledger.totals("month")).toEqual([
      { key: "2025-11", costNusd: 350 },
      { key: "2025-12", costNusd: 7 },
    ]);
    expect(ledger.totals("agent")).toEqual([
      { key: "-", costNusd: 250 },
      { key: "x", costNusd: 107 },
    ]);
  });
});

describe("cost accounting in the router", () => {
  let server: OpenAiLoopback | undefined;
  afterEach(() => server?.close());

  it("logs the computed cost, or the provider-reported one when given (and the difference)", async () => {
    server = await startOpenAiServer(
      sequence(
        { kind: "reply", content: goodAnswer, promptTokens: 1234, cachedTokens: 1000, completionTokens: 567 },
        { kind: "reply", content: goodAnswer, promptTokens: 1234, cachedTokens: 1000, completionTokens: 567, cost: 0.0008 },
      ),
    );
    const { router, log, logs } = makeRouter({
      endpoints: { openrouter: openaiEndpoint(server.baseURL, { openRouterUsage: true }) },
      routes: { forecast: { chain: [{ endpoint: "openrouter", model: "deepseek/deepseek-chat", tier: "cheap" }] } },
      prices: { models: { "openrouter/deepseek/deepseek-chat": { input: "0.27", output: "1.10", cachedInput: "0.07" } } },
    });
    const first = await router.complete({ task: "forecast", messages: question, agent: "alice" });
    const second = await router.complete({ task: "forecast", messages: question, agent: "alice" });
    expect(first.ok && first.costNusd).toBe(756_880);
    expect(second.ok && second.costNusd).toBe(800_000);
    expect(log.calls.map((c) => [c.costNusd, c.reportedCostNusd ?? null, c.cachedTokens])).toEqual([
      [756_880, null, 1000],
      [800_000, 800_000, 1000],
    ]);
    expect(logs.some((l) => l.includes("provider-reported cost differs") && l.includes('"computedNusd":756880'))).toBe(true);
    expect(router.ledger.totals("agent")).toEqual([{ key: "alice", costNusd: 1_556_880 }]);
  });
});
