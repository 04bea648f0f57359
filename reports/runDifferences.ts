/**
 * What differs between the runs of a report, read from their configs: the
 * leaf paths whose values are not the same in every run. Legends show only
 * those ("kellyFraction=0.1 · minEdge=0.03") instead of long labels that get
 * cut exactly where sweep variants differ, and the sweep heatmap draws a
 * metric over two of them.
 */
import type { SelectedRun } from "./selectRuns.ts";

/** Paths that name a run rather than configure it. */
const IDENTITY = new Set(["name", "description", "$schema"]);

type Leaves = Map<string, string>;

function flatten(value: unknown, prefix: string, out: Leaves): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out.set(prefix, JSON.stringify(value));
}

function leavesOf(run: SelectedRun): Leaves {
  const out: Leaves = new Map();
  try {
    flatten(JSON.parse(run.configJson) as unknown, "", out);
  } catch {
    // A config that is not JSON differs from the others only by its label.
  }
  for (const k of [...out.keys()]) if (IDENTITY.has(k.split(".")[0]!)) out.delete(k);
  return out;
}

export interface VaryingParam {
  path: string;
  /** Shortest dotted suffix of the path that no other varying path shares. */
  short: string;
  /** Per run id, the value as JSON text ("absent" when the run's config lacks it). */
  values: Map<string, string>;
}

export function varyingParams(runs: readonly SelectedRun[]): VaryingParam[] {
  const leaves = runs.map(leavesOf);
  const paths = new Set(leaves.flatMap((l) => [...l.keys()]));
  // Varying: two runs that both set the path set it differently (a path only some runs have is structure, not a parameter).
  const varying = [...paths].filter((p) => new Set(leaves.flatMap((l) => (l.has(p) ? [l.get(p)!] : []))).size > 1).sort();
  const shortOf = (path: string) => {
    const parts = path.split(".");
    for (let n = 1; n <= parts.length; n++) {
      const suffix = parts.slice(-n).join(".");
      if (varying.filter((p) => p === suffix || p.endsWith(`.${suffix}`)).length === 1) return suffix;
    }
    return path;
  };
  return varying.map((path) => ({ path, short: shortOf(path), values: new Map(runs.map((r, i) => [r.runId, leaves[i]!.get(path) ?? "absent"])) }));
}

/** Unquoted strings, numbers as written. */
function show(json: string): string {
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

/** At most this many differing params make a legend label; beyond it the run's own label says more. */
const MAX_PARAMS_IN_LABEL = 3;

/** The value most runs share, when more than half of the runs that set the path share it. */
function dominant(param: VaryingParam): string | null {
  const counts = new Map<string, number>();
  let set = 0;
  for (const v of param.values.values()) {
    if (v === "absent") continue;
    set++;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  for (const [v, n] of counts) if (n * 2 > set) return v;
  return null;
}

/**
 * A legend label per run id that shows only what differs: the run's values
 * of the params that vary (leaving out a value most runs share, e.g. the
 * strategy kind of a sweep beside one consensus run) when there are a few,
 * else the run's label; made unique with the run id where two would read the same.
 */
export function legendLabels(runs: readonly SelectedRun[]): Map<string, string> {
  const varying = varyingParams(runs).map((p) => ({ p, common: dominant(p) }));
  const labels = new Map<string, string>();
  for (const run of runs) {
    let label = run.label;
    const own = varying.filter(({ p, common }) => {
      const v = p.values.get(run.runId) ?? "absent";
      return v !== "absent" && v !== common;
    });
    // A run of another strategy kind is not a variant of the others: its own label (the config name) says what it is.
    const otherStrategy = own.some(({ p }) => p.path === "strategy.kind");
    if (!otherStrategy && own.length > 0 && own.length <= MAX_PARAMS_IN_LABEL) label = own.map(({ p }) => `${p.short}=${show(p.values.get(run.runId)!)}`).join(" · ");
    if (run.status !== "completed") label = `${label} (${run.status})`;
    labels.set(run.runId, label);
  }
  const counts = new Map<string, number>();
  for (const l of labels.values()) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const [id, l] of labels) if ((counts.get(l) ?? 0) > 1) labels.set(id, `${l} [${id}]`);
  return labels;
}
