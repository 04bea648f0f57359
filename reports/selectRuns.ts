/** Which runs a report covers: named ids, the last N started, or every run. */
import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows, sqlList, str } from "./query.ts";

export interface RunSelection {
  runIds?: readonly string[] | undefined;
  last?: number | undefined;
}

export interface SelectedRun {
  runId: string;
  label: string;
  kind: string;
  status: string;
  parentRunId: string | null;
  configJson: string;
  startedAt: number;
  /** How the run filled orders and valued open positions, e.g. "print-maker; marked to bid" (null for runs stored before it was recorded). */
  execution: string | null;
}

export class RunSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunSelectionError";
  }
}

export async function selectRuns(connection: DuckDBConnection, selection: RunSelection): Promise<SelectedRun[]> {
  let where = "";
  if (selection.runIds && selection.runIds.length > 0) where = `WHERE run_id IN (${sqlList(selection.runIds)})`;
  const limit = selection.last !== undefined ? `LIMIT ${Math.max(0, Math.floor(selection.last))}` : "";
  // Last N by start time, then shown oldest first so tables read in run order.
  const rows = await queryRows(
    connection,
    `SELECT * FROM (SELECT run_id, coalesce(label, run_id) AS label, kind, status, parent_run_id, config_json, started_at, fill_model, marking
       FROM runs ${where} ORDER BY started_at DESC, run_id DESC ${limit}) ORDER BY started_at, run_id`,
  );
  if (selection.runIds && selection.runIds.length > 0) {
    const found = new Set(rows.map((r) => str(r, "run_id")));
    const missing = selection.runIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw new RunSelectionError(`no such run in the results DB: ${missing.join(", ")}`);
  }
  return rows.map((r) => ({
    runId: str(r, "run_id"),
    label: str(r, "label"),
    kind: str(r, "kind"),
    status: str(r, "status"),
    parentRunId: r["parent_run_id"] === null ? null : str(r, "parent_run_id"),
    configJson: str(r, "config_json"),
    startedAt: Number(r["started_at"] ?? 0),
    execution: executionLabel(r["fill_model"], r["marking"]),
  }));
}

/** "print-maker; marked to bid": which fill model and which marking produced the run's money figures. */
function executionLabel(fillModel: unknown, marking: unknown): string | null {
  const parts = [fillModel, marking].filter((x): x is string => typeof x === "string" && x.length > 0);
  return parts.length > 0 ? parts.join("; ") : null;
}
