import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../../src/models/secret.js';
import { createBraveProvider } from '../../../../src/tools/web/brave.js';
import { createTavilyProvider } from '../../../../src/tools/web/tavily.js';
import { SearchProviderError, type SearchProvider } from '../../../../src/tools/web/webSearch.js';
import {
  braveReplies,
  startFakeBrave,
  startFakeTavily,
  tavilyReplies,
  type FakeSearchServer,
} from '../../../support/fakeSearchServers.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const TAVILY_KEY = 'tvly-test-0123456789abcdef';
const BRAVE_KEY = 'BSA-test-0123456789abcdef';

async function searchError(provider: SearchProvider, query = 'anything'): Promise<SearchProviderError> {
  const error: unknown = await provider.search(query, { maxResults: 5 }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SearchProviderError);
  return error as SearchProviderError;
}

describe('Tavily provider against the fake Tavily API', () => {
  let fake: FakeSearchServer;
  let tavily: SearchProvider;

  beforeAll(async () => {
    fake = await startFakeTavily({ apiKey: TAVILY_KEY });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    tavily = createTavilyProvider({
      apiKey: new Secret(TAVILY_KEY),
      baseUrl: fake.baseUrl,
      searchDepth: 'basic',
      timeoutMs: 2_000,
    });
  });

  it('POSTs /search with a Bearer key and the documented body, and normalizes the results', async () => {
    const results = await tavily.search('durable functions', {
      maxResults: 2,
      allowDomains: ['*.example.com'],
      blockDomains: ['spam.example.org'],
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/search' });
    expect(request?.headers.authorization).toBe(`Bearer ${TAVILY_KEY}`);
    expect(request?.body).toMatchObject({
      query: 'durable functions',
      max_results: 2,
      search_depth: 'basic',
      include_domains: ['example.com'],
      exclude_domains: ['spam.example.org'],
    });
    expect(JSON.stringify(request?.body)).not.toContain(TAVILY_KEY);
    expect(results).toEqual([
      {
        title: 'Result 1 for durable functions',
        url: 'https://example.com/durable-functions/1',
        snippet: 'Snippet 1 about durable functions.',
        publishedDate: '2025-01-15T00:00:00Z',
        source: 'tavily',
      },
      {
        title: 'Result 2 for durable functions',
        url: 'https://example.com/durable-functions/2',
        snippet: 'Snippet 2 about durable functions.',
        source: 'tavily',
      },
    ]);
  });

  it('maps 429 to a retryable rate limit with the retry-after hint', async () => {
    fake.enqueue(tavilyReplies.rateLimited(3));
    const error = await searchError(tavily);
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 3_000, status: 429 });
    expect(error.message).toContain('excessive requests');
  });

  it('maps 500 to a retryable upstream error and 400 to a non-retryable one', async () => {
    fake.enqueue(tavilyReplies.serverError(), tavilyReplies.badRequest('query is too long'));
    expect(await searchError(tavily)).toMatchObject({ kind: 'upstream_error', retryable: true, status: 500 });
    const bad = await searchError(tavily);
    expect(bad).toMatchObject({ kind: 'upstream_error', retryable: false, status: 400 });
    expect(bad.message).toContain('query is too long');
  });

  it('maps a rejected key to not_configured, naming the setting and never the key', async () => {
    const wrongKey = createTavilyProvider({
      apiKey: new Secret('tvly-wrong-key-123456'),
      baseUrl: fake.baseUrl,
      searchDepth: 'advanced',
      timeoutMs: 2_000,
    });
    const error = await searchError(wrongKey);
    expect(error).toMatchObject({ kind: 'not_configured', retryable: false, status: 401 });
    expect(error.message).toContain('Check TAVILY_API_KEY');
    expect(error.message).not.toContain('tvly-wrong-key-123456');
  });

  it('treats plan limits (432) as rate limits that waiting will not fix', async () => {
    fake.enqueue(tavilyReplies.planLimit());
    expect(await searchError(tavily)).toMatchObject({ kind: 'rate_limited', retryable: false, status: 432 });
  });

  it('times out slow answers as retryable', async () => {
    fake.enqueue({ status: 200, body: { results: [] }, delayMs: 1_000 });
    const slow = createTavilyProvider({
      apiKey: new Secret(TAVILY_KEY),
      baseUrl: fake.baseUrl,
      searchDepth: 'basic',
      timeoutMs: 100,
    });
    expect(await searchError(slow)).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('reports malformed bodies and unreachable servers as retryable upstream errors', async () => {
    fake.enqueue({ status: 200, body: 'not json' }, { status: 200, body: { answer: 'no results key' } });
    expect(await searchError(tavily)).toMatchObject({ kind: 'upstream_error', retryable: true });
    expect(await searchError(tavily)).toMatchObject({ kind: 'upstream_error', retryable: true });
    const unreachable = createTavilyProvider({
      apiKey: new Secret(TAVILY_KEY),
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      searchDepth: 'basic',
      timeoutMs: 2_000,
    });
    const error = await searchError(unreachable);
    expect(error).toMatchObject({ kind: 'upstream_error', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('Brave provider against the fake Brave Search API', () => {
  let fake: FakeSearchServer;
  let brave: SearchProvider;

  beforeAll(async () => {
    fake = await startFakeBrave({ apiKey: BRAVE_KEY });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    brave = createBraveProvider({ apiKey: new Secret(BRAVE_KEY), baseUrl: fake.baseUrl, timeoutMs: 2_000 });
  });

  it('GETs /res/v1/web/search with X-Subscription-Token and normalizes web.results', async () => {
    fake.setResults(() => [
      {
        title: 'Durable <strong>Functions</strong> &amp; you',
        url: 'https://learn.example.com/df',
        snippet: 'Orchestrations <strong>replay</strong>&hellip;',
        publishedDate: '2024-06-01T00:00:00',
      },
    ]);
    const results = await brave.search('durable functions', { maxResults: 4 });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'GET', path: '/res/v1/web/search' });
    expect(request?.headers['x-subscription-token']).toBe(BRAVE_KEY);
    expect(request?.query).toMatchObject({ q: 'durable functions', count: '4' });
    expect(results).toEqual([
      {
        title: 'Durable <strong>Functions</strong> &amp; you',
        url: 'https://learn.example.com/df',
        snippet: 'Orchestrations <strong>replay</strong>&hellip;',
        publishedDate: '2024-06-01T00:00:00',
        source: 'brave',
      },
    ]);
  });

  it('turns a single allowed domain into site: and over-fetches when filtering', async () => {
    await brave.search('rain', { maxResults: 3, allowDomains: ['example.com'] });
    expect(fake.requests[0]?.query).toMatchObject({ q: 'rain site:example.com', count: '20' });
  });

  it('maps 429 with retry-after, 500, 401 and an invalid-token 422', async () => {
    fake.enqueue(braveReplies.rateLimited(2), braveReplies.serverError(), braveReplies.unauthorized());
    expect(await searchError(brave)).toMatchObject({
      kind: 'rate_limited',
      retryable: true,
      retryAfterMs: 2_000,
    });
    expect(await searchError(brave)).toMatchObject({ kind: 'upstream_error', retryable: true, status: 500 });
    expect(await searchError(brave)).toMatchObject({ kind: 'not_configured', retryable: false, status: 401 });
    const wrongKey = createBraveProvider({
      apiKey: new Secret('BSA-wrong-0000000'),
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });
    const error = await searchError(wrongKey);
    expect(error).toMatchObject({ kind: 'not_configured', retryable: false, status: 422 });
    expect(error.message).toContain('Check BRAVE_API_KEY');
    expect(error.message).not.toContain('BSA-wrong-0000000');
  });

  it('treats a response with no web section as no results', async () => {
    fake.enqueue({ status: 200, body: { type: 'search', query: { original: 'x' } } });
    expect(await brave.search('x', { maxResults: 5 })).toEqual([]);
  });
});
