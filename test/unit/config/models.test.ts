import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  azureOpenAIBaseUrl,
  describeModelConfig,
  ModelConfigError,
  parseModelConfig,
} from '../../../src/config/models.js';
import { DEFAULT_PRICES } from '../../../src/models/prices.js';

const KEY = 'sk-test-very-secret-key-123456';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseModelConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelConfigError);
    expect((error as Error).message).not.toContain(KEY);
    return [...(error as ModelConfigError).problems];
  }
  throw new Error('expected a ModelConfigError');
}

describe('parseModelConfig', () => {
  it('falls back to the offline model, loudly, when no provider is configured', () => {
    const config = parseModelConfig({});
    expect(config.offline).toBe(true);
    expect(config.httpClient).toBe('node');
    expect(parseModelConfig({ MODEL_HTTP_CLIENT: 'fetch' }).httpClient).toBe('fetch');
    expect(config.offlineReason).toContain('no model provider is configured');
    expect(config.roles).toEqual({
      planner: {
        route: { provider: 'foundry', deployment: 'claude-opus-4-8' },
        fallback: [{ provider: 'azure-openai', deployment: 'gpt-5.4' }],
      },
      worker: { route: { provider: 'foundry', deployment: 'claude-haiku-4-5' }, fallback: [] },
      writer: { route: { provider: 'azure-openai', deployment: 'gpt-5.4' }, fallback: [] },
    });
    expect(config).toMatchObject({
      timeoutMs: 120_000,
      maxRetries: 0,
      defaultMaxTokens: 4096,
      prices: DEFAULT_PRICES,
    });
  });

  it('never defaults to retired or ending models', () => {
    const deployments = Object.values(parseModelConfig({}).roles).map((role) => role.route.deployment);
    expect(deployments.filter((name) => /opus-4-1|sonnet-4-5/.test(name))).toEqual([]);
  });

  it('configures Foundry with a key and Azure OpenAI with Entra, and routes roles to them', () => {
    const config = parseModelConfig({
      FOUNDRY_RESOURCE: 'myres',
      FOUNDRY_API_KEY: KEY,
      AZURE_OPENAI_ENDPOINT: 'https://aoai.openai.azure.com/',
      AZURE_OPENAI_USE_ENTRA: 'true',
    });
    expect(config.offline).toBe(false);
    expect(config.providers.foundry).toMatchObject({
      endpoint: { resource: 'myres' },
      auth: { type: 'api-key' },
      structuredOutput: 'tool',
    });
    expect(config.providers['azure-openai']).toEqual({
      kind: 'azure-openai',
      baseURL: 'https://aoai.openai.azure.com/openai/v1/',
      auth: { type: 'entra', scope: 'https://cognitiveservices.azure.com/.default' },
      api: 'responses',
    });
    expect(config.roles.planner?.route).toEqual({ provider: 'foundry', deployment: 'claude-opus-4-8' });
    expect(config.roles.writer?.route).toEqual({ provider: 'azure-openai', deployment: 'gpt-5.4' });
  });

  it('keeps secrets out of String(), JSON and util.inspect', () => {
    const config = parseModelConfig({
      ANTHROPIC_API_KEY: KEY,
      FOUNDRY_RESOURCE: 'myres',
      FOUNDRY_API_KEY: KEY,
    });
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(inspect(config, { depth: 10 })).not.toContain(KEY);
    expect(
      String(
        config.providers.anthropic && 'apiKey' in config.providers.anthropic
          ? config.providers.anthropic.apiKey
          : '',
      ),
    ).toBe('[redacted]');
  });

  it('reads custom roles, explicit routes and fallback chains', () => {
    const config = parseModelConfig({
      ANTHROPIC_API_KEY: KEY,
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      MODEL_ROLE_PLANNER: 'anthropic:claude-opus-5',
      MODEL_ROLE_PLANNER_FALLBACK: 'writer, anthropic:claude-sonnet-5',
      MODEL_ROLE_TRIAGE: 'openai:llama3.3',
      MODEL_ROLE_WORKER_FALLBACK: 'none',
    });
    expect(config.roles.planner).toEqual({
      route: { provider: 'anthropic', deployment: 'claude-opus-5' },
      fallback: [
        { provider: 'openai', deployment: 'gpt-5.4' },
        { provider: 'anthropic', deployment: 'claude-sonnet-5' },
      ],
    });
    expect(config.roles.triage).toEqual({
      route: { provider: 'openai', deployment: 'llama3.3' },
      fallback: [],
    });
    expect(config.roles.worker).toEqual({
      route: { provider: 'anthropic', deployment: 'claude-haiku-4-5' },
      fallback: [],
    });
    expect(config.providers.openai).toMatchObject({
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKey: undefined,
    });
  });

  it('marks default roles unavailable (not an error) when their provider family is missing', () => {
    const config = parseModelConfig({
      AZURE_OPENAI_ENDPOINT: 'https://aoai.openai.azure.com',
      AZURE_OPENAI_API_KEY: KEY,
    });
    expect(Object.keys(config.roles)).toEqual(['writer']);
    expect(config.unavailableRoles.planner).toBe(
      'role "planner" defaults to claude-opus-4-8 but no Claude provider is configured; set FOUNDRY_RESOURCE ' +
        '(Claude on Foundry) or ANTHROPIC_API_KEY, or MODEL_ROLE_PLANNER=<provider>:<deployment>',
    );
  });

  it('rejects a key and Entra at once, naming both settings', () => {
    expect(
      problemsOf({ FOUNDRY_RESOURCE: 'myres', FOUNDRY_API_KEY: KEY, FOUNDRY_USE_ENTRA: 'true' }),
    ).toEqual([
      'FOUNDRY_API_KEY and FOUNDRY_USE_ENTRA=true are both set; keep one (the key, or Entra ID auth)',
    ]);
    expect(
      problemsOf({
        AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com',
        AZURE_OPENAI_API_KEY: KEY,
        AZURE_OPENAI_USE_ENTRA: '1',
      }),
    ).toEqual([
      'AZURE_OPENAI_API_KEY and AZURE_OPENAI_USE_ENTRA=true are both set; keep one (the key, or Entra ID auth)',
    ]);
  });

  it('names each bad setting and what to set', () => {
    expect(
      problemsOf({
        FOUNDRY_RESOURCE: 'https://myres.services.ai.azure.com',
        AZURE_OPENAI_ENDPOINT: 'not a url',
        AZURE_OPENAI_API_KEY: KEY,
        MODEL_ROLE_PLANNER: 'claude-opus-4-8',
        MODEL_TIMEOUT_SECONDS: '900',
        MODEL_MAX_RETRIES: '3',
        MODEL_HTTP_CLIENT: 'curl',
        OFFLINE_MODEL: 'maybe',
        MODEL_PRICES_JSON: '{"x": {"input": -1, "output": 1}}',
      }),
    ).toEqual([
      'OFFLINE_MODEL must be one of auto, on, off (got "maybe")',
      'FOUNDRY_RESOURCE is the bare resource name, e.g. "myres" for https://myres.services.ai.azure.com (got "https://myres.services.ai.azure.com")',
      'set FOUNDRY_API_KEY, or FOUNDRY_USE_ENTRA=true to use Entra ID (managed identity, az login)',
      'AZURE_OPENAI_ENDPOINT must be an http(s) URL, e.g. https://myres.openai.azure.com (got "not a url")',
      'MODEL_ROLE_PLANNER must be <provider>:<deployment> with provider one of foundry, anthropic, azure-openai, openai, e.g. foundry:claude-opus-4-8 (got "claude-opus-4-8")',
      'MODEL_PRICES_JSON at x.input: Too small: expected number to be >=0; each entry is {"input":n,"output":n,"cacheWrite"?:n,"cacheRead"?:n,"longPrompt"?:{"aboveTokens":n,…}} in USD per million tokens',
      'MODEL_TIMEOUT_SECONDS must be a whole number from 1 to 540 (got "900")',
      'MODEL_MAX_RETRIES must be a whole number from 0 to 1 (got "3")',
      'MODEL_HTTP_CLIENT must be one of node, fetch (got "curl")',
    ]);
  });

  it('rejects routes and fallbacks to providers or roles that are not configured', () => {
    expect(
      problemsOf({
        ANTHROPIC_API_KEY: KEY,
        MODEL_ROLE_WRITER: 'azure-openai:gpt-5.4',
        MODEL_ROLE_PLANNER_FALLBACK: 'editor',
        MODEL_ROLE_GHOST_FALLBACK: 'planner',
      }),
    ).toEqual([
      'MODEL_ROLE_WRITER uses provider "azure-openai", which is not configured; configure it (see src/models/README.md) or pick another provider',
      'MODEL_ROLE_PLANNER_FALLBACK names role "editor", which is not configured; use a configured role or <provider>:<deployment>',
      'MODEL_ROLE_GHOST_FALLBACK is set but role "ghost" is not; set MODEL_ROLE_GHOST too',
    ]);
  });

  it('reads role-level thinking, effort and reasoning effort, not as custom roles', () => {
    const config = parseModelConfig({
      ANTHROPIC_API_KEY: KEY,
      OPENAI_API_KEY: KEY,
      MODEL_ROLE_PLANNER_THINKING: 'adaptive',
      MODEL_ROLE_PLANNER_EFFORT: 'XHigh',
      MODEL_ROLE_WRITER_REASONING_EFFORT: 'low',
      MODEL_ROLE_TRIAGE: 'anthropic:claude-sonnet-5',
      MODEL_ROLE_TRIAGE_THINKING: 'off',
    });
    expect(config.roles.planner).toEqual({
      route: { provider: 'anthropic', deployment: 'claude-opus-4-8' },
      fallback: [{ provider: 'openai', deployment: 'gpt-5.4' }],
      thinking: 'adaptive',
      effort: 'xhigh',
    });
    expect(config.roles.writer).toMatchObject({ reasoningEffort: 'low' });
    expect(config.roles.writer).not.toHaveProperty('thinking');
    expect(config.roles.triage).toMatchObject({ thinking: 'off' });
    expect(Object.keys(config.roles).sort()).toEqual(['planner', 'triage', 'worker', 'writer']);
  });

  it('names every bad role-level thinking or effort setting', () => {
    expect(
      problemsOf({
        ANTHROPIC_API_KEY: KEY,
        MODEL_ROLE_PLANNER_THINKING: 'enabled',
        MODEL_ROLE_PLANNER_EFFORT: 'minimal',
        MODEL_ROLE_WORKER_REASONING_EFFORT: 'max',
        MODEL_ROLE_GHOST_EFFORT: 'low',
      }),
    ).toEqual([
      'MODEL_ROLE_PLANNER_THINKING must be one of adaptive, off (got "enabled")',
      'MODEL_ROLE_PLANNER_EFFORT must be one of low, medium, high, xhigh, max (got "minimal")',
      'MODEL_ROLE_WORKER_REASONING_EFFORT must be one of none, minimal, low, medium, high, xhigh (got "max")',
      'MODEL_ROLE_GHOST_EFFORT is set but role "ghost" is not; set MODEL_ROLE_GHOST too',
    ]);
  });

  it('requires a provider when OFFLINE_MODEL=off, and forces offline with OFFLINE_MODEL=on', () => {
    expect(problemsOf({ OFFLINE_MODEL: 'off' })[0]).toContain(
      'OFFLINE_MODEL=off but no model provider is configured',
    );
    const forced = parseModelConfig({ OFFLINE_MODEL: 'on', ANTHROPIC_API_KEY: KEY });
    expect(forced).toMatchObject({ offline: true, offlineReason: 'OFFLINE_MODEL=on', providers: {} });
  });

  it('on Azure (WEBSITE_INSTANCE_ID), refuses to go offline unless OFFLINE_MODEL=on', () => {
    const azure = { WEBSITE_INSTANCE_ID: 'f1c0…instance' };
    expect(problemsOf(azure)).toEqual([
      'no model provider is configured and this app runs on Azure (WEBSITE_INSTANCE_ID is set); set ' +
        'FOUNDRY_RESOURCE, ANTHROPIC_API_KEY, AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY, or OFFLINE_MODEL=on ' +
        'to answer with the offline stand-in on purpose',
    ]);
    expect(problemsOf({ ...azure, OFFLINE_MODEL: 'auto' })).toHaveLength(1);
    expect(parseModelConfig({ ...azure, OFFLINE_MODEL: 'on' })).toMatchObject({
      offline: true,
      offlineReason: 'OFFLINE_MODEL=on',
    });
    expect(parseModelConfig({ ...azure, ANTHROPIC_API_KEY: KEY }).offline).toBe(false);
    // Locally the offline model stays the default.
    expect(parseModelConfig({}).offline).toBe(true);
  });

  it('merges MODEL_PRICES_JSON over the defaults, cache rates defaulting to the input rate', () => {
    const config = parseModelConfig({ MODEL_PRICES_JSON: '{"my-gpt":{"input":2,"output":8}}' });
    expect(config.prices['my-gpt']).toEqual({ input: 2, output: 8, cacheWrite: 2, cacheRead: 2 });
    expect(config.prices['claude-haiku-4-5']).toEqual({
      input: 1,
      output: 5,
      cacheWrite: 1.25,
      cacheRead: 0.1,
    });
    expect(problemsOf({ MODEL_PRICES_JSON: '{oops' })[0]).toContain('MODEL_PRICES_JSON is not valid JSON');
  });

  it('normalizes Azure OpenAI endpoints to the v1 base URL', () => {
    for (const endpoint of [
      'https://r.openai.azure.com',
      'https://r.openai.azure.com/',
      'https://r.openai.azure.com/openai',
      'https://r.openai.azure.com/openai/v1/',
    ]) {
      expect(azureOpenAIBaseUrl(endpoint)).toBe('https://r.openai.azure.com/openai/v1/');
    }
  });

  it('describes the routing for the startup log, offline mode first', () => {
    expect(describeModelConfig(parseModelConfig({}))).toBe(
      [
        'MODELS ARE OFFLINE: no model provider is configured (FOUNDRY_RESOURCE, ANTHROPIC_API_KEY, AZURE_OPENAI_ENDPOINT, ' +
          'OPENAI_API_KEY are unset). Answers come from the deterministic stand-in and are marked [offline].',
        '  planner: foundry:claude-opus-4-8 → azure-openai:gpt-5.4',
        '  worker: foundry:claude-haiku-4-5',
        '  writer: azure-openai:gpt-5.4',
      ].join('\n'),
    );
    const online = describeModelConfig(parseModelConfig({ ANTHROPIC_API_KEY: KEY }));
    expect(online).toContain('writer: unavailable');
    expect(online).not.toContain(KEY);
  });
});
