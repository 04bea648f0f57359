/**
 * `tapedeck import news <src>`: headline snapshots as written by a front-page
 * scraper — `<src>/YYYY-MM-DD/HH-MM-SS_headlines.json`, each a JSON array of
 * {headline, link, category, source, timestamp}. The timestamp is when the
 * page was scraped (zone-less = UTC), not when the story was published.
 * A headline repeated across snapshots is one row: ts is the first time it
 * was seen, url the link seen then; id is a hash of source + headline, so
 * reimporting more snapshots keeps ids stable.
 */
import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { sqlString } from "../../harness/db/duckdb.ts";
import type { Manifest } from "../format.ts";
import { readManifest, tablePath } from "../manifest.ts";
import { withDatasetWriter } from "../datasetWriter.ts";
import { checkParsed, checkRules } from "./staging.ts";
import { stageJsonRecords } from "./jsonStaging.ts";

export interface ImportNewsOptions {
  /** Merge into this dataset (its markets and other tables are kept; news rows are unioned by id). */
  into?: string;
  name?: string;
  from?: number;
  to?: number;
}

async function headlineFiles(src: string): Promise<string[]> {
  if (!existsSync(src)) throw new Error(`${src}: not found`);
  if (statSync(src).isFile()) return [src];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) await walk(path);
      else if (name.endsWith(".json") || name.endsWith(".jsonl")) out.push(path);
    }
  };
  await walk(src);
  if (out.length === 0) throw new Error(`${src}: no headline JSON files`);
  return out;
}

export async function importNews(src: string, out: string, options: ImportNewsOptions = {}): Promise<Manifest> {
  const files = await headlineFiles(src);
  const base = options.into ? await readManifest(options.into) : null;
  return withDatasetWriter(out, async (writer) => {
    const conn = writer.connection;
    await stageJsonRecords(conn, "j_news", files, "headlines");
    await conn.run(`CREATE OR REPLACE VIEW raw_news AS SELECT _file, _row,
        rec ->> '$.headline' AS headline, rec ->> '$.title' AS title, rec ->> '$.timestamp' AS timestamp,
        rec ->> '$.source' AS source, rec ->> '$.link' AS link, rec ->> '$.url' AS url, rec ->> '$.summary' AS summary
      FROM j_news`);
    const time = `epoch_ms(TRY_CAST(NULLIF(trim(timestamp), '') AS TIMESTAMPTZ))`;
    await checkParsed(conn, "raw_news", [{ field: "timestamp", raw: "timestamp", parsed: time, what: "an ISO-8601 time" }]);
    await conn.run(`CREATE OR REPLACE TABLE seen AS SELECT _file, _row, ${time} AS ts,
        coalesce(NULLIF(trim(source), ''), 'unknown') AS source,
        trim(regexp_replace(coalesce(headline, title, ''), '\\s+', ' ', 'g')) AS title,
        NULLIF(trim(coalesce(link, url)), '') AS url, NULLIF(trim(summary), '') AS summary
      FROM raw_news`);
    // Each raw row must have a headline and a time; report the first that does not.
    await checkRules(conn, { news: "(SELECT _file, _row, ts, _file || ':' || _row AS id, source, title FROM seen)" });
    const from = options.from === undefined ? "" : ` AND ts >= ${options.from}`;
    const to = options.to === undefined ? "" : ` AND ts < ${options.to}`;
    await conn.run(`CREATE OR REPLACE TABLE n_news AS SELECT
        min(_file) AS _file, min(_row) AS _row, min(ts) AS ts,
        substr(sha256(source || chr(10) || lower(title)), 1, 16) AS id,
        source, arg_min(title, ts) AS title, arg_min(summary, ts) AS summary, arg_min(url, ts) AS url, NULL::VARCHAR[] AS tickers
      FROM seen GROUP BY source, lower(title) HAVING true${from.replaceAll("ts", "min(ts)")}${to.replaceAll("ts", "min(ts)")}`);
    const rawRows = Number((await conn.runAndReadAll("SELECT count(*)::DOUBLE AS n FROM seen")).getRowObjectsJson()[0]?.["n"] ?? 0);
    const notes = [
      `${files.length} snapshot file(s), ${rawRows} headline rows, deduplicated by source + headline (case-insensitive) to first sighting.`,
      "News ts is the scrape time of the first snapshot that showed the headline (zone-less times read as UTC), not the publish time; links may point at a section page.",
    ];
    if (base && options.into) {
      // Keep every table of the base dataset byte-for-byte in content; union news by id.
      for (const table of ["markets", "quotes", "trades", "orderbook"] as const) {
        const path = tablePath(options.into, base, table);
        if (path) await writer.writeTable(table, `SELECT * FROM read_parquet(${sqlString(path)})`);
      }
      const basePath = tablePath(options.into, base, "news");
      const union = basePath
        ? `SELECT * FROM read_parquet(${sqlString(basePath)}) UNION ALL SELECT ts, id, source, title, summary, url, tickers FROM n_news WHERE id NOT IN (SELECT id FROM read_parquet(${sqlString(basePath)}))`
        : "SELECT * FROM n_news";
      await writer.writeTable("news", union);
      return writer.commit({
        name: options.name ?? base.name,
        description: `${base.description} With news headlines from ${basename(resolve(src))}.`,
        source: {
          importer: `${base.source.importer}+news`,
          inputs: [...base.source.inputs, src],
          origin: `${base.source.origin}; news: BBC News and NYT front-page headline snapshots`,
          notes: [...base.source.notes.filter((n) => !n.startsWith("No bid/ask")), ...notes],
        },
        license: `${base.license} News headlines: see the news source's licence.`,
      });
    }
    await writer.writeTable("markets", "SELECT * FROM (SELECT NULL::VARCHAR AS ticker, NULL AS event_ticker, NULL AS series_ticker, NULL AS title, NULL AS subtitle, NULL AS rules, NULL AS background, NULL AS category, NULL AS open_time, NULL AS close_time, NULL AS scheduled_close_time, NULL AS settle_time, NULL AS result) WHERE false");
    await writer.writeTable("news", "SELECT * FROM n_news");
    return writer.commit({
      name: options.name ?? basename(resolve(out)),
      description: `News headlines imported from ${basename(resolve(src))}.`,
      source: { importer: "news", inputs: [src], origin: "front-page headline snapshots", notes },
      license: "See the news source's licence.",
    });
  });
}
