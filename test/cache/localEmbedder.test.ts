/**
 * Semantic matching with real embeddings from the bundled tiny model
 * (models/stories260K.gguf) through the local provider: the same text embeds
 * identically (cosine 1, an exact-enough semantic hit), and the cache serves
 * it semantically when the exact key differs (another system prompt).
 */
import { afterAll, describe, expect, it } from "vitest";
import { LocalModelProvider } from "../../providers/llamaCpp.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { cosine } from "../../harness/cache/semantic.ts";
import { makeCached } from "./helpers.ts";

const MODEL = new URL("../../models/stories260K.gguf", import.meta.url).pathname;
const local = new LocalModelProvider({ modelPath: MODEL, threads: 1, contextSize: 256 });
afterAll(() => local.dispose());

const story = "Once upon a time a little girl named Lily went to the park with her mom and saw a big red ball.";
const other = "The dog ran fast and jumped into the water because it was very hot outside.";

describe("semantic cache with the real tiny model's embeddings", () => {
  it("same user text under a different system prompt is a semantic hit; unrelated text is not", async () => {
    const [a, b, c] = await local.embed([story, story, other]);
    expect(a!.length).toBeGreaterThan(0);
    expect(cosine(a!, b!)).toBeCloseTo(1, 6);
    const unrelated = cosine(a!, c!);
    expect(unrelated).toBeLessThan(0.999);

    // Threshold between the unrelated pair's similarity and 1.
    const threshold = (1 + Math.max(unrelated, 0)) / 2;
    const { cached, provider, log, clock } = makeCached({ backend: "memory", semantic: { enabled: true, threshold } }, { embedder: local });
    const first = await cached.complete({ task: "screen", messages: [{ role: "system", content: "v1" }, { role: "user", content: story }], answer: forecastAnswer });
    clock.observe(clock.now() + 1); // the semantic cache serves only answers made strictly before now
    const second = await cached.complete({ task: "screen", messages: [{ role: "system", content: "v2" }, { role: "user", content: story }], answer: forecastAnswer });
    await cached.complete({ task: "screen", messages: [{ role: "user", content: other }], answer: forecastAnswer });
    expect(provider.calls).toBe(2);
    expect(log.calls.map((r) => r.cache)).toEqual(["miss", "semantic", "miss"]);
    expect(second.ok && first.ok && second.answer).toEqual(first.ok && first.answer);
  });
});
