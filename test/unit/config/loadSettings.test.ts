import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/config/section.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  it('returns every section at once, with defaults when nothing is set', () => {
    const settings = loadSettings({});
    expect(Object.keys(settings).sort()).toEqual(['app', 'mcp', 'models', 'runCode', 'telemetry', 'web']);
    expect(settings.mcp).toEqual([]);
    expect(settings.app.maxWaitSeconds).toBe(60);
    expect(settings.models.offline).toBe(true);
    expect(settings.web.search.provider).toBe('none');
    expect(settings.runCode.RUN_CODE_TIMEOUT_MS).toBe(30_000);
    expect(settings.telemetry).toEqual({});
  });

  it('lists the problems of every section in one error, each naming its setting', () => {
    const error = errorOf({
      WORKFLOW_MAX_WAIT_SECONDS: '999',
      MODEL_TIMEOUT_SECONDS: 'soon',
      WEB_SEARCH_PROVIDER: 'tavily',
      RUN_CODE_MEMORY_MB: '0',
      OTEL_TRACES_EXPORTER: 'zipkin',
      MCP_SERVERS: '{"crm":',
      URL_POLICY_ALLOW_HOSTS: 'http://crm.internal',
    });
    expect(error.problems).toEqual([
      'app: WORKFLOW_MAX_WAIT_SECONDS must be at most 230 (got "999")',
      'app: URL_POLICY_ALLOW_HOSTS entry "http://crm.internal" is a URL; list the host name alone',
      'models: MODEL_TIMEOUT_SECONDS must be a whole number from 1 to 540 (got "soon")',
      'web: WEB_SEARCH_PROVIDER=tavily needs TAVILY_API_KEY (a key from app.tavily.com, e.g. tvly-...)',
      'runCode: RUN_CODE_MEMORY_MB must be a positive whole number (got "0")',
      'telemetry: OTEL_TRACES_EXPORTER must be otlp or none (this app ships only OTLP), got "zipkin"',
      'mcp: MCP_SERVERS must be JSON: Unexpected end of JSON input',
    ]);
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- app: WORKFLOW_MAX_WAIT_SECONDS/);
    expect(error.message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(7);
  });

  it('keeps every section’s problems, not only the first of each', () => {
    const error = errorOf({
      ARTIFACTS_CONTAINER: 'Bad_Name',
      CALLBACK_SIGNING_SECRET: 'short',
      ANTHROPIC_BASE_URL: 'not a url',
      MODEL_MAX_RETRIES: '7',
    });
    expect(error.problems.filter((problem) => problem.startsWith('app: '))).toHaveLength(2);
    expect(error.problems.filter((problem) => problem.startsWith('models: '))).toHaveLength(3);
  });

  it('never shows a secret’s value', () => {
    const secret = 'tvly-0123456789abcdef0123456789';
    const error = errorOf({
      TAVILY_API_KEY: secret,
      WEB_SEARCH_PROVIDER: 'tavily',
      WEB_SEARCH_MAX_RESULTS: '99',
      CALLBACK_SIGNING_SECRET: 'short-secret-value',
      ANTHROPIC_API_KEY: 'sk-ant-secret-key-value',
      ANTHROPIC_STRUCTURED_OUTPUT: 'sometimes',
    });
    expect(error.problems.length).toBeGreaterThanOrEqual(3);
    for (const value of [secret, 'short-secret-value', 'sk-ant-secret-key-value']) {
      expect(error.message).not.toContain(value);
    }
  });

  it('lets no other error pass as a settings problem', () => {
    expect(() => loadSettings(null as unknown as Record<string, string>)).toThrow(TypeError);
  });
});
