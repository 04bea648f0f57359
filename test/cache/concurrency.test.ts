/**
 * The cache under concurrency keeps serial semantics: the same requests, made
 * all at once (Promise.all, in one issue order, each inside atDecisionTime at
 * its own simulated time, against a provider and an embedder that answer
 * after delays) send the same provider requests, get the same hits (exact,
 * semantic, miss) and the same answers as when made one after another.
 * Checked over every backend and several delay schedules, which reorder the
 * completions.
 */
import { describe, expect, it } from "vitest";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { SimulatedClock } from "../../harness/clock/simulatedClock.ts";
import { DecisionClock, atDecisionTime } from "../../harness/clock/decisionTime.ts";
import type { CacheBackend } from "../../harness/cache/cache.ts";
import type { CacheConfigInput } from "../../harness/cache/cacheConfig.ts";
import type { Embedder } from "../../harness/cache/semantic.ts";
import { MemoryCache } from "../../harness/cache/backends/memoryCache.ts";
import { BagOfWordsEmbedder, FAIL_ONCE, HOUR, ScriptedProvider, T0, ask, fnv, makeCached, sleep } from "./helpers.ts";
import { everyBackend } from "./everyBackend.ts";

const { backends } = everyBackend("tapedeck-cache-concurrency-");

const MIN = 60_000;
const btc = (price: string) =>
  `Will BTC close above $100k on Nov 9? Price now ${price}, volume 1200, news: ETF inflows continue, funding rates neutral, open interest rising, options skew flat, miners selling less, macro calendar quiet this week`;
const lakers = (price: string) =>
  `Will the Lakers beat the Celtics tonight in Boston? Price now ${price}, injuries none reported, rest days equal, the line moved two points toward Boston after the news, public money split evenly`;
const eth = `Will ETH close above $4,000 on Nov 9? ${FAIL_ONCE} price 0.20, volume 800, funding neutral, open interest rising, skew flat, news quiet`;
const rain = "Rain in NYC?"; // shorter than minChars: exact only

interface Step {
  at: number;
  q: string;
  /** What a serial run gives it (documentation, and checked for the serial run itself). */
  expect: Kind;
}
type Kind = "miss" | "exact" | "semantic" | "error";

/** In issue order; decision times never go backwards, as the read-ahead cursor issues them. */
const script: Step[] = [
  { at: T0, q: btc("0.42"), expect: "miss" },
  { at: T0, q: btc("0.42"), expect: "exact" }, // same key, same instant: waits for the first and shares its answer
  { at: T0, q: btc("0.43"), expect: "miss" }, // similar, same instant: an answer made at T0 is not served semantically at T0
  { at: T0, q: lakers("0.55"), expect: "miss" },
  { at: T0, q: eth, expect: "error" }, // the provider fails the first time
  { at: T0, q: eth, expect: "miss" }, // waits for the failed one, finds nothing, asks again
  { at: T0 + MIN, q: btc("0.44"), expect: "semantic" }, // waits for the two similar ones in flight before it
  { at: T0 + MIN, q: eth, expect: "exact" },
  { at: T0 + MIN, q: lakers("0.56"), expect: "semantic" },
  { at: T0 + MIN, q: rain, expect: "miss" },
  { at: T0 + 2 * MIN, q: rain, expect: "exact" },
  { at: T0 + 2 * MIN, q: btc("0.42"), expect: "exact" },
  { at: T0 + 2 * MIN, q: btc("0.43"), expect: "exact" },
  { at: T0 + 2 * HOUR, q: btc("0.42"), expect: "miss" }, // past the TTL
  { at: T0 + 2 * HOUR, q: btc("0.43"), expect: "miss" }, // its similar neighbour was made at the same instant
  { at: T0 + 2 * HOUR + 1, q: btc("0.45"), expect: "semantic" },
  { at: T0 + 2 * HOUR + 1, q: lakers("0.57"), expect: "miss" }, // the Lakers answers are past the TTL
  { at: T0 + 2 * HOUR + 1, q: btc("0.42"), expect: "exact" },
];

const config: CacheConfigInput = { backend: "memory", semantic: { enabled: true, threshold: 0.95, minChars: 40 }, ttlMs: { default: HOUR } };

/** The bag-of-words embedder, answering after a delay. */
class SlowEmbedder implements Embedder {
  readonly #inner = new BagOfWordsEmbedder();
  constructor(private readonly delayMs: (text: string) => number) {}
  async embed(texts: readonly string[]): Promise<number[][]> {
    await sleep(Math.max(0, ...texts.map(this.delayMs)));
    return this.#inner.embed(texts);
  }
}

/** Delay schedules (ms): none, pseudo-random per prompt, and later prompts fastest (completions reversed). */
const schedules: Array<[string, (text: string) => number, (text: string) => number]> = [
  ["no delays", () => 0, () => 0],
  ["hashed delays", (t) => fnv(`p${t}`) % 12, (t) => fnv(`e${t}`) % 5],
  ["other hashed delays", (t) => fnv(`q${t}`) % 7, (t) => fnv(`f${t}`) % 9],
  ["later prompts first", (t) => 20 - Math.max(0, script.findIndex((s) => s.q === t)), () => 1],
];

interface Observed {
  kind: Kind;
  answer: unknown;
  /** sim_ts of the llm_calls row the outcome names (the decision time), or null for a failure. */
  simTs: number | null;
}

async function run(steps: readonly Step[], backend: CacheBackend, schedule: (typeof schedules)[number], mode: "serial" | "concurrent") {
  const provider = new ScriptedProvider(schedule[1]);
  const clock = new DecisionClock(new SimulatedClock(T0));
  const { cached, log } = makeCached(config, { backend, embedder: new SlowEmbedder(schedule[2]), clock, provider });
  const one = (s: Step) => atDecisionTime(s.at, () => cached.complete({ task: "forecast", messages: ask(s.q), answer: forecastAnswer }));
  const outcomes = [];
  if (mode === "serial") for (const s of steps) outcomes.push(await one(s));
  else outcomes.push(...(await Promise.all(steps.map(one))));
  const observed: Observed[] = outcomes.map((o) => {
    if (!o.ok) return { kind: "error", answer: o.errorClass, simTs: null };
    const row = log.calls.find((c) => c.callId === o.callId);
    return { kind: row?.cache ?? "miss", answer: o.answer, simTs: row?.simTs ?? null };
  });
  const stats = await cached.stats();
  await cached.close();
  // Arrival order at the provider differs when requests overlap; what is sent does not.
  return { observed, sent: [...provider.received].sort(), stats };
}

describe.each(backends)("%s backend, concurrent requests", (_name, open) => {
  it.each(schedules)("give the same provider requests, hits and answers as serial ones (%s)", async (...schedule) => {
    const serial = await run(script, await open(), schedule, "serial");
    expect(serial.observed.map((o) => o.kind)).toEqual(script.map((s) => s.expect));
    expect(serial.observed.map((o) => o.simTs)).toEqual(script.map((s) => (s.expect === "error" ? null : s.at)));

    const concurrent = await run(script, await open(), schedule, "concurrent");
    expect(concurrent.observed).toEqual(serial.observed);
    expect(concurrent.sent).toEqual(serial.sent);
    expect(concurrent.stats).toEqual(serial.stats);
    // A prompt is sent again only after its first call failed or its answer passed the TTL.
    expect(serial.sent.filter((q, i) => serial.sent.indexOf(q) !== i)).toEqual([eth, btc("0.42"), btc("0.43")].sort());
  });
});

describe("concurrent requests, edge cases (memory backend)", () => {
  const fast = schedules[0]!;

  it("decision times that go backwards in issue order: a request never sees what a later-issued one stored", async () => {
    // The second is issued after the first but decided earlier; it answers first (its prompt is fast and the first's embedding is slow).
    const steps: Step[] = [
      { at: T0 + 10 * MIN, q: btc("0.42"), expect: "miss" },
      { at: T0 + 5 * MIN, q: btc("0.43"), expect: "miss" }, // the first one's answer is made after its time
      { at: T0 + 20 * MIN, q: btc("0.44"), expect: "semantic" },
    ];
    const schedule: (typeof schedules)[number] = ["first slow", (t) => (t === btc("0.43") ? 0 : 10), (t) => (t === btc("0.42") ? 30 : 0)];
    const serial = await run(steps, new MemoryCache(), schedule, "serial");
    expect(serial.observed.map((o) => o.kind)).toEqual(steps.map((s) => s.expect));
    const concurrent = await run(steps, new MemoryCache(), schedule, "concurrent");
    expect(concurrent.observed).toEqual(serial.observed);
    expect(concurrent.sent).toEqual(serial.sent);
  });

  it("many duplicates at once: one provider call, every other one an exact hit with the same answer", async () => {
    const steps: Step[] = Array.from({ length: 20 }, (_, i) => ({ at: T0 + Math.floor(i / 5) * MIN, q: btc("0.42"), expect: i === 0 ? "miss" : "exact" }));
    const serial = await run(steps, new MemoryCache(), fast, "serial");
    const concurrent = await run(steps, new MemoryCache(), fast, "concurrent");
    expect(concurrent.observed).toEqual(serial.observed);
    expect(concurrent.sent).toEqual([btc("0.42")]);
    expect(new Set(concurrent.observed.map((o) => JSON.stringify(o.answer))).size).toBe(1);
  });

  it("requests of one instant with different prompts do not wait for each other", async () => {
    const provider = new ScriptedProvider(() => 30);
    const { cached } = makeCached(config, { embedder: new BagOfWordsEmbedder(), clock: new DecisionClock(new SimulatedClock(T0)), provider });
    let inFlight = 0;
    let most = 0;
    const inner = provider.complete.bind(provider);
    provider.complete = async (request) => {
      most = Math.max(most, ++inFlight);
      try {
        return await inner(request);
      } finally {
        inFlight -= 1;
      }
    };
    const prompts = [btc("0.42"), btc("0.43"), btc("0.44"), lakers("0.55"), lakers("0.56")];
    await Promise.all(prompts.map((q) => atDecisionTime(T0, () => cached.complete({ task: "forecast", messages: ask(q), answer: forecastAnswer }))));
    expect(provider.calls).toBe(5);
    expect(most).toBe(5);
  });
});
