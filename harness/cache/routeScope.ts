/**
 * A task's cache scope from the router config: every model its route may use
 * (chain, premium, the exhausted-budget fallback) and the route's sampling
 * defaults. Changing a route's models changes the scope, so answers from the
 * old models are no longer served for it.
 */
import type { RouterConfig } from "../router/routerConfig.ts";
import { canonicalJson } from "./exactKey.ts";

export function routeScopes(config: RouterConfig): (task: string) => string {
  const fallback = config.budget?.whenExhausted?.fallback ?? [];
  return (task) => {
    const route = config.routes[task];
    if (!route) return canonicalJson({ task, route: null });
    const ref = (r: { endpoint: string; model: string }) => `${r.endpoint}/${r.model}`;
    return canonicalJson({
      chain: route.chain.map(ref),
      premium: (route.premium ?? []).map(ref),
      fallback: fallback.map(ref),
      maxTokens: route.maxTokens ?? config.defaults?.maxTokens ?? null,
      temperature: route.temperature ?? null,
    });
  };
}
