import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const FIXTURES = new URL("../fixtures/datasets/", import.meta.url).pathname;

/** A fresh temp folder; removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "tapedeck-ds-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Copy a fixture folder into `dir` so a test can damage it. */
export async function copyFixture(name: string, dir: string): Promise<string> {
  const to = join(dir, name);
  await cp(join(FIXTURES, name), to, { recursive: true });
  return to;
}

/** Names in a folder (to prove a failed import left nothing that looks like a dataset). */
export async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
