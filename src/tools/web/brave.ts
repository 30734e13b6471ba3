import { z } from 'zod';
import type { Secret } from '../../models/secret.js';
import { normalizeDomain } from '../../net/domains.js';
import { requestProviderJson, type FetchFunction } from './providerHttp.js';
import { MAX_SEARCH_RESULTS } from '../../config/web.js';
import { SearchProviderError, type SearchProvider, type SearchResult } from './webSearch.js';

export interface BraveOptions {
  readonly apiKey: Secret;
  /** Origin of the API; `/res/v1/web/search` is appended. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly fetch?: FetchFunction;
}

const BraveResponse = z.object({
  web: z
    .object({
      results: z.array(
        z.object({
          title: z.string().nullish(),
          url: z.string(),
          description: z.string().nullish(),
          page_age: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});

const AUTH_ERROR_CODES = new Set([
  'SUBSCRIPTION_TOKEN_INVALID',
  'SUBSCRIPTION_NOT_FOUND',
  'RESOURCE_NOT_ALLOWED',
]);

function braveErrorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/**
 * Brave's `GET /res/v1/web/search` with the `X-Subscription-Token` header. Brave has no domain filter
 * parameter, so a single allowed domain becomes a `site:` operator and otherwise the provider over-fetches
 * and leaves filtering to `finalizeResults`.
 */
export function createBraveProvider(options: BraveOptions): SearchProvider {
  return {
    name: 'brave',
    async search(query, { maxResults, allowDomains, blockDomains, signal }) {
      const url = new URL(
        'res/v1/web/search',
        options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`,
      );
      const onlyDomain = allowDomains?.length === 1 ? allowDomains[0] : undefined;
      const filtered = (allowDomains?.length ?? 0) > 0 || (blockDomains?.length ?? 0) > 0;
      url.searchParams.set(
        'q',
        onlyDomain === undefined ? query : `${query} site:${normalizeDomain(onlyDomain)}`,
      );
      url.searchParams.set(
        'count',
        String(filtered ? MAX_SEARCH_RESULTS : Math.min(maxResults, MAX_SEARCH_RESULTS)),
      );
      url.searchParams.set('text_decorations', 'false');
      const body = await requestProviderJson({
        provider: 'Brave Search',
        keySetting: 'BRAVE_API_KEY',
        url,
        method: 'GET',
        headers: { accept: 'application/json', 'x-subscription-token': options.apiKey.reveal() },
        secret: options.apiKey,
        timeoutMs: options.timeoutMs,
        signal,
        fetch: options.fetch,
        // Brave reports a bad or unsubscribed token as 422 with an error code rather than 401.
        classify: (_status, errorBody) => {
          const code = braveErrorCode(errorBody);
          return code !== undefined && AUTH_ERROR_CODES.has(code)
            ? { kind: 'not_configured', retryable: false }
            : undefined;
        },
      });
      const parsed = BraveResponse.safeParse(body);
      if (!parsed.success) {
        throw new SearchProviderError('Brave Search sent a response in an unexpected shape', {
          kind: 'upstream_error',
          retryable: true,
        });
      }
      return (parsed.data.web?.results ?? []).map((result): SearchResult => ({
        title: result.title ?? '',
        url: result.url,
        snippet: result.description ?? '',
        ...(result.page_age ? { publishedDate: result.page_age } : {}),
        source: 'brave',
      }));
    },
  };
}
