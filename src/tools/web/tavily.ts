import { z } from 'zod';
import type { Secret } from '../../models/secret.js';
import { normalizeDomain } from '../../net/domains.js';
import { requestProviderJson, type FetchFunction } from './providerHttp.js';
import { SearchProviderError, type SearchProvider, type SearchResult } from './webSearch.js';

export interface TavilyOptions {
  readonly apiKey: Secret;
  /** Origin of the API; `/search` is appended. */
  readonly baseUrl: string;
  readonly searchDepth: 'basic' | 'advanced';
  readonly timeoutMs: number;
  readonly fetch?: FetchFunction;
}

const TavilyResponse = z.object({
  results: z.array(
    z.object({
      title: z.string().nullish(),
      url: z.string(),
      content: z.string().nullish(),
      published_date: z.string().nullish(),
    }),
  ),
});

/**
 * Tavily's `POST /search`, authenticated with `Authorization: Bearer <key>` (the older `api_key` body
 * field is not sent). Domain lists map to `include_domains` / `exclude_domains`.
 */
export function createTavilyProvider(options: TavilyOptions): SearchProvider {
  return {
    name: 'tavily',
    async search(query, { maxResults, allowDomains, blockDomains, signal }) {
      const body = await requestProviderJson({
        provider: 'Tavily',
        keySetting: 'TAVILY_API_KEY',
        url: new URL('search', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`),
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.apiKey.reveal()}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: {
          query,
          max_results: maxResults,
          search_depth: options.searchDepth,
          include_answer: false,
          include_raw_content: false,
          include_images: false,
          ...(allowDomains?.length ? { include_domains: allowDomains.map(normalizeDomain) } : {}),
          ...(blockDomains?.length ? { exclude_domains: blockDomains.map(normalizeDomain) } : {}),
        },
        secret: options.apiKey,
        timeoutMs: options.timeoutMs,
        signal,
        fetch: options.fetch,
        // 432 and 433 are Tavily's plan and pay-as-you-go credit limits: waiting a minute will not help.
        classify: (status) =>
          status === 432 || status === 433 ? { kind: 'rate_limited', retryable: false } : undefined,
      });
      const parsed = TavilyResponse.safeParse(body);
      if (!parsed.success) {
        throw new SearchProviderError('Tavily sent a response without a results list', {
          kind: 'upstream_error',
          retryable: true,
        });
      }
      return parsed.data.results.map((result): SearchResult => ({
        title: result.title ?? '',
        url: result.url,
        snippet: result.content ?? '',
        ...(result.published_date ? { publishedDate: result.published_date } : {}),
        source: 'tavily',
      }));
    },
  };
}
