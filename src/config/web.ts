import { z } from 'zod';
import { Secret } from '../models/secret.js';
import { ConfigError, intSetting, readSection, type Env } from './section.js';
import { DEFAULT_USER_AGENT } from '../net/userAgent.js';

export const SEARCH_PROVIDERS = ['tavily', 'brave', 'claude', 'none'] as const;
export type SearchProviderName = (typeof SEARCH_PROVIDERS)[number];

/** Providers cap results per request (Tavily and Brave at 20); more would only be cut later. */
export const MAX_SEARCH_RESULTS = 20;

export const DEFAULT_BASE_URLS = {
  tavily: 'https://api.tavily.com',
  brave: 'https://api.search.brave.com',
} as const;

interface SearchLimits {
  /** Results per call when neither the step nor the model asks for fewer. */
  readonly maxResults: number;
  readonly timeoutMs: number;
}

export type WebSearchConfig =
  | ({ readonly provider: 'none' } & SearchLimits)
  | ({
      readonly provider: 'tavily';
      readonly apiKey: Secret;
      readonly baseUrl: string;
      readonly searchDepth: 'basic' | 'advanced';
    } & SearchLimits)
  | ({ readonly provider: 'brave'; readonly apiKey: Secret; readonly baseUrl: string } & SearchLimits)
  | ({ readonly provider: 'claude'; readonly deployment: string } & SearchLimits);

export interface FetchUrlConfig {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  /** Cap on the text handed to the model, wrapper included. */
  readonly maxOutputBytes: number;
  readonly userAgent: string;
}

export interface WebToolsConfig {
  readonly search: WebSearchConfig;
  readonly fetch: FetchUrlConfig;
}

const EnvSchema = z.object({
  WEB_SEARCH_PROVIDER: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(
      z.enum(SEARCH_PROVIDERS, {
        error: `WEB_SEARCH_PROVIDER must be one of ${SEARCH_PROVIDERS.join(', ')}`,
      }),
    )
    .default('none'),
  TAVILY_API_KEY: z.string().optional(),
  BRAVE_API_KEY: z.string().optional(),
  WEB_SEARCH_BASE_URL: z
    .url({
      protocol: /^https?$/,
      error: 'WEB_SEARCH_BASE_URL must be an http(s) URL, e.g. https://api.tavily.com',
    })
    .optional(),
  WEB_SEARCH_CLAUDE_DEPLOYMENT: z.string().optional(),
  WEB_SEARCH_TAVILY_DEPTH: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(['basic', 'advanced'], { error: 'WEB_SEARCH_TAVILY_DEPTH must be basic or advanced' }))
    .default('basic'),
  WEB_SEARCH_MAX_RESULTS: intSetting('WEB_SEARCH_MAX_RESULTS', 1, MAX_SEARCH_RESULTS, 10),
  WEB_SEARCH_TIMEOUT_MS: intSetting('WEB_SEARCH_TIMEOUT_MS', 1_000, 120_000, 15_000),
  FETCH_URL_MAX_BYTES: intSetting('FETCH_URL_MAX_BYTES', 1_024, 50 * 1024 * 1024, 2 * 1024 * 1024),
  FETCH_URL_TIMEOUT_MS: intSetting('FETCH_URL_TIMEOUT_MS', 500, 120_000, 10_000),
  FETCH_URL_MAX_REDIRECTS: intSetting('FETCH_URL_MAX_REDIRECTS', 0, 10, 5),
  FETCH_URL_MAX_OUTPUT_BYTES: intSetting('FETCH_URL_MAX_OUTPUT_BYTES', 1_024, 1024 * 1024, 64 * 1024),
  FETCH_URL_USER_AGENT: z.string().default(DEFAULT_USER_AGENT),
});

const SECRET_KEYS: ReadonlySet<string> = new Set(['TAVILY_API_KEY', 'BRAVE_API_KEY']);

function requiredFor(provider: string, key: string, hint: string): string {
  return `WEB_SEARCH_PROVIDER=${provider} needs ${key} (${hint})`;
}

/**
 * Parses the web tools' settings. Empty strings count as unset. Problems are collected into one
 * ConfigError; secret values never appear in it.
 */
export function parseWebToolsConfig(env: Env): WebToolsConfig {
  const parsed = readSection(EnvSchema, env, SECRET_KEYS);
  if (parsed.data === undefined) throw new ConfigError(parsed.problems);
  const settings = parsed.data;
  const limits: SearchLimits = {
    maxResults: settings.WEB_SEARCH_MAX_RESULTS,
    timeoutMs: settings.WEB_SEARCH_TIMEOUT_MS,
  };
  const problems: string[] = [];
  let search: WebSearchConfig = { provider: 'none', ...limits };
  switch (settings.WEB_SEARCH_PROVIDER) {
    case 'tavily':
      if (settings.TAVILY_API_KEY === undefined) {
        problems.push(requiredFor('tavily', 'TAVILY_API_KEY', 'a key from app.tavily.com, e.g. tvly-...'));
        break;
      }
      search = {
        provider: 'tavily',
        apiKey: new Secret(settings.TAVILY_API_KEY),
        baseUrl: settings.WEB_SEARCH_BASE_URL ?? DEFAULT_BASE_URLS.tavily,
        searchDepth: settings.WEB_SEARCH_TAVILY_DEPTH,
        ...limits,
      };
      break;
    case 'brave':
      if (settings.BRAVE_API_KEY === undefined) {
        problems.push(requiredFor('brave', 'BRAVE_API_KEY', 'a Brave Search API subscription token'));
        break;
      }
      search = {
        provider: 'brave',
        apiKey: new Secret(settings.BRAVE_API_KEY),
        baseUrl: settings.WEB_SEARCH_BASE_URL ?? DEFAULT_BASE_URLS.brave,
        ...limits,
      };
      break;
    case 'claude':
      if (settings.WEB_SEARCH_CLAUDE_DEPLOYMENT === undefined) {
        problems.push(
          requiredFor(
            'claude',
            'WEB_SEARCH_CLAUDE_DEPLOYMENT',
            'the name of a Claude deployment whose hosting supports the web_search_20250305 server tool',
          ),
        );
        break;
      }
      if (settings.WEB_SEARCH_BASE_URL !== undefined) {
        problems.push(
          'WEB_SEARCH_BASE_URL does not apply to WEB_SEARCH_PROVIDER=claude (it uses the model client)',
        );
      }
      search = { provider: 'claude', deployment: settings.WEB_SEARCH_CLAUDE_DEPLOYMENT, ...limits };
      break;
    case 'none':
      break;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    search,
    fetch: {
      maxBytes: settings.FETCH_URL_MAX_BYTES,
      timeoutMs: settings.FETCH_URL_TIMEOUT_MS,
      maxRedirects: settings.FETCH_URL_MAX_REDIRECTS,
      maxOutputBytes: settings.FETCH_URL_MAX_OUTPUT_BYTES,
      userAgent: settings.FETCH_URL_USER_AGENT,
    },
  };
}
