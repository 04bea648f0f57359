/**
 * The fill models, one file each under ./fills/ with its assumptions in its
 * header (harness/REALISM.md lists them with their parameters):
 *
 * - `quote` (fills/takerAtQuote.ts): a marketable order takes the touch.
 * - `book` (fills/takerBookWalk.ts): a marketable order walks the book.
 * - `print-maker` (fills/makerOnPrints.ts): trades-only data; the order rests
 *   at its limit and fills there, as a maker, only on later prints whose
 *   taker traded against it, capped by participation and the queue ahead.
 * - `trade-print` (fills/tradePrintMid.ts): the older, optimistic print
 *   model (print ± half-spread, any taker side), kept for comparison.
 *
 * This module only gathers them, so callers keep one import.
 */
export * from "./fills/common.ts";
export * from "./fills/takerAtQuote.ts";
export * from "./fills/takerBookWalk.ts";
export * from "./fills/makerOnPrints.ts";
export * from "./fills/tradePrintMid.ts";
