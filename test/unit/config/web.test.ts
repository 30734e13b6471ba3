import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/section.js';
import { parseWebToolsConfig } from '../../../src/config/web.js';

function problems(env: Record<string, string>): string {
  try {
    parseWebToolsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseWebToolsConfig', () => {
  it('defaults to no search provider and the documented fetch caps', () => {
    const config = parseWebToolsConfig({});
    expect(config.search).toEqual({ provider: 'none', maxResults: 10, timeoutMs: 15_000 });
    expect(config.fetch).toMatchObject({
      maxBytes: 2 * 1024 * 1024,
      timeoutMs: 10_000,
      maxRedirects: 5,
      maxOutputBytes: 64 * 1024,
    });
    expect(config.fetch.userAgent).toContain('durable-agents');
  });

  it('configures Tavily and Brave with their default endpoints, or the override', () => {
    const tavily = parseWebToolsConfig({ WEB_SEARCH_PROVIDER: 'Tavily', TAVILY_API_KEY: 'tvly-abc' }).search;
    expect(tavily).toMatchObject({
      provider: 'tavily',
      baseUrl: 'https://api.tavily.com',
      searchDepth: 'basic',
    });
    const brave = parseWebToolsConfig({
      WEB_SEARCH_PROVIDER: 'brave',
      BRAVE_API_KEY: 'BSA-abc',
      WEB_SEARCH_BASE_URL: 'http://127.0.0.1:9999',
    }).search;
    expect(brave).toMatchObject({ provider: 'brave', baseUrl: 'http://127.0.0.1:9999' });
  });

  it('keeps keys out of printed config', () => {
    const config = parseWebToolsConfig({ WEB_SEARCH_PROVIDER: 'tavily', TAVILY_API_KEY: 'tvly-very-secret' });
    expect(JSON.stringify(config)).not.toContain('tvly-very-secret');
  });

  it('lists every problem with an actionable message, never echoing a key', () => {
    const message = problems({
      WEB_SEARCH_PROVIDER: 'google',
      FETCH_URL_MAX_BYTES: '12',
      FETCH_URL_TIMEOUT_MS: 'soon',
    });
    expect(message).toContain(
      'WEB_SEARCH_PROVIDER must be one of tavily, brave, claude, none (got "google")',
    );
    expect(message).toContain('FETCH_URL_MAX_BYTES must be at least 1024 (got "12")');
    expect(message).toContain('FETCH_URL_TIMEOUT_MS must be a whole number');
    expect(problems({ WEB_SEARCH_PROVIDER: 'tavily' })).toContain(
      'WEB_SEARCH_PROVIDER=tavily needs TAVILY_API_KEY',
    );
    expect(problems({ WEB_SEARCH_PROVIDER: 'brave', TAVILY_API_KEY: 'tvly-secret-1' })).not.toContain(
      'tvly-secret-1',
    );
    expect(problems({ WEB_SEARCH_PROVIDER: 'claude' })).toContain('WEB_SEARCH_CLAUDE_DEPLOYMENT');
    expect(problems({ WEB_SEARCH_BASE_URL: 'ftp://x' })).toContain(
      'WEB_SEARCH_BASE_URL must be an http(s) URL',
    );
  });

  it('treats blank settings as unset', () => {
    expect(parseWebToolsConfig({ WEB_SEARCH_PROVIDER: '  ', FETCH_URL_MAX_BYTES: '' }).fetch.maxBytes).toBe(
      2 * 1024 * 1024,
    );
  });
});
