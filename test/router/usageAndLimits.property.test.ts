/** Properties of the checks on data from outside: answer limits and usage validation never throw, and never let a charge pass its reservation. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answerProblem, isWellFormed, MAX_ANSWER_DEPTH, toWellFormed } from "../../providers/answerLimits.ts";
import type { ProviderResult } from "../../providers/provider.ts";
import { checkUsage, MAX_USAGE_TOKENS } from "../../harness/router/usageCheck.ts";

const odd = fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(Number), fc.string(), fc.constant(null), fc.constant(undefined), fc.constant(1e20), fc.constant(-1));
const price = fc.record({ inputPusd: fc.integer({ min: 0, max: 100_000_000 }), outputPusd: fc.integer({ min: 0, max: 100_000_000 }), cachedInputPusd: fc.integer({ min: 0, max: 100_000_000 }) });

describe("checkUsage", () => {
  it("charges a safe integer between 0 and the reservation, whatever the figures", () => {
    fc.assert(
      fc.property(odd, odd, odd, fc.option(odd), price, fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 1e12 }), (i, o, c, cost, p, bytes, maxTokens, reserved) => {
        const result = { text: "x", usage: { inputTokens: i, outputTokens: o, cachedInputTokens: c }, latencyMs: 1, ttftMs: 1, finishReason: "stop", ...(cost !== null ? { reportedCostUsd: cost } : {}) } as unknown as ProviderResult;
        const checked = checkUsage(result, p, bytes, maxTokens, reserved);
        expect(Number.isSafeInteger(checked.chargeNusd)).toBe(true);
        expect(checked.chargeNusd).toBeGreaterThanOrEqual(0);
        expect(checked.chargeNusd).toBeLessThanOrEqual(reserved);
        for (const n of [checked.usage.inputTokens, checked.usage.outputTokens, checked.usage.cachedInputTokens]) {
          expect(Number.isSafeInteger(n) && n >= 0 && n <= Math.max(MAX_USAGE_TOKENS, bytes, maxTokens)).toBe(true);
        }
      }),
    );
  });

  it("valid figures within the reservation are charged exactly, with no anomaly", () => {
    const result = { text: "x", usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 40 }, latencyMs: 1, ttftMs: 1, finishReason: "stop" } as ProviderResult;
    // 60 uncached at 1,000,000 pUSD + 40 cached at 250,000 + 20 out at 2,000,000 = 110,000,000 pUSD = 110,000 nUSD.
    const checked = checkUsage(result, { inputPusd: 1_000_000, outputPusd: 2_000_000, cachedInputPusd: 250_000 }, 500, 200, 1_000_000);
    expect(checked).toEqual({ usage: result.usage, chargeNusd: 110_000, anomalies: [], claimedNusd: 110_000 });
  });
});

describe("answerProblem", () => {
  it("never throws, and what it accepts can be cloned and serialised", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.jsonValue({ maxDepth: 40 }), (text, parsed) => {
        const problem = answerProblem(text, parsed);
        if (problem === undefined) {
          expect(() => structuredClone(parsed)).not.toThrow();
          expect(isWellFormed(JSON.stringify(parsed) ?? "")).toBe(true);
        }
      }),
    );
  });

  it("refuses nesting past the limit without recursing (100,000 levels)", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`) as unknown;
    expect(answerProblem("[]", deep)).toMatch(new RegExp(`deeper than ${MAX_ANSWER_DEPTH}`));
  });

  it("toWellFormed replaces exactly the lone surrogates", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const w = toWellFormed(s);
        expect(isWellFormed(w)).toBe(true);
        expect(w.length).toBe(s.length);
        if (isWellFormed(s)) expect(w).toBe(s);
      }),
    );
  });
});
