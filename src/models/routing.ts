import { ModelConfigError, type ModelConfig } from '../config/models.js';
import { roleVar, type ModelRoute } from './roles.js';

/** The deployments a role may use, in order: its own, then its fallback chain. */
export function routeChain(
  config: Pick<ModelConfig, 'roles' | 'unavailableRoles'>,
  role: string,
): ModelRoute[] {
  const unavailable = config.unavailableRoles[role];
  if (unavailable !== undefined) throw new ModelConfigError([unavailable]);
  const roleConfig = config.roles[role];
  if (!roleConfig) {
    throw new ModelConfigError([
      `unknown model role "${role}" (configured: ${Object.keys(config.roles).sort().join(', ') || 'none'}); ` +
        `set ${roleVar(role)}=<provider>:<deployment> to add it`,
    ]);
  }
  return [roleConfig.route, ...roleConfig.fallback];
}

/** The chain a call walks: a workflow's own deployment for the role first, then the role's configured chain. */
export function workflowRouteChain(
  config: Pick<ModelConfig, 'roles' | 'unavailableRoles'>,
  role: string,
  workflowRoute?: ModelRoute,
): ModelRoute[] {
  // A workflow may name its own deployment for a role (or declare a new role with one); the
  // configured chain, when the role has one, stays as its fallback.
  return workflowRoute === undefined
    ? routeChain(config, role)
    : [workflowRoute, ...(config.roles[role] ? routeChain(config, role) : [])];
}

export interface ResolvedRoute {
  readonly route: ModelRoute;
  readonly fallbackAvailable: boolean;
}

/** Picks the deployment for `attempt` (0 = the role's own). Asking past the end of the chain is a caller bug. */
export function resolveRoute(
  config: Pick<ModelConfig, 'roles' | 'unavailableRoles'>,
  role: string,
  attempt: number,
  workflowRoute?: ModelRoute,
): ResolvedRoute {
  const chain = workflowRouteChain(config, role, workflowRoute);
  const route = chain[attempt];
  if (!route) {
    throw new RangeError(
      `Model role "${role}" has ${chain.length} deployment(s) (attempt 0..${chain.length - 1}); got attempt ${attempt}`,
    );
  }
  return { route, fallbackAvailable: attempt + 1 < chain.length };
}
