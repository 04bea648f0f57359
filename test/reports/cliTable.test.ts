/** Terminal tables: money columns (a heading ending in "$") read as dollars and cents, other numbers keep their precision. */
import { describe, expect, it } from "vitest";
import { formatTable, formatUsd } from "../../harness/cli/table.ts";

describe("terminal tables", () => {
  it("prints money to the cent, spend under a dollar to a hundredth of a cent", () => {
    expect(formatUsd(-115.7)).toBe("-115.70");
    expect(formatUsd(-61.07)).toBe("-61.07");
    expect(formatUsd(1234.5)).toBe("1,234.50");
    expect(formatUsd(0)).toBe("0.00");
    expect(formatUsd(0.000141)).toBe("0.0001");
    expect(formatUsd(0.0123)).toBe("0.0123");
  });

  it("formats a column by its heading and right-aligns numbers", () => {
    const out = formatTable(["run", "brier", "P&L $", "AI $"], [["a", 0.13504, -61.07, 0.0123], ["bb", 0.46871, -115.7, 0]]).split("\n");
    expect(out[0]).toBe("run   brier    P&L $    AI $");
    expect(out[2]).toBe("a    0.1350   -61.07  0.0123");
    expect(out[3]).toBe("bb   0.4687  -115.70    0.00");
  });
});
