import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolCallResult, ToolLimits } from '../../../../src/shared/toolTypes.js';
import { ToolCallResult as ToolCallResultSchema } from '../../../../src/shared/toolTypes.js';
import { parseWebToolsConfig } from '../../../../src/config/web.js';
import {
  finalizeResults,
  normalizeResultUrl,
  plainSnippet,
  type SearchProvider,
  type SearchResult,
} from '../../../../src/tools/web/webSearch.js';
import { createWebSearchTool, NOT_CONFIGURED_MESSAGE } from '../../../../src/tools/web/webSearchTool.js';
import {
  braveReplies,
  startFakeBrave,
  startFakeTavily,
  tavilyReplies,
  type FakeResult,
  type FakeSearchServer,
} from '../../../support/fakeSearchServers.js';

const TAVILY_KEY = 'tvly-tool-test-abcdef123456';
const BRAVE_KEY = 'BSA-tool-test-abcdef123456';

const result = (url: string, extra: Partial<SearchResult> = {}): SearchResult => ({
  title: `Title of ${url}`,
  url,
  snippet: `About ${url}`,
  source: 'test',
  ...extra,
});

describe('normalizeResultUrl and finalizeResults', () => {
  it('treats scheme, www., fragments, tracking parameters and trailing slashes as the same page', () => {
    const key = normalizeResultUrl('https://example.com/a/b');
    for (const variant of [
      'http://www.example.com/a/b/',
      'https://EXAMPLE.com/a/b#section',
      'https://example.com/a/b?utm_source=x&fbclid=y',
    ]) {
      expect(normalizeResultUrl(variant), variant).toBe(key);
    }
    expect(normalizeResultUrl('https://example.com/a/b?page=2')).not.toBe(key);
    expect(normalizeResultUrl('javascript:alert(1)')).toBeUndefined();
  });

  it('dedupes, drops non-http results, applies domain lists and caps', () => {
    const kept = finalizeResults(
      [
        result('https://a.example.com/1'),
        result('https://www.a.example.com/1/'),
        result('ftp://files.example.com/x'),
        result('https://blocked.example.net/y'),
        result('https://b.example.com/2'),
        result('https://elsewhere.org/3'),
        result('https://c.example.com/4'),
      ],
      { maxResults: 2, allowDomains: ['example.com', 'example.net'], blockDomains: ['blocked.example.net'] },
    );
    expect(kept.map((r) => r.url)).toEqual(['https://a.example.com/1', 'https://b.example.com/2']);
  });

  it('strips markup and entities from titles and snippets', () => {
    expect(plainSnippet('Durable <strong>Functions</strong> &amp; you&#39;re &#x2014; fine&hellip;')).toBe(
      "Durable Functions & you're — fine…",
    );
  });
});

function searchTool(provider: SearchProvider | undefined, env: Record<string, string> = {}) {
  const config = parseWebToolsConfig(env).search;
  const tool = createWebSearchTool({ config, ...(provider ? { provider } : {}) });
  return (args: Record<string, unknown>, limits?: ToolLimits): Promise<ToolCallResult> =>
    tool.handler({
      runId: 'run-1',
      stepId: 'research',
      toolUseId: 'toolu_9',
      name: 'web_search',
      arguments: args,
      ...(limits ? { limits } : {}),
    });
}

describe('web_search with no provider configured', () => {
  it('says so instead of inventing results', async () => {
    const tool = createWebSearchTool({ config: parseWebToolsConfig({}).search });
    const result = await tool.handler({
      runId: 'r',
      stepId: 's',
      toolUseId: 'toolu_1',
      name: 'web_search',
      arguments: { query: 'anything' },
    });
    expect(result).toMatchObject({ isError: true, errorKind: 'not_configured', retryable: false });
    expect(result.content).toBe(NOT_CONFIGURED_MESSAGE);
    expect(result.content).toContain('WEB_SEARCH_PROVIDER=tavily');
    expect(result.content).toContain('Do not invent search results');
    expect(ToolCallResultSchema.safeParse(result).success).toBe(true);
  });

  it('is also unconfigured for provider=claude without a Messages API client', async () => {
    const config = parseWebToolsConfig({
      WEB_SEARCH_PROVIDER: 'claude',
      WEB_SEARCH_CLAUDE_DEPLOYMENT: 'c',
    }).search;
    const tool = createWebSearchTool({ config });
    const result = await tool.handler({
      runId: 'r',
      stepId: 's',
      toolUseId: 't',
      name: 'web_search',
      arguments: { query: 'q' },
    });
    expect(result.errorKind).toBe('not_configured');
  });
});

describe('web_search through the fake Tavily and Brave servers', () => {
  let tavily: FakeSearchServer;
  let brave: FakeSearchServer;
  const results: FakeResult[] = [
    {
      title: 'Alpha',
      url: 'https://alpha.example.com/post',
      snippet: 'alpha snippet',
      publishedDate: '2025-02-01',
    },
    {
      title: 'Alpha again',
      url: 'https://www.alpha.example.com/post/?utm_source=feed',
      snippet: 'duplicate',
    },
    { title: 'Beta', url: 'https://beta.example.org/page', snippet: 'beta snippet' },
    { title: 'Gamma', url: 'https://gamma.example.net/doc', snippet: 'gamma <b>snippet</b>' },
  ];

  beforeAll(async () => {
    tavily = await startFakeTavily({ apiKey: TAVILY_KEY, results: () => results });
    brave = await startFakeBrave({ apiKey: BRAVE_KEY, results: () => results });
  });
  afterAll(async () => {
    await tavily.close();
    await brave.close();
  });
  beforeEach(() => {
    tavily.requests.length = 0;
    brave.requests.length = 0;
  });

  const tavilyEnv = () => ({
    WEB_SEARCH_PROVIDER: 'tavily',
    TAVILY_API_KEY: TAVILY_KEY,
    WEB_SEARCH_BASE_URL: tavily.baseUrl,
  });
  const braveEnv = () => ({
    WEB_SEARCH_PROVIDER: 'brave',
    BRAVE_API_KEY: BRAVE_KEY,
    WEB_SEARCH_BASE_URL: brave.baseUrl,
  });

  it('returns deduplicated, numbered, untrusted results with the normalized list in data', async () => {
    for (const env of [tavilyEnv(), braveEnv()]) {
      const result = await searchTool(undefined, env)({ query: 'letters' });
      expect(result, env.WEB_SEARCH_PROVIDER).toMatchObject({
        isError: false,
        toolUseId: 'toolu_9',
        name: 'web_search',
      });
      const data = result.data as { provider: string; results: SearchResult[] };
      expect(data.provider).toBe(env.WEB_SEARCH_PROVIDER);
      expect(data.results.map((r) => r.title)).toEqual(['Alpha', 'Beta', 'Gamma']);
      expect(data.results[2]?.snippet).toBe('gamma snippet');
      expect(result.content).toContain(`<untrusted_content source="web_search:${env.WEB_SEARCH_PROVIDER}">`);
      expect(result.content).toContain(
        '1. Alpha (published 2025-02-01)\n   https://alpha.example.com/post\n   alpha snippet',
      );
      expect(result.content).not.toContain(TAVILY_KEY);
      expect(result.content).not.toContain(BRAVE_KEY);
      expect(ToolCallResultSchema.safeParse(result).success).toBe(true);
    }
  });

  it("applies the step's allow and block lists even when the provider ignores them", async () => {
    const call = searchTool(undefined, braveEnv());
    const allowed = await call({ query: 'letters' }, { allowDomains: ['example.org', 'example.net'] });
    expect((allowed.data as { results: SearchResult[] }).results.map((r) => r.title)).toEqual([
      'Beta',
      'Gamma',
    ]);
    const blocked = await call({ query: 'letters' }, { blockDomains: ['alpha.example.com'] });
    expect((blocked.data as { results: SearchResult[] }).results.map((r) => r.title)).toEqual([
      'Beta',
      'Gamma',
    ]);
  });

  it('caps results at the smallest of the model request, the step limit and the configuration, over-fetching for dedupe', async () => {
    const call = searchTool(undefined, { ...tavilyEnv(), WEB_SEARCH_MAX_RESULTS: '5' });
    const capped = await call({ query: 'letters', max_results: 10 }, { maxResults: 2 });
    expect((capped.data as { results: unknown[] }).results).toHaveLength(2);
    expect(tavily.requests[0]?.body).toMatchObject({ max_results: 4 });
  });

  it('maps provider failures to results the loop can act on', async () => {
    const call = searchTool(undefined, tavilyEnv());
    tavily.enqueue(tavilyReplies.rateLimited(4), tavilyReplies.serverError(), tavilyReplies.unauthorized());
    expect(await call({ query: 'q' })).toMatchObject({
      isError: true,
      errorKind: 'rate_limited',
      retryable: true,
      retryAfterMs: 4_000,
    });
    expect(await call({ query: 'q' })).toMatchObject({
      isError: true,
      errorKind: 'upstream_error',
      retryable: true,
    });
    const unauthorized = await call({ query: 'q' });
    expect(unauthorized).toMatchObject({ isError: true, errorKind: 'not_configured', retryable: false });
    expect(unauthorized.content).not.toContain(TAVILY_KEY);

    const braveCall = searchTool(undefined, braveEnv());
    brave.enqueue(braveReplies.rateLimited(1));
    expect(await braveCall({ query: 'q' })).toMatchObject({ errorKind: 'rate_limited', retryAfterMs: 1_000 });
  });

  it('times out at the step limit', async () => {
    tavily.enqueue({ status: 200, body: { results: [] }, delayMs: 1_500 });
    const result = await searchTool(undefined, tavilyEnv())({ query: 'slow' }, { timeoutMs: 150 });
    expect(result).toMatchObject({ isError: true, errorKind: 'timeout', retryable: true });
  });

  it('says when there are no results', async () => {
    tavily.enqueue({ status: 200, body: { query: 'q', results: [] } });
    const result = await searchTool(undefined, tavilyEnv())({ query: 'nothing here' });
    expect(result).toMatchObject({
      isError: false,
      content: 'No web results for "nothing here" (provider: tavily).',
    });
  });

  it('rejects bad arguments without calling the provider', async () => {
    const call = searchTool(undefined, tavilyEnv());
    for (const args of [{}, { query: '' }, { query: 'x'.repeat(401) }, { query: 'ok', max_results: 0 }]) {
      expect(await call(args)).toMatchObject({ isError: true, errorKind: 'invalid_arguments' });
    }
    expect(tavily.requests).toHaveLength(0);
  });
});
