/**
 * The vega, vega-lite and vega-embed browser bundles, read from
 * node_modules so report.html carries them inline and opens offline. Their
 * export maps hide build/*.min.js, so the package folder is found through
 * import.meta.resolve of the package entry and walked up to package.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function packageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  while (!existsSync(join(dir, "package.json")) || JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
  return dir;
}

let cached: string[] | null = null;

/** The three UMD bundles in load order (vega-embed needs the other two as globals). */
export function vegaBundles(): string[] {
  cached ??= [
    join(packageDir("vega"), "build", "vega.min.js"),
    join(packageDir("vega-lite"), "build", "vega-lite.min.js"),
    join(packageDir("vega-embed"), "build", "vega-embed.min.js"),
  ].map((file) => readFileSync(file, "utf8"));
  return cached;
}
