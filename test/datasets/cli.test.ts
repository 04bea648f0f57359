/** End to end through the real `tapedeck` bin: import → validate → info, and a bad import. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { copyFixture, FIXTURES, listing, tempDir } from "./helpers.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { datasetInfo } from "../../datasets/info.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function tapedeck(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tapedeck.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const InfoJson = z.object({
  rows: z.record(z.string(), z.number()),
  results: z.object({ yes: z.number(), no: z.number(), unresolved: z.number() }),
  tickersWith: z.object({ trades: z.number() }),
  marketsByCategory: z.array(z.object({ category: z.string().nullable(), total: z.number(), yes: z.number(), no: z.number(), unresolved: z.number() })),
  capabilities: z.object({ hasBidAsk: z.boolean(), hasNews: z.boolean() }),
  hash: z.string().length(64),
});

describe("tapedeck import / dataset (CLI)", () => {
  it("round trip: import kalshi with --news, validate, info", async () => {
    const out = join(tmp.dir, "ds");
    const imported = tapedeck("import", "kalshi", join(FIXTURES, "kalshi-csv"), "-o", out, "--news", join(FIXTURES, "news"));
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^wrote .*: markets 6, trades 84, news 26 \(/);

    const validated = tapedeck("dataset", "validate", out);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toMatch(/valid \(dataset hash [0-9a-f]{64}\)/);

    const info = tapedeck("dataset", "info", out, "--json");
    expect(info.code).toBe(0);
    const parsed = InfoJson.parse(JSON.parse(info.stdout));
    expect(parsed.rows).toEqual({ markets: 6, trades: 84, news: 26 });
    expect(parsed.results).toEqual({ yes: 3, no: 3, unresolved: 0 });
    expect(parsed.tickersWith.trades).toBe(4);
    expect(parsed.marketsByCategory).toEqual([
      { category: "Sports", total: 4, yes: 1, no: 3, unresolved: 0 },
      { category: "Crypto", total: 2, yes: 2, no: 0, unresolved: 0 },
    ]);
    expect(parsed.capabilities).toMatchObject({ hasBidAsk: false, hasNews: true });

    const text = tapedeck("dataset", "info", out);
    expect(text.stdout).toContain("markets: 6 (3 yes / 3 no / 0 unresolved)");
    expect(text.stdout).toContain("trades             84 rows over 4 tickers");
  });

  it("a bad input: one-line error naming file, row and field, exit 1, nothing left that looks complete", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXCSGOGAME-FALFUR25-FUR.csv");
    const lines = (await readFile(file, "utf8")).split("\n");
    lines[7] = (lines[7] ?? "").replace(/,(yes|no),/, ",sideways,");
    await writeFile(file, lines.join("\n"));
    const out = join(tmp.dir, "ds");
    const r = tapedeck("import", "kalshi", src, "-o", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tapedeck: ${file} row 7 field taker_side: taker_side must be yes or no (value sideways)\n`);
    expect(existsSync(out)).toBe(false);
    expect(await listing(tmp.dir)).toEqual(["kalshi-csv"]);
  });

  it("validate exits 1 and lists the problem for a damaged dataset", async () => {
    const out = join(tmp.dir, "ds");
    expect(tapedeck("import", "kalshi", join(FIXTURES, "kalshi-csv"), "-o", out).code).toBe(0);
    await writeFile(join(out, "markets.parquet"), "not parquet");
    const r = tapedeck("dataset", "validate", out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${join(out, "markets.parquet")} field sha256: sha256`);
    expect(r.stderr).toMatch(/problems?\n$/);
  });
});

describe("the bundled sample (datasets/sample)", () => {
  it("validates and holds the documented real data", async () => {
    const dir = join(ROOT, "datasets", "sample");
    const report = await validateDataset(dir);
    expect(report.problems).toEqual([]);
    const info = await datasetInfo(dir);
    expect(info.rows).toEqual({ markets: 56, trades: 29_679, news: 201 });
    expect(info.results).toEqual({ yes: 29, no: 27, unresolved: 0 });
    expect(info.tickersWith.trades).toBe(56);
    expect(info.marketsByCategory.map((c) => [c.category, c.total])).toEqual([
      ["Crypto", 34],
      ["Sports", 22],
    ]);
    expect(existsSync(join(dir, "PROVENANCE.md"))).toBe(true);
  });
});
