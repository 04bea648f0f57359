/**
 * Order latency: how long an order takes from the decision that placed it
 * to the venue (DESIGN.md "The pipeline"). A paper order is not fillable
 * before then: a resting order (print-maker) only meets prints that came
 * after it arrived, never the print the strategy decided on; a taker order
 * (quote, book) meets the quote or book standing when it arrives, checked at
 * the first event at or after then, which is still the one the strategy saw
 * when nothing newer was recorded in between.
 *
 * - `fixed` (the only model today): a constant delay, the run config's
 *   `broker.latencyMs` (default 500 ms of the run's clock). It is applied
 *   after the model latency (modelLatency.ts).
 *
 * Cannot know: the exchange's real round trip under load, queueing at the
 * venue, rejections for rate limits.
 */

/** When an order submitted at `submitTs` becomes fillable at the venue. */
export function orderFillableAt(submitTs: number, latencyMs: number): number {
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new RangeError(`order latency must be a finite number of ms ≥ 0, got ${String(latencyMs)}`);
  return submitTs + latencyMs;
}
