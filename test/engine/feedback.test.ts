/**
 * Feedback on long work (issue 13, friction 9): progress reports keep coming
 * while a replay runs (not once per 65,536 events), a replay of some markets
 * knows its own event total (so its bar reaches 100%), `--version` works,
 * and `--json` / `--progress` are accepted consistently across commands.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import yargs from "yargs";
import { describe, expect, it } from "vitest";
import { commands } from "../../harness/cli/commands.ts";
import { ReplaySource } from "../../harness/events/replaySource.ts";
import { runReplay } from "../../harness/replay/runReplay.ts";
import { DuckDbStore } from "../../harness/store/resultsStore.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");
const SAMPLE = join(ROOT, "datasets/sample");

/** A command's --help text, parsed in-process (no exit). */
async function helpOf(argv: string[]): Promise<string> {
  let y = yargs().exitProcess(false).strict().help();
  for (const c of commands) y = y.command(c);
  return await new Promise<string>((resolve) => {
    void y.parse([...argv, "--help"], {}, (_err, _argv, output) => resolve(output));
  });
}

describe("progress", () => {
  it("reports progress all through a replay of some markets, ending at exactly the total it announced", async () => {
    const source = await ReplaySource.open(SAMPLE);
    const tickers = (await source.markets()).map((m) => m.ticker).slice(0, 12);
    await source.close();
    const db = await DuckDbStore.open(join(tempDir(), "r.duckdb"));
    const seen: Array<{ events: number; total: number | null }> = [];
    try {
      const out = await runReplay({
        config: parseRunConfig({ strategy: { kind: "market" } }),
        datasetDir: SAMPLE,
        db,
        source: { tickers },
        progressIntervalMs: 0,
        onProgress: (p) => seen.push({ events: p.events, total: p.totalEvents }),
      });
      // Every 256 events at most (the wall-time check), not once at the end.
      expect(seen.length).toBeGreaterThanOrEqual(Math.floor(out.events / 256));
      expect(seen.map((s) => s.events)).toEqual([...seen.map((s) => s.events)].sort((a, b) => a - b));
      // The announced total is this replay's own (12 markets), so the bar ends at 100%, not at a share of the whole dataset.
      expect(seen[seen.length - 1]).toEqual({ events: out.events, total: out.events });
      const whole = await (await ReplaySource.open(SAMPLE)).describe();
      expect(whole.events).toBeGreaterThan(out.events);
    } finally {
      db.close();
    }
  });
});

describe("options accepted consistently", () => {
  it("--json on every command that prints results, --progress on every long one", async () => {
    const leaves = [
      ["replay"],
      ["demo"],
      ["redecide", "x"],
      ["sweep"],
      ["ablate"],
      ["import", "kalshi", "x"],
      ["import", "news", "x"],
      ["import", "forecastbench", "x", "y"],
      ["report"],
      ["compare", "a", "b"],
      ["consensus"],
      ["config", "check", "x"],
    ];
    for (const argv of leaves) expect(await helpOf(argv), argv.join(" ")).toContain("--json");
    for (const argv of [["replay"], ["sweep"], ["ablate"]]) expect(await helpOf(argv), argv.join(" ")).toContain("--progress");
  });

  it("--version prints the version and the commit it runs from", () => {
    const out = execFileSync(process.execPath, [join(ROOT, "bin/tapedeck.js"), "--version"], { encoding: "utf8" });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+(\+[0-9a-f]{7,}(\.dirty)?)?$/);
  });
});
