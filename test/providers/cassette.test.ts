import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CassetteProvider } from "../../providers/cassette.ts";
import type { Provider, ProviderRequest, ProviderResult } from "../../providers/provider.ts";
import { ProviderError } from "../../providers/providerError.ts";

class CountingProvider implements Provider {
  readonly name = "openrouter";
  calls = 0;
  async complete(request: ProviderRequest): Promise<ProviderResult> {
    this.calls += 1;
    return { text: `answer to ${request.messages[0]?.content}`, usage: { inputTokens: 11, outputTokens: 3, cachedInputTokens: 0 }, latencyMs: 5, ttftMs: 5, finishReason: "stop", reportedCostUsd: 0.00001 };
  }
}

const ask = (content: string): ProviderRequest => ({ model: "m", messages: [{ role: "user", content }], temperature: 0 });

describe("cassette provider", () => {
  it("records through the inner provider, then replays from the file without calling out", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cassette-")), "calls.jsonl");
    const inner = new CountingProvider();
    const recorder = new CassetteProvider({ mode: "record", inner, path });
    await recorder.complete(ask("a"));
    await recorder.complete(ask("a"));
    await recorder.complete(ask("b"));
    expect(inner.calls).toBe(2);
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(2);

    const player = new CassetteProvider({ mode: "replay", path, name: "openrouter" });
    expect(player.size).toBe(2);
    const replayed = await player.complete({ ...ask("b"), timeoutMs: 10 });
    expect(replayed.text).toBe("answer to b");
    expect(replayed.reportedCostUsd).toBe(0.00001);
    await expect(player.complete(ask("c"))).rejects.toSatisfy((e) => e instanceof ProviderError && e.errorClass === "bad_request");
    await expect(player.complete({ ...ask("b"), temperature: 0.5 })).rejects.toBeInstanceOf(ProviderError);
  });

  it("names the line of a corrupt cassette", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cassette-")), "bad.jsonl");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, '{"key":"k","provider":"p","model":"m"}\n');
    expect(() => new CassetteProvider({ mode: "replay", path })).toThrow(/bad\.jsonl:1: bad cassette record/);
  });
});
