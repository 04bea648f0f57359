import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { centsToDollars, complementPrice, isoToMs, isValidDollarPrice, parseDollars, roundDollars, secondsToMs } from "../../datasets/convert.ts";
import { centsToUnits, dollarsToUnits } from "../../harness/money/money.ts";
import { openDb, type Db } from "../../harness/db/duckdb.ts";
import { cents, dollars, isoMs } from "../../datasets/importers/staging.ts";

describe("price and time conversions (pure)", () => {
  it("cents → dollars agrees with cents → exact units for every legacy cent price", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), (c) => {
        expect(dollarsToUnits(centsToDollars(c))).toBe(centsToUnits(c));
      }),
    );
  });

  it("a 4-decimal dollar string parses to exactly its units", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), (units) => {
        const text = `0.${String(units).padStart(4, "0")}`;
        const d = parseDollars(text);
        expect(d).not.toBeNull();
        expect(dollarsToUnits(d ?? -1)).toBe(units);
        expect(isValidDollarPrice(d ?? -1)).toBe(true);
      }),
    );
  });

  it("YES bid ↔ NO ask complement is an involution and preserves validity", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), (units) => {
        const p = units / 10_000;
        expect(complementPrice(complementPrice(p))).toBe(roundDollars(p));
        expect(dollarsToUnits(p) + dollarsToUnits(complementPrice(p))).toBe(10_000);
        expect(isValidDollarPrice(complementPrice(p))).toBe(true);
      }),
    );
  });

  it("rounding to 4 decimals never moves a price by more than half a unit and is idempotent", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (x) => {
        const r = roundDollars(x);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.00005 + 1e-12);
        expect(roundDollars(r)).toBe(r);
      }),
    );
  });

  it("ISO-8601 times: zone-less is UTC, fractions beyond ms are truncated, seconds scale to ms", () => {
    fc.assert(
      fc.property(fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: 999 }), (ms, micros) => {
        const iso = new Date(ms).toISOString(); // ends in Z
        const naive = iso.slice(0, -1);
        expect(isoToMs(iso)).toBe(ms);
        expect(isoToMs(naive)).toBe(ms);
        expect(isoToMs(`${naive}${String(micros).padStart(3, "0")}Z`)).toBe(ms);
        expect(isoToMs(iso.replace("Z", "+00:00"))).toBe(ms);
        expect(secondsToMs(Math.floor(ms / 1000))).toBe(Math.floor(ms / 1000) * 1000);
      }),
    );
    expect(isoToMs("2025-11-04T12:22:58.404735")).toBe(Date.UTC(2025, 10, 4, 12, 22, 58, 404));
    expect(isoToMs("not a time")).toBeNull();
  });
});

describe("the importers' SQL conversions agree with the pure ones", () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb();
    await db.connection.run("SET TimeZone = 'UTC'");
  });
  afterAll(() => db.close());

  it("cents, dollar strings and ISO times convert identically in DuckDB", async () => {
    const samples = fc.sample(
      fc.record({
        c: fc.integer({ min: 0, max: 100 }),
        u: fc.integer({ min: 1, max: 9999 }),
        ms: fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
        micros: fc.integer({ min: 0, max: 999 }),
        zone: fc.boolean(),
      }),
      { numRuns: 300, seed: 7 },
    );
    const rows = samples.map((s) => {
      const iso = new Date(s.ms).toISOString().slice(0, -1) + String(s.micros).padStart(3, "0") + (s.zone ? "Z" : "");
      return { ...s, d: `0.${String(s.u).padStart(4, "0")}`, iso };
    });
    const values = rows.map((r) => `('${r.c}', '${r.d}', '${r.iso}')`).join(", ");
    const reader = await db.connection.runAndReadAll(
      `SELECT ${cents("c")} AS c, ${dollars("d")} AS d, ${isoMs("t")}::DOUBLE AS t FROM (VALUES ${values}) AS v(c, d, t)`,
    );
    const out = reader.getRowObjectsJson();
    expect(out).toHaveLength(rows.length);
    out.forEach((o, i) => {
      const r = rows[i];
      if (!r) throw new Error("row missing");
      expect(o["c"]).toBe(centsToDollars(r.c));
      expect(o["d"]).toBe(parseDollars(r.d));
      expect(Number(o["t"])).toBe(isoToMs(r.iso));
    });
  });
});
