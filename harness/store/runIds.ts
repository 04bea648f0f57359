/**
 * The one place a run id typed by a user becomes a run id: an exact id, or
 * a prefix that only one run's id starts with (`market-2025` for
 * `market-20251129-181950-ab12cd`). An unknown id and an ambiguous prefix
 * are errors; the ambiguous one lists the candidates. Every command that
 * takes a run id goes through here (report, compare, show, export, runs,
 * redecide, replay --resume, consensus, view).
 */
import type { DuckDBConnection } from "@duckdb/node-api";

export class RunIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunIdError";
  }
}

/** Candidates listed in an ambiguity error, at most. */
const LISTED = 8;

export async function resolveRunId(c: DuckDBConnection, ref: string): Promise<string> {
  const wanted = ref.trim();
  if (wanted === "") throw new RunIdError("empty run id");
  const reader = await c.runAndReadAll(
    `SELECT run_id FROM runs WHERE run_id = $1 OR starts_with(run_id, $1) ORDER BY (run_id = $1) DESC, started_at DESC, run_id LIMIT ${LISTED + 1}`,
    [wanted],
  );
  const ids = reader.getRows().map((r) => String(r[0]));
  if (ids[0] === wanted) return wanted;
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) throw new RunIdError(`no such run in the results DB: ${wanted} (no run id is or starts with it; \`tapedeck runs\` lists them)`);
  const listed = ids.slice(0, LISTED).join(", ");
  throw new RunIdError(`run id prefix "${wanted}" is ambiguous: it matches ${ids.length > LISTED ? `more than ${LISTED} runs, e.g.` : `${ids.length} runs:`} ${listed}`);
}

/** Each reference resolved, in order, duplicates kept once. */
export async function resolveRunIds(c: DuckDBConnection, refs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const ref of refs) {
    const id = await resolveRunId(c, ref);
    if (!out.includes(id)) out.push(id);
  }
  return out;
}
