/**
 * The run config's `models` section is keyed by the name forecasts carry,
 * "<endpoint>/<model>". A key that matches no model the router can call would
 * make contamination marking do nothing, silently; so each key is checked
 * against the routes: an exact name is kept, a bare model name that one route
 * uses is taken for that route's full name (with a warning), and anything else
 * stops the run naming the key.
 */
import type { RouterConfig } from "../harness/router/routerConfig.ts";
import { didYouMean } from "./configKeys.ts";
import { ConfigError, type RunConfig } from "./runConfig.ts";

interface ModelRefLike {
  endpoint: string;
  model: string;
}

/** Every "<endpoint>/<model>" the router may answer with: route chains, premium chains and the budget fallback. */
export function routedModelNames(router: RouterConfig): string[] {
  const refs: ModelRefLike[] = [];
  for (const route of Object.values(router.routes)) refs.push(...route.chain, ...(route.premium ?? []));
  refs.push(...(router.budget?.whenExhausted?.fallback ?? []));
  return [...new Set(refs.map((r) => `${r.endpoint}/${r.model}`))].sort();
}

export interface TrainingCutoffs {
  /** Epoch ms per forecast model name. */
  cutoffs: Record<string, number>;
  warnings: string[];
}

/** `router` is the run's router config, resolved (undefined for rule strategies: their keys are kept as written). */
export function resolveTrainingCutoffs(models: RunConfig["models"], router: RouterConfig | undefined): TrainingCutoffs {
  const cutoffs: Record<string, number> = {};
  const warnings: string[] = [];
  const entries = Object.entries(models);
  if (!router) {
    for (const [key, m] of entries) cutoffs[key] = Date.parse(m.trainingCutoff);
    return { cutoffs, warnings };
  }
  const names = routedModelNames(router);
  for (const [key, m] of entries) {
    const at = Date.parse(m.trainingCutoff);
    if (names.includes(key)) {
      cutoffs[key] = at;
      continue;
    }
    const byModel = names.filter((n) => n.slice(n.indexOf("/") + 1) === key);
    if (byModel.length === 1) {
      cutoffs[byModel[0]!] = at;
      warnings.push(`models.${key}: keyed by model name; taken as "${byModel[0]}" (key it by "<endpoint>/<model>" to silence this)`);
      continue;
    }
    if (byModel.length > 1) throw new ConfigError(`field models.${key}: model name used by several routes (${byModel.join(", ")}); key it by "<endpoint>/<model>"`);
    const guess = didYouMean(key, names);
    throw new ConfigError(
      `field models.${key}: no route calls this model, so its training cutoff would mark nothing${guess ? ` (did you mean "${guess}"?)` : ""}; routed models: ${names.join(", ") || "none"}`,
    );
  }
  return { cutoffs, warnings };
}
