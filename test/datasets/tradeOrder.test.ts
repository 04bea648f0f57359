/**
 * Trades keep their source order (issue 10): ts is cut to ms, so the `seq`
 * column carries the order of prints within a ms, from the source's µs
 * times and, for prints stamped alike, the order the source listed them in
 * (read oldest first). Replay delivers trades in that order.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFile, writeFile, mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { importKalshi } from "../../datasets/importers/kalshi.ts";
import { validateDataset } from "../../datasets/validate.ts";
import { openDb, sqlString } from "../../harness/db/duckdb.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import type { TradeEvent } from "../../harness/events/types.ts";
import { FIXTURES, copyFixture, tempDir } from "./helpers.ts";
import { readTable } from "./readTable.ts";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const TICKER = "KXALEAGUEGAME-25NOV08WPHAUC-WPH";

async function replayTrades(dir: string): Promise<TradeEvent[]> {
  const source = await ReplaySource.open(dir);
  const out: TradeEvent[] = [];
  try {
    for await (const batch of source.events()) for (const e of batch) if (e.kind === "trade") out.push(e);
  } finally {
    await source.close();
  }
  return out;
}

describe("trade source order (real rows: three prints in one µs)", () => {
  it("keeps the source's order in seq: the file, listed newest first, read backwards", async () => {
    const out = join(tmp.dir, "ds");
    await importKalshi(join(FIXTURES, "kalshi-same-ms"), out);
    const listed = (await readFile(join(FIXTURES, "kalshi-same-ms", "trades", `${TICKER}.csv`), "utf8"))
      .split("\n")
      .slice(1)
      .filter((l) => l !== "")
      .map((l) => l.split(",")[5]);
    const rows = await readTable(out, "trades", "ORDER BY seq");
    expect(rows.map((r) => r["seq"])).toEqual(listed.map((_, i) => i));
    expect(rows.map((r) => r["trade_id"])).toEqual([...listed].reverse());
    // The three prints of 06:11:10.025108: 0.92, 0.29, 0.59, oldest first.
    const sameMs = rows.filter((r) => r["ts"] === Date.parse("2025-11-08T06:11:10.025Z"));
    expect(sameMs.map((r) => r["yes_price"])).toEqual([0.92, 0.29, 0.59]);
  });

  it("replays the prints of one ms in seq order, so the last price after it is 0.59", async () => {
    const out = join(tmp.dir, "ds");
    await importKalshi(join(FIXTURES, "kalshi-same-ms"), out);
    const trades = await replayTrades(out);
    const ms = Date.parse("2025-11-08T06:11:10.025Z");
    expect(trades.filter((t) => t.ts === ms).map((t) => t.yesPrice)).toEqual([9200, 2900, 5900]);
    const upTo = trades.filter((t) => t.ts <= ms);
    expect(upTo[upTo.length - 1]?.yesPrice).toBe(5900);
  });
});

describe("trade source order (written here: ids that sort against the source)", () => {
  it("orders prints of one ms by their µs, then by their place in a file listed oldest first, never by trade id", async () => {
    const src = await copyFixture("kalshi-csv", tmp.dir);
    const ticker = "KXXRPD-25NOV0817-T2.2799";
    const file = join(src, "trades", `${ticker}.csv`);
    await mkdir(join(src, "trades"), { recursive: true });
    // Oldest first. Within 21:00:00.123: .123900 is listed before .123100 (µs decide), then two prints
    // stamped alike (the file's order decides). Trade ids sort z < y < x < w against it.
    await writeFile(
      file,
      [
        "ticker,created_time,price,count,taker_side,trade_id",
        `${ticker},2025-11-08T20:59:59.5Z,0.5,1,yes,zz-0`,
        `${ticker},2025-11-08T21:00:00.123900Z,0.61,1,yes,w`,
        `${ticker},2025-11-08T21:00:00.123100Z,0.62,1,yes,x`,
        `${ticker},2025-11-08T21:00:00.123500Z,0.63,1,yes,z`,
        `${ticker},2025-11-08T21:00:00.123500Z,0.64,1,yes,y`,
        `${ticker},2025-11-08T21:00:01Z,0.7,1,yes,aa-9`,
        "",
      ].join("\n"),
    );
    const out = join(tmp.dir, "ds");
    await importKalshi(src, out);
    const ms = Date.parse("2025-11-08T21:00:00.123Z");
    const rows = await readTable(out, "trades", `WHERE ts = ${ms} ORDER BY seq`);
    expect(rows.map((r) => r["trade_id"])).toEqual(["x", "z", "y", "w"]);
    const trades = (await replayTrades(out)).filter((t) => t.ts === ms);
    expect(trades.map((t) => t.tradeId)).toEqual(["x", "z", "y", "w"]);
  });
});

describe("trade file order (validate)", () => {
  it("refuses a trades file whose rows of one ms are out of seq order, naming the row and field", async () => {
    const out = join(tmp.dir, "ds");
    await importKalshi(join(FIXTURES, "kalshi-same-ms"), out);
    expect((await validateDataset(out)).ok).toBe(true);
    // Rewrite the file with the three prints of 06:11:10.025 in reverse seq order (everything else as it was).
    const path = join(out, "trades.parquet");
    const db = await openDb(":memory:");
    try {
      await db.connection.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(path)}) ORDER BY ts, CASE WHEN ts = ${Date.parse("2025-11-08T06:11:10.025Z")} THEN -seq ELSE seq END)
           TO ${sqlString(`${path}.new`)} (FORMAT parquet)`,
      );
    } finally {
      db.close();
    }
    await rename(`${path}.new`, path);
    const report = await validateDataset(out);
    const seqProblems = report.problems.filter((p) => p.field === "seq");
    expect(seqProblems).toHaveLength(2);
    expect(seqProblems[0]).toMatchObject({ table: "trades", file: path });
    expect(seqProblems[0]!.message).toMatch(/in the same ms: rows of one ts must be in seq order/);
  });
});
