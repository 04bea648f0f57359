/**
 * The ablation section of a report. `tapedeck ablate` adds cost layers
 * cumulatively (none → + exact cache → + semantic cache → + event filter →
 * + sampling → + batching), each step keeping the ones before it; so a
 * layer's worth is its run's net P&L minus the previous step's, signed (a
 * layer that lost $20.75 is −$20.75), and the waterfall starts at the base
 * run (no layers) and ends at the run with every layer on.
 */
import { ABLATION_STEPS } from "../harness/replay/runAblation.ts";
import type { Row } from "./query.ts";
import type { SelectedRun } from "./selectRuns.ts";

export interface AblationRunValues {
  (runId: string, metric: string): number | null;
}

/** The layer a run adds ("ablation:<layer>" label, or an `ablation` field in its config); null for other runs. */
export function ablationLayer(run: SelectedRun): string | null {
  if (run.label.startsWith("ablation:")) return run.label.slice("ablation:".length);
  try {
    const config = JSON.parse(run.configJson) as unknown;
    if (config && typeof config === "object" && "ablation" in config && typeof config.ablation === "string") return config.ablation;
  } catch {
    // A config that is not JSON has no ablation label.
  }
  return null;
}

/** Steps in the order ablate adds them; other layer names after, in the order they ran. */
function stepOrder(layer: string): number {
  const i = (ABLATION_STEPS as readonly string[]).indexOf(layer);
  return i >= 0 ? i : ABLATION_STEPS.length;
}

/** Signed dollars with a real minus sign: "+$3.10", "−$20.75". */
export function signedUsd(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  const cents = Math.round(v * 100) / 100;
  if (cents === 0) return "$0.00";
  return `${cents < 0 ? "\u2212" : "+"}$${Math.abs(cents).toFixed(2)}`;
}

export function ablationTables(runs: readonly SelectedRun[], value: AblationRunValues): { ablation: Row[]; waterfall: Row[] } {
  const ablated = runs.map((r) => ({ run: r, layer: ablationLayer(r) })).filter((x): x is { run: SelectedRun; layer: string } => x.layer !== null);
  if (ablated.length === 0) return { ablation: [], waterfall: [] };
  // Base: the step with no layers (ablation:none or :baseline), else the run the layered runs were derived from.
  const baseEntry = ablated.find((x) => x.layer === "none" || x.layer === "baseline");
  const base = baseEntry?.run ?? runs.find((r) => r.runId === ablated.find((x) => x.run.parentRunId !== null)?.run.parentRunId);
  const layers = ablated
    .filter((x) => x.run !== base)
    .sort((a, b) => stepOrder(a.layer) - stepOrder(b.layer) || a.run.startedAt - b.run.startedAt);
  const ablation: Row[] = [];
  let previous = base ? value(base.runId, "net_pnl_usd") : null;
  let previousBrier = base ? value(base.runId, "brier") : null;
  for (const { run, layer } of layers) {
    const net = value(run.runId, "net_pnl_usd");
    const brier = value(run.runId, "brier");
    ablation.push({
      run_id: run.runId,
      layer,
      base_run_id: base?.runId ?? null,
      net_pnl_usd: net,
      pnl_usd: value(run.runId, "pnl_usd"),
      brier,
      ai_spend_usd: value(run.runId, "ai_spend_usd"),
      trades: value(run.runId, "trades"),
      // What adding the layer changed: this step minus the one before it (signed).
      delta_usd: net !== null && previous !== null ? net - previous : null,
      delta_brier: brier !== null && previousBrier !== null ? brier - previousBrier : null,
    });
    previous = net;
    previousBrier = brier;
  }
  const waterfall: Row[] = [];
  const start = base ? value(base.runId, "net_pnl_usd") : null;
  if (base && start !== null) {
    waterfall.push({ step: "base run", start: 0, end: start, kind: "total", order: 0, label: signedUsd(start).replace(/^\+/, "") });
    let level = start;
    let order = 1;
    for (const a of ablation) {
      const delta = a["delta_usd"];
      if (typeof delta !== "number") continue;
      waterfall.push({ step: `+ ${String(a["layer"])}`, start: level, end: level + delta, kind: delta >= 0 ? "gain" : "loss", order: order++, label: signedUsd(delta) });
      level += delta;
    }
    waterfall.push({ step: "all layers", start: 0, end: level, kind: "total", order, label: signedUsd(level).replace(/^\+/, "") });
  }
  return { ablation, waterfall };
}
