/**
 * Locating a byte that is not UTF-8 in a CSV file (the import error names
 * its line and column): properties over random CSV text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstNonUtf8, splitCsvLine } from "../../datasets/importers/staging.ts";

const cell = fc.string({ unit: "grapheme", maxLength: 8 }).map((s) => s.replace(/[",\n\r]/g, ""));
const line = fc.array(cell, { minLength: 1, maxLength: 6 });

describe("firstNonUtf8", () => {
  it("finds nothing in valid UTF-8 text", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        expect(firstNonUtf8(Buffer.from(lines.map((l) => l.join(",")).join("\n"), "utf8"))).toBeNull();
      }),
    );
  });

  it("names the line and the column of a planted invalid byte", () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(0xff, 0xfe, 0xc0, 0x80),
        (lines, li, ci, byte) => {
          const at = li % lines.length;
          const cells = lines[at]!;
          const column = ci % cells.length;
          const parts = lines.map((l) => Buffer.from(l.join(","), "utf8"));
          const before = Buffer.from([...cells.slice(0, column), ""].join(","), "utf8");
          const after = Buffer.from([cells[column], ...cells.slice(column + 1)].join(","), "utf8");
          parts[at] = Buffer.concat([before, Buffer.from([byte]), after]);
          const text = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from("\n"), p])));
          expect(firstNonUtf8(text)).toEqual({ line: at + 1, column, byte });
        },
      ),
    );
  });
});

describe("splitCsvLine", () => {
  it("splits on commas outside quotes and undoes doubled quotes", () => {
    expect(splitCsvLine('a,"b,c","say ""hi""", d ')).toEqual(["a", "b,c", 'say "hi"', "d"]);
  });
});
