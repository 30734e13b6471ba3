import type {
  MessageCreateParamsNonStreaming,
  WebSearchTool20250305,
} from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import { costUsd, findPrice, webSearchCostUsd } from '../../models/cost.js';
import { classifyModelError } from '../../models/errors.js';
import type { PriceTable } from '../../models/prices.js';
import type { FailureKind, ProviderKind } from '../../shared/modelTypes.js';
import type { ToolSpend } from '../../shared/toolTypes.js';
import { normalizeDomain } from '../../net/domains.js';
import {
  SearchProviderError,
  type SearchFailureKind,
  type SearchProvider,
  type SearchResult,
} from './webSearch.js';

/** `client.messages.create` of the project's Anthropic (or AnthropicFoundry) client, or a fake. */
export type MessagesCreate = (
  params: MessageCreateParamsNonStreaming,
  options?: { signal?: AbortSignal; timeout?: number },
) => Promise<unknown>;

export interface ClaudeServerSearchOptions {
  /** A deployment whose hosting supports the server tool (Azure-hosted Foundry: only this version). */
  readonly deployment: string;
  readonly messagesCreate: MessagesCreate;
  readonly timeoutMs: number;
  readonly maxTokens?: number;
  /** Where the side call goes and what it costs, for the run's ledger (ToolSpend). */
  readonly billing?: { readonly provider: ProviderKind; readonly prices: PriceTable };
}

/** The Messages API usage block (`cache_*` and `server_tool_use` may be absent or null). */
const Usage = z.object({
  input_tokens: z.int().nonnegative(),
  output_tokens: z.int().nonnegative(),
  cache_creation_input_tokens: z.int().nonnegative().nullish(),
  cache_read_input_tokens: z.int().nonnegative().nullish(),
  server_tool_use: z.object({ web_search_requests: z.int().nonnegative().nullish() }).nullish(),
});
const Billed = z.object({ model: z.string().optional(), usage: Usage });

/**
 * What the side call used and cost: tokens at the deployment's price plus $10 per 1,000 searches
 * (`usage.server_tool_use.web_search_requests`; errored searches are not billed and not counted there).
 * Undefined when the answer carries no usage block.
 */
export function sideCallSpend(
  raw: unknown,
  deployment: string,
  billing: NonNullable<ClaudeServerSearchOptions['billing']>,
): ToolSpend | undefined {
  const billed = Billed.safeParse(raw);
  if (!billed.success) return undefined;
  const { usage: wire, model } = billed.data;
  const usage = {
    inputTokens: wire.input_tokens,
    outputTokens: wire.output_tokens,
    cacheWriteTokens: wire.cache_creation_input_tokens ?? 0,
    cacheReadTokens: wire.cache_read_input_tokens ?? 0,
  };
  const webSearches = wire.server_tool_use?.web_search_requests ?? 0;
  const price = findPrice(billing.prices, ...(model ? [model] : []), deployment);
  const tokensUsd = price ? costUsd(usage, price) : 0;
  return {
    provider: billing.provider,
    deployment,
    usage,
    webSearches,
    costUsd: Math.round((tokensUsd + webSearchCostUsd(webSearches)) * 1e8) / 1e8,
    priced: price !== undefined,
  };
}

const WebSearchResult = z.object({
  type: z.literal('web_search_result'),
  url: z.string(),
  title: z.string().nullish(),
  page_age: z.string().nullish(),
});
const WebSearchToolResult = z.object({
  type: z.literal('web_search_tool_result'),
  content: z.union([
    z.array(z.looseObject({ type: z.string() })),
    z.object({ type: z.literal('web_search_tool_result_error'), error_code: z.string() }),
  ]),
});
const TextWithCitations = z.object({
  type: z.literal('text'),
  citations: z
    .array(z.looseObject({ type: z.string(), url: z.string().optional(), cited_text: z.string().optional() }))
    .nullish(),
});
const MessageShape = z.object({ content: z.array(z.looseObject({ type: z.string() })) });

const TOOL_ERRORS: Readonly<Record<string, { kind: SearchFailureKind; retryable: boolean }>> = {
  too_many_requests: { kind: 'rate_limited', retryable: true },
  unavailable: { kind: 'upstream_error', retryable: true },
  max_uses_exceeded: { kind: 'upstream_error', retryable: false },
  invalid_tool_input: { kind: 'invalid_arguments', retryable: false },
  query_too_long: { kind: 'invalid_arguments', retryable: false },
  request_too_large: { kind: 'invalid_arguments', retryable: false },
};

const MODEL_FAILURES: Readonly<Record<FailureKind, SearchFailureKind>> = {
  rate_limited: 'rate_limited',
  overloaded: 'upstream_error',
  server_error: 'upstream_error',
  timeout: 'timeout',
  network: 'upstream_error',
  bad_request: 'upstream_error',
  unauthorized: 'not_configured',
  forbidden: 'not_configured',
  not_found: 'not_configured',
  unprocessable: 'upstream_error',
  invalid_output: 'upstream_error',
  max_tokens: 'upstream_error',
  refusal: 'upstream_error',
  context_window_exceeded: 'invalid_arguments',
};

function prompt(query: string): string {
  return (
    'Use the web_search tool once to search the web for the query below. Then list the most relevant ' +
    'results, quoting one short sentence from each page.\n\nQuery: ' +
    query
  );
}

/** The quoted text Claude cited for each URL: the closest thing to a snippet this tool exposes. */
function citedTextByUrl(content: readonly unknown[]): Map<string, string> {
  const cited = new Map<string, string>();
  for (const block of content) {
    const text = TextWithCitations.safeParse(block);
    for (const citation of text.success ? (text.data.citations ?? []) : []) {
      if (citation.type !== 'web_search_result_location' || !citation.url || !citation.cited_text) continue;
      cited.set(citation.url, [cited.get(citation.url), citation.cited_text].filter(Boolean).join(' … '));
    }
  }
  return cited;
}

/**
 * Claude's server-side `web_search_20250305` tool as a search provider: one Messages API call offering
 * only that tool, with the `web_search_tool_result` blocks turned into normalized results. Anthropic bills
 * $10 per 1,000 searches plus tokens; results arrive without snippets, so cited text stands in.
 */
export function createClaudeServerSearchProvider(options: ClaudeServerSearchOptions): SearchProvider {
  return {
    name: 'claude',
    async search(query, { allowDomains, blockDomains, signal, onSpend }) {
      const tool: WebSearchTool20250305 = {
        type: 'web_search_20250305',
        name: 'web_search',
        max_uses: 1,
        // The API takes one list or the other; blocks are still applied afterwards by finalizeResults.
        ...(allowDomains?.length
          ? { allowed_domains: allowDomains.map(normalizeDomain) }
          : blockDomains?.length
            ? { blocked_domains: blockDomains.map(normalizeDomain) }
            : {}),
      };
      let raw: unknown;
      try {
        raw = await options.messagesCreate(
          {
            model: options.deployment,
            max_tokens: options.maxTokens ?? 1024,
            tools: [tool],
            messages: [{ role: 'user', content: prompt(query) }],
          },
          { timeout: options.timeoutMs, ...(signal ? { signal } : {}) },
        );
      } catch (error) {
        const failure = classifyModelError(error, { nowMs: Date.now() });
        throw new SearchProviderError(`Claude web search failed: ${failure.message}`, {
          kind: MODEL_FAILURES[failure.kind],
          retryable: failure.retryable,
          status: failure.status,
          retryAfterMs: failure.retryAfterMs,
        });
      }
      // Billed whatever the answer holds: report it before any check below can throw.
      const spend = options.billing ? sideCallSpend(raw, options.deployment, options.billing) : undefined;
      if (spend) onSpend?.(spend);
      const message = MessageShape.safeParse(raw);
      if (!message.success) {
        throw new SearchProviderError('Claude sent a response without content blocks', {
          kind: 'upstream_error',
          retryable: true,
        });
      }
      const cited = citedTextByUrl(message.data.content);
      const results: SearchResult[] = [];
      let searched = false;
      for (const block of message.data.content) {
        const toolResult = WebSearchToolResult.safeParse(block);
        if (!toolResult.success) continue;
        searched = true;
        const content = toolResult.data.content;
        if (!Array.isArray(content)) {
          const mapped = TOOL_ERRORS[content.error_code] ?? { kind: 'upstream_error', retryable: false };
          throw new SearchProviderError(`Claude web search reported ${content.error_code}`, mapped);
        }
        for (const item of content) {
          const result = WebSearchResult.safeParse(item);
          if (!result.success) continue;
          results.push({
            title: result.data.title ?? '',
            url: result.data.url,
            snippet: cited.get(result.data.url) ?? '',
            ...(result.data.page_age ? { publishedDate: result.data.page_age } : {}),
            source: 'claude',
          });
        }
      }
      if (!searched) {
        throw new SearchProviderError(
          `Claude did not run a web search (is web_search_20250305 enabled on deployment ${options.deployment}?)`,
          { kind: 'upstream_error', retryable: true },
        );
      }
      return results;
    },
  };
}
