/**
 * Unknown keys in a config are mistakes, not options: a typo such as
 * `risk.kellyFracton` must stop the run rather than leave the default in
 * force. This module words those errors (with a did-you-mean drawn from the
 * keys the section accepts) and checks a dotted key path (`sweep --vary`)
 * against a zod schema before any variant is built.
 */
import { z } from "zod";

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length]!;
}

/** The closest candidate when it is close enough to be a plausible typo (a third of the word's length, at least 2 edits). */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function unknownKeyMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((k) => {
      const guess = didYouMean(k, known);
      return `unknown key "${k}"${guess ? ` (did you mean "${guess}"?)` : ""}`;
    })
    .join("; ");
}

/**
 * A zod error map for `safeParse(input, { error })`: unknown keys are named
 * with a suggestion from the object's own shape; every other issue keeps
 * zod's wording.
 */
export const unknownKeyErrors: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "unrecognized_keys") return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return unknownKeyMessage(issue.keys, Object.keys(shape ?? {}));
};

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[]; valueType?: z.ZodType; element?: z.ZodType; getter?: () => z.ZodType };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schemas a value at this node may take, wrappers (default, optional, pipe…) unwrapped and unions spread. */
function alternatives(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "readonly":
    case "catch":
    case "nonoptional":
      return alternatives(def.innerType!);
    case "pipe":
      return alternatives(def.in!);
    case "lazy":
      return alternatives(def.getter!());
    case "union":
      return def.options!.flatMap(alternatives);
    default:
      return [schema];
  }
}

/**
 * Checks a dotted key path against a schema: null when every segment names a
 * field some branch accepts (records accept any key), else a one-line reason
 * with a did-you-mean. `overrides` swaps a node's schema for another (a field
 * kept as written but parsed elsewhere, like the router).
 */
export function checkKeyPath(schema: z.ZodType, path: readonly string[], overrides: ReadonlyMap<string, z.ZodType> = new Map()): string | null {
  let nodes: z.ZodType[] = [schema];
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const here = path.slice(0, i).join(".");
    const next: z.ZodType[] = [];
    const known = new Set<string>();
    let open = false;
    for (const node of nodes.flatMap(alternatives)) {
      const def = defOf(node);
      if (def.type === "object") {
        for (const k of Object.keys(def.shape!)) known.add(k);
        if (def.shape![key]) next.push(def.shape![key]!);
      } else if (def.type === "record") {
        next.push(def.valueType!);
      } else if (def.type === "array") {
        if (/^\d+$/.test(key)) next.push(def.element!);
      } else if (def.type === "unknown" || def.type === "any") {
        open = true;
      }
    }
    if (next.length === 0) {
      if (open) return null;
      if (known.size === 0) return `${here || "(root)"} is a single value; it has no key "${key}"`;
      return `${here || "the config"}: ${unknownKeyMessage([key], [...known])}`;
    }
    const overridden = overrides.get(path.slice(0, i + 1).join("."));
    nodes = overridden ? [overridden] : next;
  }
  return null;
}
