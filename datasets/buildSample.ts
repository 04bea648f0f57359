/**
 * Rebuild datasets/sample from the shared recordings with the project's own
 * importers (reproducible: same inputs → same table sha256s):
 *
 *   npx tsx datasets/buildSample.ts [--shared ../shared] [--out datasets/sample]
 *
 * Markets: the tickers listed in datasets/sample-src/tickers.txt, with all
 * their trades of 2025-11-07..09; news: headlines first seen on those days.
 * PROVENANCE.md is copied in from datasets/sample-src/.
 */
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { importKalshi } from "./importers/kalshi.ts";
import { importNews } from "./importers/news.ts";
import type { Manifest } from "./format.ts";

export const SAMPLE_FROM = Date.parse("2025-11-07T00:00:00Z");
export const SAMPLE_TO = Date.parse("2025-11-10T00:00:00Z");
const here = new URL(".", import.meta.url).pathname;

export async function buildSample(shared: string, out: string): Promise<Manifest> {
  const list = await readFile(join(here, "sample-src", "tickers.txt"), "utf8");
  const tickers = list.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  await importKalshi(join(shared, "data", "kalshi-2025-11-trades"), out, { name: "sample", tickers, from: SAMPLE_FROM, to: SAMPLE_TO });
  const manifest = await importNews(join(shared, "data", "news-bbc-nyt-2025-11"), out, {
    into: out,
    from: SAMPLE_FROM,
    to: SAMPLE_TO,
    name: "sample",
  });
  await copyFile(join(here, "sample-src", "PROVENANCE.md"), join(out, "PROVENANCE.md"));
  return manifest;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/datasets\//, "datasets/"))) {
  const { values } = parseArgs({ options: { shared: { type: "string", default: "../shared" }, out: { type: "string", default: join(here, "sample") } } });
  const manifest = await buildSample(values.shared ?? "../shared", values.out ?? join(here, "sample"));
  process.stdout.write(`${JSON.stringify(manifest.tables, null, 2)}\n`);
}
