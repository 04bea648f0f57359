/**
 * The router of a fitted consensus config. Members may come from different
 * runs, each with its own router: the fitted config must carry, for every
 * member, the endpoint that answered it, a route that calls exactly that
 * model, and its price, or the replay of the fit would send requests nowhere
 * (issue 13: `bad_request` ×500, 0 scored). Each member gets its own task,
 * named after the model; endpoints that share a name but differ between runs
 * are kept apart under "<name>~<run>".
 */
import type { RouterConfig } from "../router/routerConfig.ts";
import { canonicalJson, parseRunConfig, type RunConfig } from "../../strategies/runConfig.ts";
import { resolveRouterConfig } from "../replay/modelStack.ts";

export interface FitMember {
  /** The fit's member name: "<endpoint>/<model>", or "<run>:<endpoint>/<model>" when a model is in several runs. */
  name: string;
  runId: string;
  /** The forecast's model, "<endpoint>/<model>". */
  model: string;
}

export class FittedRouterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FittedRouterError";
  }
}

export interface FittedRouter {
  router: RouterConfig;
  /** Member name → router task of the fitted config. */
  taskOf: Map<string, string>;
  /** Training cutoffs carried over from the members' runs, keyed by the routed name. */
  models: RunConfig["models"];
}

type Route = RouterConfig["routes"][string];
type ModelRef = Route["chain"][number];

function routesCalling(router: RouterConfig, endpoint: string, model: string): Array<{ route: Route; ref: ModelRef }> {
  const out: Array<{ route: Route; ref: ModelRef }> = [];
  for (const route of Object.values(router.routes)) {
    for (const ref of [...route.chain, ...(route.premium ?? [])]) if (ref.endpoint === endpoint && ref.model === model) out.push({ route, ref });
  }
  for (const ref of router.budget?.whenExhausted?.fallback ?? []) if (ref.endpoint === endpoint && ref.model === model) out.push({ route: { chain: [ref] }, ref });
  return out;
}

/** `configs`: each member run's config_json as stored. The first member's router gives budget, breaker, retry and defaults. */
export function fittedRouter(members: readonly FitMember[], configs: ReadonlyMap<string, string>): FittedRouter {
  const endpoints: RouterConfig["endpoints"] = {};
  const routes: RouterConfig["routes"] = {};
  const prices: Record<string, NonNullable<NonNullable<RouterConfig["prices"]>["models"]>[string]> = {};
  const priceFiles = new Set<string>();
  const taskOf = new Map<string, string>();
  const models: RunConfig["models"] = {};
  let first: RouterConfig | undefined;
  for (const member of members) {
    const json = configs.get(member.runId);
    if (json === undefined) throw new FittedRouterError(`member ${member.name}: run ${member.runId} is not in the results DB`);
    let config: RunConfig;
    let router: RouterConfig | undefined;
    try {
      config = parseRunConfig(JSON.parse(json), `run ${member.runId} config`);
      router = resolveRouterConfig(config);
    } catch (error) {
      throw new FittedRouterError(`member ${member.name}: cannot read run ${member.runId}'s router (${(error as Error).message.split("\n")[0]})`);
    }
    if (!router) throw new FittedRouterError(`member ${member.name}: run ${member.runId} recorded no router, so the fitted config cannot call this model`);
    first ??= router;
    const slash = member.model.indexOf("/");
    const endpointName = member.model.slice(0, slash);
    const modelName = member.model.slice(slash + 1);
    const endpoint = router.endpoints[endpointName];
    const found = routesCalling(router, endpointName, modelName)[0];
    if (slash <= 0 || !endpoint || !found) throw new FittedRouterError(`member ${member.name}: run ${member.runId}'s router has no route calling endpoint "${endpointName}" model "${modelName}"`);
    // Same endpoint name in two runs: one entry when they agree, kept apart when they differ.
    let name = endpointName;
    if (endpoints[name] !== undefined && canonicalJson(endpoints[name]) !== canonicalJson(endpoint)) name = `${endpointName}~${member.runId}`;
    endpoints[name] = endpoint;
    const { chain: _chain, premium: _premium, preferPremiumWhen: _prefer, ...routeSettings } = found.route;
    const task = member.name;
    routes[task] = { ...routeSettings, chain: [{ endpoint: name, model: modelName, tier: found.ref.tier }] };
    taskOf.set(member.name, task);
    const price = router.prices?.models?.[member.model] ?? router.prices?.models?.[modelName];
    if (price !== undefined) prices[`${name}/${modelName}`] = price;
    else if (router.prices?.file) priceFiles.add(router.prices.file);
    else if (endpoint.kind !== "local" && endpoint.kind !== "cassette") throw new FittedRouterError(`member ${member.name}: run ${member.runId}'s router has no price for ${member.model}`);
    const cutoff = config.models[member.model] ?? config.models[modelName];
    if (cutoff) models[`${name}/${modelName}`] = cutoff;
  }
  if (priceFiles.size > 1) throw new FittedRouterError(`members' prices come from ${priceFiles.size} different price files (${[...priceFiles].join(", ")}); put them in one`);
  const { endpoints: _e, routes: _r, prices: _p, ...rest } = first ?? { endpoints: {}, routes: {} };
  // A budget fallback may name an endpoint the fitted router does not carry: keep only the refs it can call.
  if (rest.budget?.whenExhausted?.fallback) {
    const fallback = rest.budget.whenExhausted.fallback.filter((ref) => endpoints[ref.endpoint] !== undefined);
    const { fallback: _f, ...whenExhausted } = rest.budget.whenExhausted;
    rest.budget = { ...rest.budget, whenExhausted: fallback.length > 0 ? { ...whenExhausted, fallback } : whenExhausted };
  }
  const router: RouterConfig = {
    ...rest,
    endpoints,
    routes,
    prices: { ...(priceFiles.size === 1 ? { file: [...priceFiles][0]! } : {}), models: prices },
  };
  return { router, taskOf, models };
}
