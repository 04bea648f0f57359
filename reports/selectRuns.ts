/** Which runs a report covers: named ids, the last N started, or every run. */
import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows, sqlList, str } from "./query.ts";
import { resolveRunIds, RunIdError } from "../harness/store/runIds.ts";

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
}

export class RunSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunSelectionError";
  }
}

export async function selectRuns(connection: DuckDBConnection, selection: RunSelection): Promise<SelectedRun[]> {
  let where = "";
  // Ids or unique prefixes, each resolved (and checked) before --last narrows them: `report <ids> --last 6` is the last 6 of those ids.
  let runIds: string[] | undefined;
  if (selection.runIds && selection.runIds.length > 0) {
    try {
      runIds = await resolveRunIds(connection, selection.runIds);
    } catch (error) {
      if (error instanceof RunIdError) throw new RunSelectionError(error.message);
      throw error;
    }
    where = `WHERE run_id IN (${sqlList(runIds)})`;
  }
  const limit = selection.last !== undefined ? `LIMIT ${Math.max(0, Math.floor(selection.last))}` : "";
  // Last N by start time, then shown oldest first so tables read in run order.
  const rows = await queryRows(
    connection,
    `SELECT * FROM (SELECT run_id, coalesce(label, run_id) AS label, kind, status, parent_run_id, config_json, started_at
       FROM runs ${where} ORDER BY started_at DESC, run_id DESC ${limit}) ORDER BY started_at, run_id`,
  );
  return rows.map((r) => ({
    runId: str(r, "run_id"),
    label: str(r, "label"),
    kind: str(r, "kind"),
    status: str(r, "status"),
    parentRunId: r["parent_run_id"] === null ? null : str(r, "parent_run_id"),
    configJson: str(r, "config_json"),
    startedAt: Number(r["started_at"] ?? 0),
  }));
}
