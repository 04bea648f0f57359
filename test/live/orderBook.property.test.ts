/**
 * The order book kept from a snapshot plus deltas equals the book the
 * deltas describe: for any snapshot and any sequence of additive changes
 * that never take a level below zero, applying them one by one gives the
 * levels computed directly; a change that would go below zero marks the
 * book stale instead of publishing a wrong one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderBook } from "../../harness/live/orderBook.ts";

const price = fc.integer({ min: 1, max: 99 }).map((c) => (c / 100).toFixed(4));
const side = fc.constantFrom<"yes" | "no">("yes", "no");

describe("OrderBook", () => {
  it("snapshot + deltas = the levels they sum to", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(side, price, fc.integer({ min: 1, max: 500 })), { maxLength: 20 }),
        fc.array(fc.tuple(side, price, fc.integer({ min: -300, max: 300 })), { maxLength: 60 }),
        (snap, deltas) => {
          const truth = { yes: new Map<string, number>(), no: new Map<string, number>() };
          for (const [s, p, q] of snap) truth[s].set(p, (truth[s].get(p) ?? 0) + q);
          const book = new OrderBook("T");
          const levels = (s: "yes" | "no") => [...truth[s].entries()].map(([p, q]) => [p, `${q}.00`] as [string, string]);
          book.applySnapshot(levels("yes"), levels("no"), 1);
          for (const [s, p, d] of deltas) {
            const next = (truth[s].get(p) ?? 0) + d;
            if (next < 0) continue; // the exchange never sends these; see the next test
            const ok = book.applyDelta(s, p, `${d}.00`, 2);
            expect(ok).toBe(true);
            if (next === 0) truth[s].delete(p);
            else truth[s].set(p, next);
          }
          const expected = (s: "yes" | "no") =>
            [...truth[s].entries()].filter(([, q]) => q > 0).map(([p, q]) => [Math.round(Number(p) * 10_000), q]).sort((a, b) => b[0]! - a[0]!);
          const e = book.toEvent(3);
          expect(e.yes).toEqual(expected("yes"));
          expect(e.no).toEqual(expected("no"));
          expect(book.stale).toBe(false);
        },
      ),
    );
  });

  it("a delta below zero marks the book stale and is refused, as are deltas until a snapshot", () => {
    const book = new OrderBook("T");
    expect(book.stale).toBe(true);
    expect(book.applyDelta("yes", "0.4000", "5.00", 1)).toBe(false);
    book.applySnapshot([["0.4000", "5.00"]], [], 1);
    expect(book.applyDelta("yes", "0.4000", "-6.00", 2)).toBe(false);
    expect(book.stale).toBe(true);
    expect(book.applyDelta("yes", "0.4000", "-1.00", 3)).toBe(false);
    book.applySnapshot([["0.4000", "1.50"]], [["0.5500", "2.25"]], 4);
    expect(book.toEvent(4)).toEqual({ kind: "book", ts: 4, ticker: "T", yes: [[4000, 1.5]], no: [[5500, 2.25]] });
    // Fractional contracts stay on the 0.01 grid: adding and removing cancels exactly.
    expect(book.applyDelta("no", "0.5500", "0.10", 5)).toBe(true);
    expect(book.applyDelta("no", "0.5500", "-2.35", 6)).toBe(true);
    expect(book.toEvent(6).no).toEqual([]);
  });
});
