/** Which runs a report covers: named ids, the last N started, or every run. */
import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows, sqlList, str } from "./query.ts";
import { resolveRunIds, RunIdError } from "../harness/store/runIds.ts";

export interface RunSelection {
  runIds?: readonly string[] | undefined;
  last?: number | undefined;
  /** Only runs on this dataset (runs.dataset_name). */
  dataset?: string | undefined;
  /** Runs on different datasets are not comparable: refused unless this is set. */
  mixDatasets?: boolean | undefined;
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
  /** The dataset the run replayed ("" when not recorded). */
  datasetName: string;
}

export class RunSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunSelectionError";
  }
}

export async function selectRuns(connection: DuckDBConnection, selection: RunSelection): Promise<SelectedRun[]> {
  const conditions: string[] = [];
  // Ids or unique prefixes, each resolved (and checked) before --last narrows them: `report <ids> --last 6` is the last 6 of those ids.
  if (selection.runIds && selection.runIds.length > 0) {
    let runIds: string[];
    try {
      runIds = await resolveRunIds(connection, selection.runIds);
    } catch (error) {
      if (error instanceof RunIdError) throw new RunSelectionError(error.message);
      throw error;
    }
    conditions.push(`run_id IN (${sqlList(runIds)})`);
    if (selection.dataset !== undefined) {
      const onDataset = new Set(
        (await queryRows(connection, `SELECT run_id FROM runs WHERE run_id IN (${sqlList(runIds)}) AND dataset_name = ${sqlList([selection.dataset])}`)).map((r) => str(r, "run_id")),
      );
      const missing = runIds.filter((id) => !onDataset.has(id));
      if (missing.length > 0) throw new RunSelectionError(`no such run in the results DB on dataset ${selection.dataset}: ${missing.join(", ")}`);
    }
  }
  if (selection.dataset !== undefined) conditions.push(`dataset_name = ${sqlList([selection.dataset])}`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  const limit = selection.last !== undefined ? `LIMIT ${Math.max(0, Math.floor(selection.last))}` : "";
  // Last N by start time, then shown oldest first so tables read in run order.
  const rows = await queryRows(
    connection,
    `SELECT * FROM (SELECT run_id, coalesce(label, run_id) AS label, kind, status, parent_run_id, config_json, started_at, fill_model, marking, coalesce(dataset_name, '') AS dataset_name, dataset_hash
       FROM runs ${where} ORDER BY started_at DESC, run_id DESC ${limit}) ORDER BY started_at, run_id`,
  );
  if (!selection.mixDatasets) {
    const byDataset = new Map<string, number>();
    for (const r of rows) byDataset.set(str(r, "dataset_name"), (byDataset.get(str(r, "dataset_name")) ?? 0) + 1);
    if (byDataset.size > 1) {
      const list = [...byDataset].map(([name, n]) => `${name || "(unrecorded)"}: ${n} run${n === 1 ? "" : "s"}`).join(", ");
      throw new RunSelectionError(`the selected runs replayed ${byDataset.size} different datasets (${list}); their figures are not comparable. Pick one with --dataset <name>, or pass --mix-datasets`);
    }
    // One name, two contents: a dataset re-imported (or changed) between runs is two datasets too.
    const versions = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const hash = r["dataset_hash"];
      if (typeof hash !== "string" || hash === "") continue; // paper/live runs and older rows record none
      const name = str(r, "dataset_name");
      const byHash = versions.get(name) ?? new Map<string, number>();
      byHash.set(hash, (byHash.get(hash) ?? 0) + 1);
      versions.set(name, byHash);
    }
    for (const [name, byHash] of versions) {
      if (byHash.size < 2) continue;
      const list = [...byHash].map(([hash, n]) => `${hash.slice(0, 12)}…: ${n} run${n === 1 ? "" : "s"}`).join(", ");
      throw new RunSelectionError(`the selected runs replayed dataset ${name || "(unrecorded)"} in ${byHash.size} versions (${list}): it was re-imported or changed between them, so their figures are not comparable. Name the runs of one version (tapedeck runs lists them), or pass --mix-datasets`);
    }
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
    datasetName: str(r, "dataset_name"),
  }));
}

/** "print-maker; marked to bid": which fill model and which marking produced the run's money figures. */
function executionLabel(fillModel: unknown, marking: unknown): string | null {
  const parts = [fillModel, marking].filter((x): x is string => typeof x === "string" && x.length > 0);
  return parts.length > 0 ? parts.join("; ") : null;
}
