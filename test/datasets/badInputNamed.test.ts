/**
 * The bad inputs an audit found reported badly (issue 10): each now stops
 * the import with one line naming the file, the row (1-based data row; 0 is
 * a CSV header) and the field, and leaves nothing that looks like a dataset.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { importKalshi } from "../../datasets/importers/kalshi.ts";
import { importForecastBench } from "../../datasets/importers/forecastbench.ts";
import { InputError } from "../../datasets/inputError.ts";
import { FIXTURES, copyFixture, listing, tempDir } from "./helpers.ts";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function failure(run: () => Promise<unknown>, left: string[]): Promise<string> {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect(await listing(tmp.dir)).toEqual(left);
  const message = (error as InputError).message;
  expect(message).not.toContain("\n");
  return message;
}

const kalshiFails = async (src: string): Promise<string> => failure(() => importKalshi(src, join(tmp.dir, "out")), ["kalshi-csv"]);

const TRADES_HEADER = "ticker,created_time,price,count,taker_side,trade_id";

describe("bad Kalshi CSV input is named by file, row and column", () => {
  it("a non-UTF-8 byte in one trades file: the file, the data row, the column and the reason", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXXRPD-25NOV0817-T2.2799.csv");
    const lines = (await readFile(file)).toString("latin1").split("\n");
    // Data row 3 (line 4): a Latin-1 byte 0xFF inside taker_side.
    lines[3] = (lines[3] ?? "").replace(",no,", ",n\xffo,");
    await writeFile(file, Buffer.from(lines.join("\n"), "latin1"));
    expect(await kalshiFails(src)).toBe(`${file} row 3 field taker_side: byte 0xff is not UTF-8: the file is not UTF-8 text (re-encode it as UTF-8)`);
  });

  it("a 0-byte trades file is refused, not read as no trades", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXCSGOGAME-FALFUR25-FUR.csv");
    await writeFile(file, "");
    expect(await kalshiFails(src)).toBe(`${file} field (file): empty file (0 bytes, not even a header); refusing it rather than reading it as no rows`);
  });

  it("a trades file with a header and no rows is a market without trades, and imports", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    let others = 0;
    for (const name of ["KXBTCD-25NOV0909-T102749.99.csv", "KXCSGOGAME-FALFUR25-FAL.csv", "KXXRPD-25NOV0817-T2.2799.csv"]) {
      others += (await readFile(join(src, "trades", name), "utf8")).split("\n").filter((l) => l !== "").length - 1;
    }
    await writeFile(join(src, "trades", "KXCSGOGAME-FALFUR25-FUR.csv"), `${TRADES_HEADER}\n`);
    const manifest = await importKalshi(src, join(tmp.dir, "out"));
    expect(manifest.tables.trades?.rows).toBe(others);
  });

  it("a missing column is named as missing, in the file that lacks it, not as a price out of range", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXBTCD-25NOV0909-T102749.99.csv");
    const text = await readFile(file, "utf8");
    // Drop the price column (the third) from every line of this one file; the other files keep it.
    await writeFile(file, text.split("\n").map((l) => (l === "" ? l : l.split(",").filter((_, i) => i !== 2).join(","))).join("\n"));
    expect(await kalshiFails(src)).toBe(
      `${file} row 0 (header) field price: missing column (also accepted: yes_price_dollars, yes_price); the header has ticker, created_time, count, taker_side, trade_id`,
    );
  });

  it("a missing close_time column is named close_time", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "enriched_markets.csv");
    const text = await readFile(file, "utf8");
    const header = text.split("\n")[0]!.split(",");
    const at = header.indexOf("close_time");
    expect(at).toBeGreaterThan(0);
    await writeFile(file, text.split("\n").map((l) => (l === "" ? l : l.split(",").filter((_, i) => i !== at).join(","))).join("\n"));
    expect(await kalshiFails(src)).toMatch(new RegExp(`^${file.replaceAll(".", "\\.")} row 0 \\(header\\) field close_time: missing column; the header has ticker, event_ticker, `));
  });

  it("a close_time cell left empty is a missing value on that row, not an open_time problem", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "enriched_markets.csv");
    const lines = (await readFile(file, "utf8")).split("\n");
    lines[2] = (lines[2] ?? "").replace(/,2025-[^,]+Z,/, ",,");
    await writeFile(file, lines.join("\n"));
    expect(await kalshiFails(src)).toBe(`${file} row 2 field close_time: missing value (expected an ISO-8601 time)`);
  });

  it("an empty markets file (a header, no rows) is said to be empty, not reported as an unknown ticker", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "enriched_markets.csv");
    await writeFile(file, `${(await readFile(file, "utf8")).split("\n")[0]}\n`);
    expect(await kalshiFails(src)).toBe(`${file} field (file): no markets: the markets input holds no rows, so no trade, quote or book can be placed`);
  });

  it("a 0-byte markets file is refused as empty", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "enriched_markets.csv");
    await writeFile(file, "");
    expect(await kalshiFails(src)).toBe(`${file} field (file): empty file (0 bytes, not even a header); refusing it rather than reading it as no rows`);
  });
});

describe("a ForecastBench resolution set must belong to the question set", () => {
  const questions = join(FIXTURES, "forecastbench", "2025-10-26-llm.json");
  const ownResolutions = join(FIXTURES, "forecastbench", "2025-10-26_resolution_set.json");
  const fbFails = (resolutions: string): Promise<string> => failure(() => importForecastBench(questions, resolutions, join(tmp.dir, "out")), ["res.json"]);

  it("refuses a resolution set that names another question set", async () => {
    const set = JSON.parse(await readFile(ownResolutions, "utf8")) as Record<string, unknown>;
    set["question_set"] = "2025-11-09-llm.json";
    const file = join(tmp.dir, "res.json");
    await writeFile(file, JSON.stringify(set));
    expect(await fbFails(file)).toBe(`${file} field question_set: resolves question set 2025-11-09-llm.json, not 2025-10-26-llm.json (the question set given)`);
  });

  it("refuses a resolution set whose ids meet none of the market questions", async () => {
    const set = JSON.parse(await readFile(ownResolutions, "utf8")) as { resolutions: Array<Record<string, unknown>> } & Record<string, unknown>;
    delete set["question_set"];
    for (const r of set.resolutions) r["id"] = `other-${String(r["id"])}`;
    const file = join(tmp.dir, "res.json");
    await writeFile(file, JSON.stringify(set));
    const markets = set.resolutions.filter((r) => ["polymarket", "manifold", "metaculus", "infer"].includes(String(r["source"]))).length;
    expect(await fbFails(file)).toBe(
      `${file} field id: none of its ${markets} market resolutions has the id of any of the 8 market questions in ${questions}: it belongs to another question set`,
    );
  });
});

describe("bad saved-API input", () => {
  it("a 0-byte trades JSONL file is refused, not read as no trades", async () => {
    const src = await copyFixture("kalshi-api", tmp.dir);
    const file = join(src, "trades.jsonl");
    await writeFile(file, "");
    expect(await failure(() => importKalshi(src, join(tmp.dir, "out")), ["kalshi-api"])).toBe(
      `${file} field (file): empty file (0 bytes); refusing it rather than reading it as no records`,
    );
  });
});
