/** `show --market` prints model text; a hostile answer's escape sequences must reach the terminal as visible text, not as commands. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { terminalSafe } from "../../harness/cli/terminalText.ts";
import { formatTimeline } from "../../harness/cli/show.ts";
import type { MarketTimeline } from "../../harness/store/runDetail.ts";

describe("text from outside on a terminal", () => {
  it("turns control characters into visible escapes, keeping newlines, tabs and other text", () => {
    expect(terminalSafe("\u001b[2J\u001b]0;owned\u0007ok")).toBe("\\x1b[2J\\x1b]0;owned\\x07ok");
    expect(terminalSafe("line 1\n\tline 2 — é 😀")).toBe("line 1\n\tline 2 — é 😀");
    expect(terminalSafe("\u009b31m\u007f\r")).toBe("\\x9b31m\\x7f\\x0d");
  });

  it("leaves no control character but newline and tab, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(terminalSafe(s))).toBe(false);
      }),
    );
  });

  it("show --market prints a hostile rationale and raw answer inert", () => {
    const hostile = "\u001b[2J\u001b[Hall clear";
    const timeline: MarketTimeline = {
      ticker: "KX-1",
      outcome: null,
      forecasts: [
        {
          seq: 1, ts: 0, model: "m", agent: null, probability: 0.4, confidence: 0.5, marketPrice: 0.5, abstained: false, abstainReason: null, rationale: hostile,
          call: { callId: "c1", status: "ok", errorClass: null, cache: "miss", provider: "p", model: "m", costUsd: 0, latencyMs: 1, transcript: { callId: "c1", prompt: "p", answer: hostile, promptBytes: 1, answerBytes: hostile.length, truncated: false } },
        },
      ],
      decisions: [],
      orders: [],
      fills: [],
      settlement: null,
    };
    const out = formatTimeline("run-1", timeline, true);
    expect(out).not.toContain("\u001b");
    expect(out).toContain("\\x1b[2J\\x1b[Hall clear");
  });
});
