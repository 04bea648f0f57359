import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let cached: string | null = null;

/** package version plus the git commit when the code runs from a checkout ("0.1.0+a1b2c3d", "+dirty" when modified). */
export function codeVersion(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  let suffix = "";
  try {
    const cwd = new URL("../..", import.meta.url);
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    suffix = `+${commit}${dirty ? ".dirty" : ""}`;
  } catch {
    // Not a git checkout (an installed package): the version alone.
  }
  cached = pkg.version + suffix;
  return cached;
}
