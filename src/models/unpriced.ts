/**
 * Deployments without a price. A call to one costs 0 in the ledger (`priced: false`), so a budget never
 * trips on it: the startup log names them, and runs with a budget that could reach one are refused.
 */
import { limitsOf, strictestLimits } from '../files/limits.js';
import type { ModelRouteSpec } from '../shared/modelTypes.js';
import { ModelConfigError, type ModelConfig } from '../config/models.js';
import { findPrice } from './cost.js';
import { workflowRouteChain } from './routing.js';

export interface UnpricedRoute extends ModelRouteSpec {
  readonly role: string;
}

/** A role as a workflow uses it: the configured role, and the workflow's own deployment for it, if any. */
export interface RoleUse {
  readonly role: string;
  readonly route?: ModelRouteSpec;
}

export const UNPRICED_FIX =
  'add each deployment to MODEL_PRICES_JSON, e.g. {"my-deployment":{"input":1,"output":5}} (USD per million tokens)';

type PricingConfig = Pick<ModelConfig, 'roles' | 'unavailableRoles' | 'prices'>;

/**
 * Every deployment the uses can reach (own deployment and fallback chain) that has no price under its
 * deployment name, once per role and deployment, in use order. The endpoint may still report a priced
 * model id for it; startup cannot know that, so the deployment name is what must be priced.
 * Unknown and unavailable roles are skipped: calling them fails with their own message.
 */
export function unpricedRoutes(config: PricingConfig, uses: readonly RoleUse[]): UnpricedRoute[] {
  const found = new Map<string, UnpricedRoute>();
  for (const { role, route } of uses) {
    let chain;
    try {
      chain = workflowRouteChain(config, role, route);
    } catch (error) {
      if (error instanceof ModelConfigError) continue;
      throw error;
    }
    for (const { provider, deployment } of chain) {
      const key = `${role}\n${provider}:${deployment}`;
      if (!findPrice(config.prices, deployment) && !found.has(key)) {
        found.set(key, { role, provider, deployment });
      }
    }
  }
  return [...found.values()];
}

/** The unpriced deployments of every configured role, for the startup warning. */
export function unpricedConfiguredRoutes(config: PricingConfig): UnpricedRoute[] {
  return unpricedRoutes(
    config,
    Object.keys(config.roles)
      .sort()
      .map((role) => ({ role })),
  );
}

/** `role "worker" → foundry:my-haiku, role "planner" → azure-openai:my-gpt`: one entry per role and deployment. */
export function describeUnpriced(routes: readonly UnpricedRoute[]): string {
  return routes
    .map(({ role, provider, deployment }) => `role "${role}" → ${provider}:${deployment}`)
    .join(', ');
}

/** For the run starter: what is unpriced among the deployments the uses reach, with the setting to fix. */
export function unpricedProblem(config: PricingConfig): (uses: readonly RoleUse[]) => string | undefined {
  return (uses) => {
    const routes = unpricedRoutes(config, uses);
    if (routes.length === 0) return undefined;
    return (
      `${describeUnpriced(routes)} ${routes.length === 1 ? 'has' : 'have'} no price, so the budget could ` +
      `not count ${routes.length === 1 ? 'its' : 'their'} calls; ${UNPRICED_FIX}`
    );
  };
}

/**
 * The file limits (src/files/limits.ts) of every provider the uses can reach, fallbacks included, as one
 * strictest set: a file the starter accepts fits whichever deployment answers.
 */
export function fileLimitsFor(
  config: PricingConfig,
): (uses: readonly RoleUse[]) => ReturnType<typeof strictestLimits> {
  return (uses) => {
    const kinds = new Set<ModelRouteSpec['provider']>();
    for (const { role, route } of uses) {
      try {
        for (const step of workflowRouteChain(config, role, route)) kinds.add(step.provider);
      } catch (error) {
        if (!(error instanceof ModelConfigError)) throw error;
      }
    }
    return strictestLimits([...kinds].map(limitsOf));
  };
}
