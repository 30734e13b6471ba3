import { describe, expect, it } from 'vitest';
import { ModelConfigError, parseModelConfig } from '../../../src/config/models.js';
import { resolveRoute, routeChain } from '../../../src/models/routing.js';

const config = parseModelConfig({
  FOUNDRY_BASE_URL: 'https://myres.services.ai.azure.com/anthropic/',
  FOUNDRY_USE_ENTRA: 'true',
  OPENAI_API_KEY: 'sk-routing-test-key-000000',
  MODEL_ROLE_PLANNER_FALLBACK: 'writer,foundry:claude-sonnet-5',
});

describe('role routing', () => {
  it('routes attempt 0 to the role itself and later attempts along the fallback chain', () => {
    expect(resolveRoute(config, 'planner', 0)).toEqual({
      route: { provider: 'foundry', deployment: 'claude-opus-4-8' },
      fallbackAvailable: true,
    });
    expect(resolveRoute(config, 'planner', 1)).toEqual({
      route: { provider: 'openai', deployment: 'gpt-5.4' },
      fallbackAvailable: true,
    });
    expect(resolveRoute(config, 'planner', 2)).toEqual({
      route: { provider: 'foundry', deployment: 'claude-sonnet-5' },
      fallbackAvailable: false,
    });
    expect(resolveRoute(config, 'worker', 0).fallbackAvailable).toBe(false);
  });

  it("tries a workflow's own deployment first, keeping the role's chain as its fallback", () => {
    const pinned = { provider: 'openai', deployment: 'gpt-5-mini' } as const;
    expect(resolveRoute(config, 'worker', 0, pinned)).toEqual({ route: pinned, fallbackAvailable: true });
    expect(resolveRoute(config, 'worker', 1, pinned)).toEqual({
      route: { provider: 'foundry', deployment: 'claude-haiku-4-5' },
      fallbackAvailable: false,
    });
    // A role the workflow declares itself has only its own deployment.
    expect(resolveRoute(config, 'summarizer', 0, pinned)).toEqual({
      route: pinned,
      fallbackAvailable: false,
    });
  });

  it('lists the whole chain', () => {
    expect(routeChain(config, 'planner').map((route) => `${route.provider}:${route.deployment}`)).toEqual([
      'foundry:claude-opus-4-8',
      'openai:gpt-5.4',
      'foundry:claude-sonnet-5',
    ]);
  });

  it('treats an attempt past the chain as a caller bug', () => {
    expect(() => resolveRoute(config, 'worker', 1)).toThrow(
      'Model role "worker" has 1 deployment(s) (attempt 0..0); got attempt 1',
    );
  });

  it('names the setting for unknown and unavailable roles', () => {
    expect(() => resolveRoute(config, 'critic', 0)).toThrow(
      'unknown model role "critic" (configured: planner, worker, writer); set MODEL_ROLE_CRITIC=<provider>:<deployment> to add it',
    );
    const claudeOnly = parseModelConfig({ ANTHROPIC_API_KEY: 'sk-ant-routing-test-0000' });
    expect(() => resolveRoute(claudeOnly, 'writer', 0)).toThrow(ModelConfigError);
    expect(() => resolveRoute(claudeOnly, 'writer', 0)).toThrow('AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY');
    expect(claudeOnly.roles.planner?.fallback).toEqual([]);
  });
});
