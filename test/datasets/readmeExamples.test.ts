/**
 * The README's examples work in a fresh clone (issue 13, friction 10): every
 * path an example reads is inside the repository (shipped with it) or made by
 * an earlier example, and the import example runs as written.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../fixtures/tinyDataset.ts";

const ROOT = join(import.meta.dirname, "../..");

function usingItExamples(): string[][] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Using it"));
  const block = section.slice(section.indexOf("```sh") + 5, section.indexOf("```", section.indexOf("```sh") + 5));
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.startsWith("./bin/tapedeck.js"))
    .map((l) => l.split(/\s+/));
}

describe("README examples", () => {
  it("read only paths a fresh clone has (or an earlier example wrote)", () => {
    const examples = usingItExamples();
    expect(examples.length).toBeGreaterThan(8);
    const made = new Set<string>();
    for (const args of examples) {
      args.forEach((arg, i) => {
        const previous = args[i - 1];
        // Folders an example writes: -o/--out, and a worker's --results (its shards).
        if (previous === "-o" || previous === "--out" || previous === "--results") {
          made.add(arg);
          return;
        }
        // URLs (a Redis queue) are not paths.
        if (i === 0 || !arg.includes("/") || arg.startsWith("-") || /[<|=]/.test(arg) || arg.includes("://")) return;
        expect(arg.startsWith(".."), `${args.join(" ")}: ${arg} is outside the repository`).toBe(false);
        expect(existsSync(join(ROOT, arg)) || made.has(arg), `${args.join(" ")}: ${arg} does not exist in the repository`).toBe(true);
      });
    }
  });

  it("the import example runs as written (into a scratch folder)", () => {
    const args = usingItExamples().find((a) => a[1] === "import")!;
    const out = join(tempDir(), "imported");
    const argv = args.slice(1).map((a, i, all) => (all[i - 1] === "-o" ? out : a));
    const printed = JSON.parse(execFileSync(process.execPath, [join(ROOT, "bin/tapedeck.js"), ...argv, "--json"], { cwd: ROOT, encoding: "utf8" })) as {
      tables: Record<string, number>;
    };
    expect(printed.tables["markets"]).toBeGreaterThan(0);
    expect(printed.tables["trades"]).toBeGreaterThan(0);
    expect(existsSync(join(out, "dataset.json"))).toBe(true);
  });
});
