/**
 * A sweep's plan: the grid of variants from `--vary key=a,b,c` options
 * (dotted paths into the config JSON), and which variants share their
 * forecasts. Variants that differ only in how forecasts are decided on
 * (risk limits, the paper broker, metrics, consensus weights and pooling)
 * form one group: its first variant calls the models, the others re-decide
 * its stored forecasts.
 */
import { canonicalJson, checkRunConfigKey, parseRunConfig, type RunConfig } from "../../strategies/runConfig.ts";

export interface Vary {
  path: string[];
  values: unknown[];
}

export interface Variant {
  index: number;
  /** e.g. "risk.kellyFraction=0.1,broker.latencyMs=500" */
  label: string;
  config: RunConfig;
  /** Variants with the same key make the same forecasts. */
  forecastKey: string;
}

/** `key=v1,v2,v3`; values are JSON where they parse (numbers, booleans, objects), strings otherwise. */
export function parseVary(option: string): Vary {
  const eq = option.indexOf("=");
  if (eq <= 0) throw new Error(`--vary ${option}: expected key=value1,value2,…`);
  const path = option.slice(0, eq).split(".");
  if (path.some((p) => p === "")) throw new Error(`--vary ${option}: empty key segment`);
  // Checked before any variant runs: a misspelt key would otherwise sweep identical configs.
  const unknown = checkRunConfigKey(path);
  if (unknown !== null) throw new Error(`--vary ${option.slice(0, eq)}: ${unknown}`);
  const values = splitValues(option.slice(eq + 1)).map((v) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  });
  if (values.length === 0) throw new Error(`--vary ${option}: no values`);
  return { path, values };
}

/** Splits on commas outside brackets and quotes, so `a=[1,2],{"x":1}` works. */
function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' && text[i - 1] !== "\\") quoted = !quoted;
    else if (!quoted && (ch === "[" || ch === "{")) depth++;
    else if (!quoted && (ch === "]" || ch === "}")) depth--;
    else if (!quoted && depth === 0 && ch === ",") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== "object") node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** What a variant's forecasts depend on: the config minus everything that only decides. */
export function forecastKey(config: RunConfig): string {
  const { risk: _r, broker: _b, metrics: _m, name: _n, description: _d, $schema: _s, ...rest } = config;
  let strategy: unknown = config.strategy;
  if (config.strategy.kind === "consensus") {
    const { pool: _p, extremize: _e, minMembers: _mm, maxSpread: _ms, members, ...s } = config.strategy;
    strategy = { ...s, members: members.map((m) => m.task) };
  }
  return canonicalJson({ ...rest, strategy });
}

export function planSweep(baseJson: Record<string, unknown>, varies: readonly Vary[]): Variant[] {
  let grid: Array<Array<[Vary, unknown]>> = [[]];
  for (const vary of varies) grid = grid.flatMap((combo) => vary.values.map((v) => [...combo, [vary, v] as [Vary, unknown]]));
  const baseName = typeof baseJson["name"] === "string" ? baseJson["name"] : "sweep";
  return grid.map((combo, index) => {
    const json = structuredClone(baseJson);
    for (const [vary, value] of combo) setPath(json, vary.path, value);
    const label = combo.map(([vary, value]) => `${vary.path.join(".")}=${typeof value === "string" ? value : JSON.stringify(value)}`).join(",");
    json["name"] = label ? `${baseName}[${label}]` : baseName;
    const config = parseRunConfig(json, `variant ${index + 1} (${label || "base"})`);
    return { index, label, config, forecastKey: forecastKey(config) };
  });
}

/** Groups in plan order; the first variant of each group is its leader. */
export function groupByForecasts(variants: readonly Variant[]): Variant[][] {
  const groups = new Map<string, Variant[]>();
  for (const v of variants) {
    const g = groups.get(v.forecastKey);
    if (g) g.push(v);
    else groups.set(v.forecastKey, [v]);
  }
  return [...groups.values()];
}
