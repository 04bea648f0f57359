/** Fee types per series and fee schedules over time (harness/broker/fees.ts, feeChanges.ts). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FeeTimeline, loadFeeChanges, parseFeeChanges } from "../../harness/broker/feeChanges.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { market, writeTinyDataset } from "../fixtures/tinyDataset.ts";
import { DEFAULT_FEE_SCHEDULE, fillFee, orderFee, type FeeSchedule } from "../../harness/broker/fees.ts";

const s = (o: Partial<FeeSchedule>): FeeSchedule => ({ ...DEFAULT_FEE_SCHEDULE, ...o });

describe("fee types", () => {
  it("quadratic_with_maker_fees charges makers 0.0175 even with the maker switch off", () => {
    // 100 × 0.0175 × 0.40 × 0.60 = $0.42 exactly; quadratic with makerFees off: free.
    expect(fillFee(100, 4000, "maker", s({ feeType: "quadratic_with_maker_fees" }))).toBe(4200);
    expect(fillFee(100, 4000, "maker", s({ feeType: "quadratic" }))).toBe(0);
    // Takers are charged the same under both: 100 × 0.07 × 0.24 = $1.68.
    expect(fillFee(100, 4000, "taker", s({ feeType: "quadratic_with_maker_fees" }))).toBe(16800);
    expect(fillFee(100, 4000, "taker", s({ feeType: "quadratic" }))).toBe(16800);
  });

  it("quadratic_with_combo_maker_fees charges single-market makers nothing", () => {
    expect(fillFee(100, 4000, "maker", s({ feeType: "quadratic_with_combo_maker_fees" }))).toBe(0);
    expect(fillFee(100, 4000, "taker", s({ feeType: "quadratic_with_combo_maker_fees" }))).toBe(16800);
  });

  it("multiplier scales quadratic fees: × 0.5 halves 1.68 to 0.84; 3 at $0.33 × 1.5 = 0.07 × 1.5 × 3 × 0.2211 = 696.465 → 697 units", () => {
    expect(fillFee(100, 4000, "taker", s({ multiplier: 0.5 }))).toBe(8400);
    expect(fillFee(3, 3300, "taker", s({ multiplier: 1.5 }))).toBe(697);
  });

  it("flat charges a fixed fee per contract × multiplier, rounded up to a unit; refuses to guess one", () => {
    expect(fillFee(7, 4000, "taker", s({ feeType: "flat", flatFeeUnits: 100 }))).toBe(700);
    expect(fillFee(7, 9000, "taker", s({ feeType: "flat", flatFeeUnits: 100 }))).toBe(700); // price does not matter
    expect(fillFee(3, 4000, "taker", s({ feeType: "flat", flatFeeUnits: 33, multiplier: 0.5 }))).toBe(50); // 49.5 → 50
    expect(fillFee(0.5, 4000, "taker", s({ feeType: "flat", flatFeeUnits: 33 }))).toBe(17); // 16.5 → 17
    expect(fillFee(7, 4000, "maker", s({ feeType: "flat", flatFeeUnits: 100 }))).toBe(0);
    expect(orderFee([fillFee(7, 4000, "taker", s({ feeType: "flat", flatFeeUnits: 100 }))])).toBe(700);
    expect(() => fillFee(7, 4000, "taker", s({ feeType: "flat" }))).toThrow(/flat needs flatFeeUnits/);
  });

  it("property: a quadratic fee is the exact integer ceil(rate·mult·C·p·(10000−p)) with rate and multiplier in millionths", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 3_000_000 }), (c, p, multMillionths) => {
        const mult = multMillionths / 1e6;
        const num = 70_000n * BigInt(Math.round(mult * 1e6)) * BigInt(c) * BigInt(p) * BigInt(10_000 - p);
        const den = 10n ** 16n;
        expect(fillFee(c, p, "taker", s({ multiplier: mult }))).toBe(Number((num + den - 1n) / den));
      }),
    );
  });
});

describe("fee schedules over time", () => {
  const doc = {
    series_fee_change_arr: [
      { id: "b", series_ticker: "KXA", fee_type: "quadratic_with_maker_fees", fee_multiplier: 2, scheduled_ts: "2025-11-10T00:00:00Z" },
      { id: "a", series_ticker: "KXA", fee_type: "quadratic", fee_multiplier: 0.5, scheduled_ts: "2025-11-05T00:00:00Z" },
    ],
  };
  const t = (iso: string) => Date.parse(iso);

  it("charges a fill by the schedule in force at its time; before the first change, the config's", () => {
    const timeline = new FeeTimeline(DEFAULT_FEE_SCHEDULE, { KXA: { makerFees: false } }, parseFeeChanges(doc, "fee_changes.json"));
    const fee = (iso: string, liq: "taker" | "maker") => fillFee(100, 4000, liq, timeline.at("KXA", t(iso)));
    expect(fee("2025-11-04T23:59:59.999Z", "taker")).toBe(16800); // config: × 1
    expect(fee("2025-11-05T00:00:00Z", "taker")).toBe(8400); // change a in force from its own instant: × 0.5
    expect(fee("2025-11-09T12:00:00Z", "maker")).toBe(0);
    expect(fee("2025-11-10T00:00:00Z", "taker")).toBe(33600); // change b: × 2
    expect(fee("2025-11-10T00:00:00Z", "maker")).toBe(8400); // and makers pay 0.0175 × 2
    expect(timeline.at("KXOTHER", t("2025-11-11T00:00:00Z"))).toEqual(DEFAULT_FEE_SCHEDULE);
  });

  it("reads fee_changes.json from a dataset folder (Kalshi's response or a bare array); none means no changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapedeck-fees-"));
    expect(loadFeeChanges(dir)).toEqual([]);
    writeFileSync(join(dir, "fee_changes.json"), JSON.stringify(doc.series_fee_change_arr));
    expect(loadFeeChanges(dir).map((c) => [c.seriesTicker, c.ts, c.feeType, c.multiplier])).toEqual([
      ["KXA", t("2025-11-10T00:00:00Z"), "quadratic_with_maker_fees", 2],
      ["KXA", t("2025-11-05T00:00:00Z"), "quadratic", 0.5],
    ]);
  });

  it("the dataset hash covers fee_changes.json: a resume or comparison sees a changed schedule", async () => {
    const dir = await writeTinyDataset(join(mkdtempSync(join(tmpdir(), "tapedeck-fees-")), "ds"), { markets: [market("KXA-1", { result: "yes" })] });
    const hashOf = async () => {
      const source = await ReplaySource.open(dir);
      try {
        return (await source.describe()).hash;
      } finally {
        await source.close();
      }
    };
    const without = await hashOf();
    writeFileSync(join(dir, "fee_changes.json"), JSON.stringify(doc.series_fee_change_arr));
    const withChanges = await hashOf();
    writeFileSync(join(dir, "fee_changes.json"), JSON.stringify(doc.series_fee_change_arr.slice(0, 1)));
    const withOne = await hashOf();
    expect(new Set([without, withChanges, withOne]).size).toBe(3);
    expect(await hashOf()).toBe(withOne);
  });

  it("refuses a bad entry naming the file, the entry and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapedeck-fees-"));
    const path = join(dir, "fee_changes.json");
    writeFileSync(path, JSON.stringify({ series_fee_change_arr: [doc.series_fee_change_arr[0], { series_ticker: "KXB", fee_type: "cubic", fee_multiplier: 1, scheduled_ts: "2025-11-05T00:00:00Z" }] }));
    expect(() => loadFeeChanges(dir)).toThrow(new RegExp(`^${path.replaceAll(".", "\\.")} entry 1 field fee_type: `));
    writeFileSync(path, JSON.stringify([{ series_ticker: "KXB", fee_type: "flat", fee_multiplier: 1, scheduled_ts: "yesterday" }]));
    expect(() => loadFeeChanges(dir)).toThrow(new RegExp(`entry 0 field scheduled_ts: `));
    writeFileSync(path, "{ not json");
    expect(() => loadFeeChanges(dir)).toThrow(/fee_changes\.json: not valid JSON/);
    writeFileSync(path, JSON.stringify({ changes: [] }));
    expect(() => loadFeeChanges(dir)).toThrow(/expected \{"series_fee_change_arr": \[\.\.\.\]\}/);
  });
});
