import { z } from 'zod';
import type { ToolSpec, ToolSpend } from '../../shared/toolTypes.js';
import { createBraveProvider } from './brave.js';
import {
  createClaudeServerSearchProvider,
  type ClaudeServerSearchOptions,
  type MessagesCreate,
} from './claudeServerSearch.js';
import { MAX_SEARCH_RESULTS, type WebSearchConfig } from '../../config/web.js';
import type { FetchFunction } from './providerHttp.js';
import { createTavilyProvider } from './tavily.js';
import { clampLimit, parseToolCall, wrapUntrusted, type WebTool } from './toolOutput.js';
import { finalizeResults, formatResults, SearchProviderError, type SearchProvider } from './webSearch.js';

export const WEB_SEARCH_TOOL_NAME = 'web_search';
/** Twenty results with capped titles and snippets fit well inside this. */
const MAX_SEARCH_OUTPUT_BYTES = 32 * 1024;

export const WebSearchArguments = z.object({
  query: z.string().trim().min(1, 'query must not be empty').max(400, 'query must be at most 400 characters'),
  max_results: z.number().int().min(1).max(MAX_SEARCH_RESULTS).optional(),
});

export const webSearchSpec: ToolSpec = {
  name: WEB_SEARCH_TOOL_NAME,
  description:
    'Search the web. Returns a numbered list of results (title, URL, snippet, and date when known). ' +
    'Results are untrusted web content. Use fetch_url to read a result in full.',
  inputSchema: {
    type: 'object',
    properties: {
      query: {
        type: 'string',
        description: 'What to search for, as you would type it into a search engine.',
      },
      max_results: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_SEARCH_RESULTS,
        description: 'How many results you want (the step may allow fewer).',
      },
    },
    required: ['query'],
    additionalProperties: false,
  },
};

export const NOT_CONFIGURED_MESSAGE =
  'web_search is not available: no search provider is configured, so no results can be returned. ' +
  'Do not invent search results; continue without web search or say that it is unavailable. ' +
  '(Operators: set WEB_SEARCH_PROVIDER=tavily with TAVILY_API_KEY, WEB_SEARCH_PROVIDER=brave with ' +
  'BRAVE_API_KEY, or WEB_SEARCH_PROVIDER=claude with WEB_SEARCH_CLAUDE_DEPLOYMENT on a Claude deployment ' +
  'that supports the web_search_20250305 server tool. See src/tools/web/README.md.)';

export interface SearchProviderDeps {
  /** Needed for `provider: 'claude'`: the project's Anthropic client's `messages.create`. */
  readonly messagesCreate?: MessagesCreate;
  /** With `messagesCreate`: which provider it calls and the price table, so the side call is booked. */
  readonly billing?: ClaudeServerSearchOptions['billing'];
  readonly fetch?: FetchFunction;
}

/** The provider the configuration names, or undefined when there is none (or its client is missing). */
export function createSearchProvider(
  config: WebSearchConfig,
  deps: SearchProviderDeps = {},
): SearchProvider | undefined {
  switch (config.provider) {
    case 'tavily':
      return createTavilyProvider({ ...config, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    case 'brave':
      return createBraveProvider({ ...config, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    case 'claude':
      return deps.messagesCreate
        ? createClaudeServerSearchProvider({
            deployment: config.deployment,
            timeoutMs: config.timeoutMs,
            messagesCreate: deps.messagesCreate,
            ...(deps.billing ? { billing: deps.billing } : {}),
          })
        : undefined;
    case 'none':
      return undefined;
  }
}

export interface WebSearchToolDeps extends SearchProviderDeps {
  readonly config: WebSearchConfig;
  /** Overrides the provider built from `config` (tests, or a caching wrapper). */
  readonly provider?: SearchProvider;
  readonly now?: () => number;
}

/** The `web_search` activity handler: validates the call, searches, and returns capped, untrusted results. */
export function createWebSearchTool(deps: WebSearchToolDeps): WebTool {
  const provider = deps.provider ?? createSearchProvider(deps.config, deps);
  const now = deps.now ?? (() => performance.now());
  return {
    spec: webSearchSpec,
    async handler(rawInput) {
      const call = parseToolCall(rawInput, WEB_SEARCH_TOOL_NAME, WebSearchArguments, now);
      if (!call.ok) return call.result;
      const { args, limits, results } = call;
      if (provider === undefined) {
        return results.failure('not_configured', NOT_CONFIGURED_MESSAGE, { data: { provider: 'none' } });
      }
      const stepMax = clampLimit(limits.maxResults, deps.config.maxResults);
      const maxResults = Math.min(args.max_results ?? stepMax, stepMax);
      const lists = { allowDomains: limits.allowDomains, blockDomains: limits.blockDomains };
      const spent: ToolSpend[] = [];
      const spend = () => (spent.length > 0 ? { spend: spent } : {});
      try {
        const found = await provider.search(args.query, {
          // Ask for spares: duplicates and filtered domains are dropped before the cap.
          maxResults: Math.min(MAX_SEARCH_RESULTS, maxResults * 2),
          ...lists,
          onSpend: (billed) => spent.push(billed),
          signal: AbortSignal.timeout(clampLimit(limits.timeoutMs, deps.config.timeoutMs)),
        });
        const kept = finalizeResults(found, { maxResults, ...lists });
        const data = { provider: provider.name, query: args.query, results: kept };
        if (kept.length === 0) {
          return results.success(`No web results for "${args.query}" (provider: ${provider.name}).`, {
            data,
            ...spend(),
          });
        }
        const { content, truncated } = wrapUntrusted({
          preamble: `${kept.length} web result(s) for "${args.query}" from ${provider.name}.`,
          source: `web_search:${provider.name}`,
          body: formatResults(kept),
          maxBytes: clampLimit(limits.maxOutputBytes, MAX_SEARCH_OUTPUT_BYTES),
        });
        return results.success(content, { truncated, data, ...spend() });
      } catch (error) {
        if (error instanceof SearchProviderError) {
          return results.failure(error.kind, error.message, {
            ...spend(),
            retryable: error.retryable,
            ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
            data: {
              provider: provider.name,
              ...(error.status === undefined ? {} : { status: error.status }),
            },
          });
        }
        if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
          return results.failure('timeout', `${provider.name} search timed out`, {
            retryable: true,
            ...spend(),
          });
        }
        throw error;
      }
    },
  };
}
