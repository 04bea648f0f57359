/**
 * The list of runs in a results DB, one row each with what a researcher
 * looks for first (`tapedeck runs`, the viewer's front page): kind, label,
 * config name, dataset, status, timings, counts, P&L and AI spend, tags.
 * Also tagging a run and removing one with all its rows.
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { z } from "zod";
import { num, numOrNull, readRows, strOrNull } from "./rows.ts";

export interface RunFilter {
  dataset?: string | undefined;
  /** Config name (the config's "name" field). */
  config?: string | undefined;
  status?: string | undefined;
  /** Runs started at or after this wall time (epoch ms). */
  since?: number | undefined;
  tag?: string | undefined;
  runId?: string | undefined;
}

const runListRow = z.object({
  run_id: z.string(),
  parent_run_id: strOrNull,
  kind: z.string(),
  label: strOrNull,
  config_name: strOrNull,
  dataset_name: strOrNull,
  status: z.string(),
  started_at: num,
  wall_ms: numOrNull,
  events: numOrNull,
  error: strOrNull,
  forecasts: num,
  scored: num,
  abstained: num,
  trades: num,
  pnl_units: num,
  ai_nusd: num,
  llm_calls: num,
  cache_hits: num,
  tags: strOrNull,
});

export interface RunListEntry {
  runId: string;
  parentRunId: string | null;
  kind: string;
  label: string | null;
  configName: string | null;
  dataset: string | null;
  status: string;
  startedAt: number;
  wallMs: number | null;
  events: number | null;
  error: string | null;
  forecasts: number;
  scored: number;
  abstained: number;
  trades: number;
  pnlUsd: number;
  aiUsd: number;
  llmCalls: number;
  cacheHits: number;
  tags: string[];
}

/** Runs matching the filter, newest first. Counts come from the rows themselves, so unfinished runs show what they wrote. */
export async function listRuns(c: DuckDBConnection, filter: RunFilter = {}): Promise<RunListEntry[]> {
  const where: string[] = [];
  const params: DuckDBValue[] = [];
  const add = (sql: string, value: DuckDBValue) => {
    params.push(value);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (filter.dataset !== undefined) add("r.dataset_name = ?", filter.dataset);
  if (filter.config !== undefined) add("json_extract_string(r.config_json, '$.name') = ?", filter.config);
  if (filter.status !== undefined) add("r.status = ?", filter.status);
  if (filter.since !== undefined) add("r.started_at >= ?", filter.since);
  if (filter.runId !== undefined) add("r.run_id = ?", filter.runId);
  if (filter.tag !== undefined) add("r.run_id IN (SELECT run_id FROM run_tags WHERE tag = ?)", filter.tag);
  const sql = `
    WITH sel AS (SELECT * FROM runs r ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}),
    f AS (SELECT f.run_id, count(*)::DOUBLE AS forecasts, count(*) FILTER (WHERE f.abstained)::DOUBLE AS abstained,
                 count(*) FILTER (WHERE NOT f.abstained AND o.result IN ('yes', 'no'))::DOUBLE AS scored
            FROM forecasts f LEFT JOIN outcomes o ON o.run_id = f.run_id AND o.ticker = f.ticker
           WHERE f.run_id IN (SELECT run_id FROM sel) GROUP BY f.run_id),
    t AS (SELECT run_id, count(*)::DOUBLE AS trades FROM fills WHERE run_id IN (SELECT run_id FROM sel) GROUP BY run_id),
    -- Realized (settled) and unrealized (open at the end, marked to bid) P&L, as the report's pnl_usd (runMetrics.ts).
    p AS (SELECT run_id, sum(pnl_units)::DOUBLE AS pnl_units
            FROM (SELECT run_id, pnl_units FROM settlements UNION ALL SELECT run_id, pnl_units FROM open_positions)
           WHERE run_id IN (SELECT run_id FROM sel) GROUP BY run_id),
    a AS (SELECT run_id, sum(cost_nusd)::DOUBLE AS ai_nusd, count(*)::DOUBLE AS llm_calls, count(*) FILTER (WHERE cache <> 'miss')::DOUBLE AS cache_hits
            FROM llm_calls WHERE run_id IN (SELECT run_id FROM sel) GROUP BY run_id),
    g AS (SELECT run_id, string_agg(DISTINCT tag, ',' ORDER BY tag) AS tags FROM run_tags WHERE run_id IN (SELECT run_id FROM sel) GROUP BY run_id)
    SELECT sel.run_id, sel.parent_run_id, sel.kind, sel.label, json_extract_string(sel.config_json, '$.name') AS config_name, sel.dataset_name, sel.status,
           sel.started_at::DOUBLE AS started_at, sel.wall_ms::DOUBLE AS wall_ms, sel.events::DOUBLE AS events, sel.error,
           coalesce(f.forecasts, 0) AS forecasts, coalesce(f.scored, 0) AS scored, coalesce(f.abstained, 0) AS abstained,
           coalesce(t.trades, 0) AS trades, coalesce(p.pnl_units, 0) AS pnl_units, coalesce(a.ai_nusd, 0) AS ai_nusd,
           coalesce(a.llm_calls, 0) AS llm_calls, coalesce(a.cache_hits, 0) AS cache_hits, g.tags
      FROM sel LEFT JOIN f USING (run_id) LEFT JOIN t USING (run_id) LEFT JOIN p USING (run_id) LEFT JOIN a USING (run_id) LEFT JOIN g USING (run_id)
     ORDER BY sel.started_at DESC, sel.run_id DESC`;
  const rows = await readRows(c, "runs list", runListRow, sql, params);
  return rows.map((r) => ({
    runId: r.run_id,
    parentRunId: r.parent_run_id,
    kind: r.kind,
    label: r.label,
    configName: r.config_name,
    dataset: r.dataset_name,
    status: r.status,
    startedAt: r.started_at,
    wallMs: r.wall_ms,
    events: r.events,
    error: r.error,
    forecasts: r.forecasts,
    scored: r.scored,
    abstained: r.abstained,
    trades: r.trades,
    pnlUsd: r.pnl_units / 10_000,
    aiUsd: r.ai_nusd / 1e9,
    llmCalls: r.llm_calls,
    cacheHits: r.cache_hits,
    tags: r.tags ? r.tags.split(",") : [],
  }));
}

/** Parse --since: an ISO date or date-time, or an age like 30m, 6h, 2d, 1w. */
export function parseSince(text: string, now = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(text.trim());
  if (age) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[age[2] as "m" | "h" | "d" | "w"];
    return now - Number(age[1]) * unit;
  }
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new Error(`--since: "${text}" is neither a date (2025-11-07, 2025-11-07T12:00Z) nor an age (30m, 6h, 2d, 1w)`);
  return t;
}

export async function tagRun(c: DuckDBConnection, runId: string, tag: string): Promise<boolean> {
  const clean = tag.trim();
  if (clean === "" || clean.includes(",")) throw new Error(`tag "${tag}": a tag is a non-empty word without commas`);
  const existing = await c.runAndReadAll(`SELECT 1 FROM run_tags WHERE run_id = $1 AND tag = $2`, [runId, clean]);
  if (existing.currentRowCount > 0) return false;
  await c.run(`INSERT INTO run_tags VALUES ($1, $2, $3)`, [runId, clean, Date.now()]);
  return true;
}

export async function untagRun(c: DuckDBConnection, runId: string, tag: string): Promise<boolean> {
  const r = await c.runAndReadAll(`DELETE FROM run_tags WHERE run_id = $1 AND tag = $2 RETURNING 1`, [runId, tag.trim()]);
  return r.currentRowCount > 0;
}

/** Every table of the results DB with a run_id column (runs last): what `runs rm` and `export` cover. */
export async function runTables(c: DuckDBConnection): Promise<string[]> {
  const rows = await readRows(
    c,
    "tables with run_id",
    z.object({ table_name: z.string() }),
    `SELECT DISTINCT table_name FROM information_schema.columns WHERE column_name = 'run_id' AND table_schema = 'main' ORDER BY table_name`,
  );
  const names = rows.map((r) => r.table_name).filter((t) => t !== "runs");
  return [...names, "runs"];
}

/**
 * The audit trail of what went live (harness/live): which config was promoted or refused, and every
 * discrepancy reconciliation found. `runs rm` keeps these rows: deleting a run must not erase the
 * record that real orders were placed under it.
 */
export const AUDIT_TABLES: ReadonlySet<string> = new Set(["promotions", "reconciliations"]);

/** The tables `runs rm` deletes a run's rows from: every run table but the audit trail. */
async function removableTables(c: DuckDBConnection): Promise<string[]> {
  return (await runTables(c)).filter((t) => !AUDIT_TABLES.has(t));
}

/** Rows per table that `runs rm` would delete for the run (tables with none left out). */
export async function countRunRows(c: DuckDBConnection, runId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of await removableTables(c)) {
    const r = await c.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM "${table}" WHERE run_id = $1`, [runId]);
    const n = Number(r.getRows()[0]?.[0] ?? 0);
    if (n > 0) out[table] = n;
  }
  return out;
}

/** Delete the run and its rows in every table but the audit trail (AUDIT_TABLES), in one transaction; returns what was deleted per table. */
export async function removeRun(c: DuckDBConnection, runId: string): Promise<Record<string, number>> {
  const counts = await countRunRows(c, runId);
  await c.run("BEGIN TRANSACTION");
  try {
    for (const table of await removableTables(c)) await c.run(`DELETE FROM "${table}" WHERE run_id = $1`, [runId]);
    await c.run("COMMIT");
  } catch (error) {
    await c.run("ROLLBACK").catch(() => undefined); // the delete's own error is the one to report
    throw error;
  }
  return counts;
}
