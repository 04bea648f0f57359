/**
 * One test per bad-input class: the error names the file, the row and the
 * field, and a failed import leaves nothing that looks like a dataset.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFile, writeFile, appendFile } from "node:fs/promises";
import { join } from "node:path";
import { importKalshi } from "../../datasets/importers/kalshi.ts";
import { importNews } from "../../datasets/importers/news.ts";
import { InputError } from "../../datasets/inputError.ts";
import { validateDataset, formatValidationProblem } from "../../datasets/validate.ts";
import { openDb, sqlString } from "../../harness/db/duckdb.ts";
import { fileSha256 } from "../../datasets/sha256.ts";
import { TABLE_COLUMNS, type TableName } from "../../datasets/format.ts";
import { copyFixture, listing, tempDir } from "./helpers.ts";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** Replace line `line` (0 = header) of a text file. */
async function editLine(path: string, line: number, edit: (text: string) => string): Promise<void> {
  const lines = (await readFile(path, "utf8")).split("\n");
  lines[line] = edit(lines[line] ?? "");
  await writeFile(path, lines.join("\n"));
}

async function importFails(src: string, out: string): Promise<string> {
  const error = await importKalshi(src, out).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  // Nothing that looks complete: no output folder, no partial folder left behind.
  expect(await listing(tmp.dir)).toEqual(["kalshi-api", "kalshi-csv"].filter((n) => src.endsWith(n)));
  return (error as InputError).message;
}

describe("import errors name file, row and field", () => {
  it("price outside (0, 1)", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXXRPD-25NOV0817-T2.2799.csv");
    await editLine(file, 3, (l) => l.replace(/,0\.\d+,/, ",1.5,"));
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row 3 field price: price outside (0, 1) (value 1.5)`);
  });

  it("bid above ask", async () => {
    const src = await copyFixture("kalshi-api", tmp.dir);
    const file = join(src, "markets-page2.json");
    const page = JSON.parse(await readFile(file, "utf8")) as { markets: Array<Record<string, unknown>> };
    const last = page.markets[page.markets.length - 1];
    if (!last) throw new Error("fixture changed");
    last["yes_bid"] = 60;
    last["yes_ask"] = 40;
    await writeFile(file, JSON.stringify(page));
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row ${page.markets.length} field yes_bid: bid above ask (value 0.6 > 0.4)`);
  });

  it("unknown ticker in trades", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXNOPE-25NOV08.csv");
    await writeFile(file, "ticker,created_time,price,count,taker_side,trade_id\nKXNOPE-25NOV08,2025-11-08T10:00:00Z,0.5,3,yes,t-1\n");
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row 1 field ticker: unknown ticker (not in markets) (value KXNOPE-25NOV08)`);
  });

  it("duplicate trade id", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXCSGOGAME-FALFUR25-FAL.csv");
    const lines = (await readFile(file, "utf8")).split("\n");
    await appendFile(file, `${lines[2]}\n`); // data row 2 again, as row 26
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toMatch(new RegExp(`^${file.replaceAll(".", "\\.")} row 26 field trade_id: duplicate trade_id`));
  });

  it("result not yes/no/null", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "enriched_markets.csv");
    await editLine(file, 4, (l) => l.replace(",no,0,", ",maybe,0,"));
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row 4 field result: result must be yes, no, void (refunded) or null (unresolved) (value maybe)`);
  });

  it("settle time before open time", async () => {
    const src = await copyFixture("kalshi-api", tmp.dir);
    const file = join(src, "markets-page2.json");
    const page = JSON.parse(await readFile(file, "utf8")) as { markets: Array<Record<string, unknown>> };
    const last = page.markets[page.markets.length - 1];
    if (!last) throw new Error("fixture changed");
    last["settlement_ts"] = "2024-07-01T00:00:00Z"; // open_time is 2024-07-12
    await writeFile(file, JSON.stringify(page));
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row ${page.markets.length} field settle_time: settle_time before open_time (value 1719792000000)`);
  });

  it("a time that is not a time", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const file = join(src, "trades", "KXXRPD-25NOV0817-T2.2799.csv");
    await editLine(file, 2, (l) => l.replace(/,2025-[^,]+,/, ",yesterday,"));
    const message = await importFails(src, join(tmp.dir, "out"));
    expect(message).toBe(`${file} row 2 field created_time: not an ISO-8601 time (value "yesterday")`);
  });

  it("a news snapshot with an empty headline", async () => {
    const src = await copyFixture("news", tmp.dir);
    const file = join(src, "2025-11-08", "12-18-42_headlines.json");
    const rows = JSON.parse(await readFile(file, "utf8")) as Array<Record<string, unknown>>;
    const fifth = rows[4];
    if (!fifth) throw new Error("fixture changed");
    fifth["headline"] = "  ";
    await writeFile(file, JSON.stringify(rows));
    const error = await importNews(src, join(tmp.dir, "out")).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe(`${file} row 5 field title: empty (value "")`);
    expect(await listing(tmp.dir)).toEqual(["news"]);
  });
});

/** Rewrite one table of a dataset with `select` over the current table `t`, keeping dataset.json's sha256 and rows in step. */
async function rewriteTable(dir: string, table: TableName, select: string): Promise<void> {
  const path = join(dir, `${table}.parquet`);
  const db = await openDb();
  try {
    const cols = Object.keys(TABLE_COLUMNS[table]).join(", ");
    await db.connection.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${sqlString(path)})`);
    await db.connection.run(`COPY (SELECT ${cols} FROM (${select})) TO ${sqlString(path)} (FORMAT parquet)`);
    const rows = Number((await db.connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlString(path)})`)).getRowObjectsJson()[0]?.["n"]);
    const manifestPath = join(dir, "dataset.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { tables: Record<string, { rows: number; sha256: string }> };
    const entry = manifest.tables[table];
    if (!entry) throw new Error(`no ${table}`);
    entry.rows = rows;
    entry.sha256 = await fileSha256(path);
    await writeFile(manifestPath, JSON.stringify(manifest));
  } finally {
    db.close();
  }
}

describe("validate names table file, row and field", () => {
  let ds: string;
  beforeEach(async () => {
    ds = join(tmp.dir, "ds");
    await importKalshi(join(new URL("../fixtures/datasets/", import.meta.url).pathname, "kalshi-api"), ds);
    expect((await validateDataset(ds)).ok).toBe(true);
  });
  const only = async (): Promise<string> => {
    const report = await validateDataset(ds);
    expect(report.ok).toBe(false);
    expect(report.totalProblems).toBe(1);
    return formatValidationProblem(report.problems[0] ?? { table: "manifest", file: "", row: null, field: "", message: "" });
  };

  it("price outside (0, 1) in trades", async () => {
    await rewriteTable(ds, "trades", "SELECT * REPLACE (CASE WHEN trade_id = (SELECT min(trade_id) FROM t) THEN 1.0 ELSE yes_price END AS yes_price) FROM t ORDER BY ts, ticker, trade_id");
    const rows = (await validateDataset(ds)).problems;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ table: "trades", field: "yes_price", file: join(ds, "trades.parquet") });
    expect(rows[0]?.message).toBe("price outside (0, 1) (value 1.0)");
  });

  it("bid above ask in quotes", async () => {
    await rewriteTable(ds, "quotes", "SELECT * REPLACE (CASE WHEN row_number() OVER (ORDER BY ts) = 3 THEN 0.5 ELSE yes_bid END AS yes_bid, CASE WHEN row_number() OVER (ORDER BY ts) = 3 THEN 0.4 ELSE yes_ask END AS yes_ask) FROM t ORDER BY ts");
    expect(await only()).toBe(`${join(ds, "quotes.parquet")} row 3 field yes_bid: bid above ask (value 0.5 > 0.4)`);
  });

  it("unknown ticker in trades", async () => {
    await rewriteTable(ds, "trades", "SELECT * FROM t UNION ALL SELECT 1762600000000, 'KXGHOST', 'ghost-1', 0.5, 1.0, 'yes', 1000");
    expect(await only()).toBe(`${join(ds, "trades.parquet")} row 40 field ticker: unknown ticker (not in markets) (value KXGHOST)`);
  });

  it("duplicate trade id", async () => {
    await rewriteTable(ds, "trades", "SELECT * FROM (SELECT * FROM t ORDER BY ts, trade_id) UNION ALL (SELECT * REPLACE (1000 AS seq) FROM t ORDER BY ts, trade_id LIMIT 1)");
    expect(await only()).toMatch(new RegExp(`^${join(ds, "trades.parquet")} row 40 field trade_id: duplicate trade_id`));
  });

  it("result not yes/no/null", async () => {
    // 'void' is a valid result now (the source says voided: refunded); 'cancelled' is not.
    await rewriteTable(ds, "markets", "SELECT * REPLACE (CASE WHEN ticker = 'HIGHNY-24JUL14-B92.5' THEN 'cancelled' ELSE result END AS result) FROM t ORDER BY ticker");
    expect(await only()).toBe(`${join(ds, "markets.parquet")} row 1 field result: result must be yes, no, void (refunded) or null (unresolved) (value cancelled)`);
  });

  it("settle time before open time", async () => {
    await rewriteTable(ds, "markets", "SELECT * REPLACE (CASE WHEN ticker = 'HIGHNY-24JUL14-B92.5' THEN open_time - 1 ELSE settle_time END AS settle_time) FROM t ORDER BY ticker");
    expect(await only()).toBe(`${join(ds, "markets.parquet")} row 1 field settle_time: settle_time before open_time (value 1720792799999)`);
  });

  it("crossed order book", async () => {
    await rewriteTable(ds, "orderbook", "SELECT * REPLACE ([[0.7, 5.0]]::DOUBLE[][] AS yes) FROM t ORDER BY ts");
    const report = await validateDataset(ds);
    expect(report.problems.map(formatValidationProblem)).toEqual([
      `${join(ds, "orderbook.parquet")} row 1 field yes: crossed book: best YES bid + best NO bid above 1 (bid above ask) (value 0.7 + 0.64)`,
      `${join(ds, "orderbook.parquet")} row 2 field yes: crossed book: best YES bid + best NO bid above 1 (bid above ask) (value 0.7 + 0.64)`,
    ]);
  });

  it("a sha256 that does not match the file", async () => {
    const path = join(ds, "trades.parquet");
    const bytes = await readFile(path);
    await writeFile(path, Buffer.concat([bytes.subarray(0, 8), Buffer.from([bytes[8] === 0 ? 1 : 0]), bytes.subarray(9)]));
    const report = await validateDataset(ds);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ table: "trades", file: path, row: null, field: "sha256" });
    expect(report.problems[0]?.message).toMatch(/^sha256 [0-9a-f]{64} does not match dataset.json/);
  });

  it("a missing manifest", async () => {
    await writeFile(join(ds, "dataset.json"), "{");
    const report = await validateDataset(ds);
    expect(report.problems[0]?.message).toMatch(/dataset\.json: not valid JSON/);
  });
});
