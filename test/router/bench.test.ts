/** The bench commands end to end, small: figures land in the benchmarks table. */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDb } from "../../harness/db/duckdb.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function tapedeck(args: string[]): string {
  return execFileSync(process.execPath, ["--import", "tsx", "harness/cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
}

async function rows(dbPath: string, kind: string): Promise<Array<Record<string, unknown>>> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const reader = await db.connection.runAndReadAll(`SELECT name, device, metric, value, unit FROM benchmarks WHERE kind = '${kind}' ORDER BY name, metric`);
    return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

describe("tapedeck bench", () => {
  it("bench router stores overhead and the N-calls wall time against the ideal", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "bench-")), "results.duckdb");
    const out = JSON.parse(tapedeck(["bench", "router", "--calls", "64", "--concurrency", "8", "--latency", "20", "--overhead-calls", "200", "--db", db, "--json"])) as Record<string, number>;
    expect(out["failed"]).toBe(0);
    expect(out["idealMs"]).toBe(160);
    expect(out["wallMs"]).toBeGreaterThanOrEqual(160);
    const stored = await rows(db, "router");
    expect(stored.map((r) => r["metric"])).toEqual(
      expect.arrayContaining(["direct_ms_per_call", "routed_ms_per_call", "overhead_ms_per_call", "overhead_us_per_call", "wall_ms", "ideal_ms", "efficiency"]),
    );
    expect(stored.find((r) => r["metric"] === "ideal_ms")?.["value"]).toBe(160);
  });

  it("bench local runs the tiny model at 1 and 2 sequences and names the device", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "bench-")), "results.duckdb");
    const out = JSON.parse(tapedeck(["bench", "local", "--parallel", "1,2", "--rounds", "1", "--max-tokens", "16", "--threads", "1", "--db", db, "--json"])) as {
      deviceDescription: string;
      rows: Array<{ parallel: number; generatedTokensPerSec: number }>;
    };
    expect(out.rows.map((r) => r.parallel)).toEqual([1, 2]);
    expect(out.rows.every((r) => r.generatedTokensPerSec > 0)).toBe(true);
    const stored = await rows(db, "local");
    expect(stored).toHaveLength(10);
    expect(String(stored[0]?.["device"])).toMatch(/^(cpu \(1 thread\)|cuda|vulkan|metal)/);
  });

  it("rejects a bad --parallel with a clear message", () => {
    expect(() => execFileSync(process.execPath, ["--import", "tsx", "harness/cli/main.ts", "bench", "local", "--parallel", "1,x"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" })).toThrow(/--parallel: expected positive integers/);
  });
});
