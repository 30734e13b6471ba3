import type { FunctionInvoker, FunctionRegistration } from '../functions/types.js';
import { normalizeAuthLevel, type AuthLevel } from './keys.js';
import { compileRouteTemplate, comparePrecedence, type RouteTemplate } from './routeTemplate.js';

export interface HttpFunctionRoute {
  functionName: string;
  template: RouteTemplate;
  /** Upper-case; empty means every method. */
  methods: string[];
  authLevel: AuthLevel;
  /** Names of `durableClient` / `orchestrationClient` input bindings. */
  durableClientBindings: string[];
}

export interface RouteInfo {
  name: string;
  methods: string[];
  url: string;
  authLevel: AuthLevel;
}

function isHttpTrigger(r: FunctionRegistration): boolean {
  return r.triggerType.toLowerCase() === 'httptrigger';
}

export function durableClientBindingNames(r: FunctionRegistration): string[] {
  return Object.entries(r.bindings)
    .filter(([, b]) => /^(durableclient|orchestrationclient)$/i.test(b.type) && b.direction !== 'out')
    .map(([name]) => name);
}

/** Compiles every HTTP trigger's route; throws naming the function when one is invalid. */
export function compileFunctionRoutes(invoker: FunctionInvoker): HttpFunctionRoute[] {
  const routes: HttpFunctionRoute[] = [];
  for (const registration of invoker.registrations.values()) {
    if (!isHttpTrigger(registration)) continue;
    const trigger = registration.trigger;
    const route =
      typeof trigger.route === 'string' && trigger.route.trim() !== '' ? trigger.route : registration.name;
    try {
      const methods = Array.isArray(trigger.methods)
        ? trigger.methods.map((m) => String(m).toUpperCase())
        : ['GET', 'POST'];
      routes.push({
        functionName: registration.name,
        template: compileRouteTemplate(route),
        methods,
        authLevel: normalizeAuthLevel(trigger.authLevel ?? 'function'),
        durableClientBindings: durableClientBindingNames(registration),
      });
    } catch (error) {
      throw new Error(`Function '${registration.name}': ${(error as Error).message}`, { cause: error });
    }
  }
  return routes.sort((a, b) => comparePrecedence(a.template, b.template));
}

export type RouteLookup =
  | { kind: 'match'; route: HttpFunctionRoute; params: Record<string, string> }
  | { kind: 'methodNotAllowed'; allow: string[] }
  | { kind: 'none' };

/** HTTP method acts as a route constraint: a lower-precedence route that allows it still wins. */
export function findRoute(
  routes: readonly HttpFunctionRoute[],
  segments: string[],
  method: string,
): RouteLookup {
  const allow = new Set<string>();
  const upper = method.toUpperCase();
  for (const route of routes) {
    const params = route.template.match(segments);
    if (!params) continue;
    const allows = (m: string): boolean => route.methods.length === 0 || route.methods.includes(m);
    if (allows(upper) || (upper === 'HEAD' && allows('GET'))) return { kind: 'match', route, params };
    for (const m of route.methods) allow.add(m);
  }
  return allow.size > 0 ? { kind: 'methodNotAllowed', allow: [...allow] } : { kind: 'none' };
}

/** The HTTP functions as `func start` prints them; `url` is absolute when `baseUrl` is given. */
export function listHttpRoutes(invoker: FunctionInvoker, routePrefix: string, baseUrl = ''): RouteInfo[] {
  const base = baseUrl.replace(/\/+$/, '');
  const prefix = routePrefix ? `/${routePrefix}` : '';
  return compileFunctionRoutes(invoker)
    .map((r) => ({
      name: r.functionName,
      methods: r.methods,
      url: `${base}${prefix}/${r.template.template.replace(/^~?\/+/, '')}`,
      authLevel: r.authLevel,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function formatRoutes(routes: readonly RouteInfo[]): string {
  return routes
    .map(
      (r) =>
        `  ${r.name}: [${r.methods.join(',')}] ${r.url}${r.authLevel === 'anonymous' ? '' : ` (${r.authLevel} key)`}`,
    )
    .join('\n');
}
