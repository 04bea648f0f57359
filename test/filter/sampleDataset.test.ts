/**
 * The filter layers on the bundled real sample (56 Kalshi markets, 29,679
 * trades, 2025-11-07..09, BBC/NYT headlines), replayed through the real
 * ReplaySource (DuckDB over Parquet): how many model calls each ablation
 * layer lets through, and that the figures repeat exactly.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { buildEventFilter } from "../../harness/filter/buildEventFilter.ts";
import { countFilterCalls } from "../../harness/filter/countFilterCalls.ts";
import { ABLATION_FILTER_LAYERS, ablationFilterConfig } from "../../harness/filter/filterConfig.ts";
import type { FilterCallCount } from "../../harness/filter/countFilterCalls.ts";

const SAMPLE = join(import.meta.dirname, "../../datasets/sample");

async function count(layer: (typeof ABLATION_FILTER_LAYERS)[number]): Promise<FilterCallCount> {
  const source = await ReplaySource.open(SAMPLE);
  try {
    return await countFilterCalls(source.events(), buildEventFilter(ablationFilterConfig(layer)));
  } finally {
    await source.close();
  }
}

describe("filter layers on the bundled sample", () => {
  it("each layer from none to sampling cuts calls; figures repeat exactly", async () => {
    const figures: Record<string, FilterCallCount> = {};
    for (const layer of ABLATION_FILTER_LAYERS) figures[layer] = await count(layer);
    const calls = ABLATION_FILTER_LAYERS.map((l) => figures[l]!.calls);
    const none = figures.none!;
    expect(none.marketEvents).toBe(29_679);
    // none: only the 60 s interval; filter: triggers and pre-score; sampling: adaptive gate; batching: low priority batched.
    expect(calls).toEqual([4_506, 3_269, 2_093, 2_054]);
    expect(none.passed).toEqual({ event: 4_506 });
    expect(none.dropped).toEqual({ min_interval: 25_156, market_closed: 17 });
    // Every market got its first look; batched first looks left by timeout.
    expect(figures.filter!.passed.first_look).toBe(56);
    expect(figures.batching!.passed.batch_timeout).toBe(42);
    // The sample's BBC/NYT headlines name none of its 56 markets.
    expect(figures.filter!.dropped.news_unmatched).toBe(201);
    expect((await count("batching")).calls).toBe(calls[3]);
  });
});
