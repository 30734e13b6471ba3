import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import {
  createClaudeServerSearchProvider,
  type MessagesCreate,
} from '../../../../src/tools/web/claudeServerSearch.js';
import { SearchProviderError } from '../../../../src/tools/web/webSearch.js';

/** A recorded fake of `client.messages.create` answering with a canned Messages API response. */
function fakeMessages(respond: () => unknown): MessagesCreate & { calls: MessageCreateParamsNonStreaming[] } {
  const calls: MessageCreateParamsNonStreaming[] = [];
  const create: MessagesCreate = (params) => {
    calls.push(params);
    return Promise.resolve().then(respond);
  };
  return Object.assign(create, { calls });
}

const searchResponse = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet',
  stop_reason: 'end_turn',
  usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: 1 } },
  content: [
    { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'rainfall 2025' } },
    {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: [
        {
          type: 'web_search_result',
          url: 'https://weather.example.com/rain',
          title: 'Rainfall 2025',
          encrypted_content: 'abc',
          page_age: 'March 3, 2025',
        },
        {
          type: 'web_search_result',
          url: 'https://news.example.org/story',
          title: 'Wet spring',
          encrypted_content: 'def',
          page_age: null,
        },
      ],
    },
    {
      type: 'text',
      text: 'Rainfall rose 12%.',
      citations: [
        {
          type: 'web_search_result_location',
          url: 'https://weather.example.com/rain',
          title: 'Rainfall 2025',
          encrypted_index: 'x',
          cited_text: 'Rainfall rose by twelve percent.',
        },
      ],
    },
  ],
};

async function failure(provider: ReturnType<typeof createClaudeServerSearchProvider>) {
  const error: unknown = await provider.search('q', { maxResults: 5 }).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(SearchProviderError);
  return error as SearchProviderError;
}

describe('Claude server-side web search provider', () => {
  it('sends only the web_search_20250305 server tool and normalizes web_search_tool_result blocks', async () => {
    const messages = fakeMessages(() => searchResponse);
    const provider = createClaudeServerSearchProvider({
      deployment: 'claude-web',
      messagesCreate: messages,
      timeoutMs: 5_000,
    });
    const results = await provider.search('rainfall 2025', {
      maxResults: 5,
      allowDomains: ['*.example.com'],
    });
    expect(messages.calls).toHaveLength(1);
    const params = messages.calls[0];
    expect(params?.model).toBe('claude-web');
    expect(params?.tools).toEqual([
      { type: 'web_search_20250305', name: 'web_search', max_uses: 1, allowed_domains: ['example.com'] },
    ]);
    expect(JSON.stringify(params?.messages)).toContain('rainfall 2025');
    expect(results).toEqual([
      {
        title: 'Rainfall 2025',
        url: 'https://weather.example.com/rain',
        snippet: 'Rainfall rose by twelve percent.',
        publishedDate: 'March 3, 2025',
        source: 'claude',
      },
      { title: 'Wet spring', url: 'https://news.example.org/story', snippet: '', source: 'claude' },
    ]);
  });

  it('sends blocked_domains only when there is no allow list', async () => {
    const messages = fakeMessages(() => searchResponse);
    const provider = createClaudeServerSearchProvider({
      deployment: 'd',
      messagesCreate: messages,
      timeoutMs: 5_000,
    });
    await provider.search('q', { maxResults: 5, blockDomains: ['spam.example'] });
    expect(messages.calls[0]?.tools?.[0]).toMatchObject({ blocked_domains: ['spam.example'] });
  });

  it('maps web_search_tool_result errors', async () => {
    const withError = (code: string) =>
      createClaudeServerSearchProvider({
        deployment: 'd',
        timeoutMs: 5_000,
        messagesCreate: fakeMessages(() => ({
          content: [
            {
              type: 'web_search_tool_result',
              tool_use_id: 's',
              content: { type: 'web_search_tool_result_error', error_code: code },
            },
          ],
        })),
      });
    expect(await failure(withError('too_many_requests'))).toMatchObject({
      kind: 'rate_limited',
      retryable: true,
    });
    expect(await failure(withError('unavailable'))).toMatchObject({
      kind: 'upstream_error',
      retryable: true,
    });
    expect(await failure(withError('query_too_long'))).toMatchObject({
      kind: 'invalid_arguments',
      retryable: false,
    });
  });

  it('reports a response without any search as retryable', async () => {
    const provider = createClaudeServerSearchProvider({
      deployment: 'd',
      timeoutMs: 5_000,
      messagesCreate: fakeMessages(() => ({ content: [{ type: 'text', text: 'I know this already.' }] })),
    });
    expect(await failure(provider)).toMatchObject({ kind: 'upstream_error', retryable: true });
  });

  it('classifies Messages API errors like model errors', async () => {
    const throwing = (error: Error) =>
      createClaudeServerSearchProvider({
        deployment: 'd',
        timeoutMs: 5_000,
        messagesCreate: () => Promise.reject(error),
      });
    const rateLimited = APIError.generate(
      429,
      { error: { type: 'rate_limit_error', message: 'slow down' } },
      undefined,
      new Headers({ 'retry-after': '5' }),
    );
    expect(await failure(throwing(rateLimited))).toMatchObject({
      kind: 'rate_limited',
      retryable: true,
      retryAfterMs: 5_000,
    });
    const unauthorized = APIError.generate(
      401,
      { error: { type: 'authentication_error', message: 'bad key' } },
      undefined,
      new Headers(),
    );
    expect(await failure(throwing(unauthorized))).toMatchObject({ kind: 'not_configured', retryable: false });
    const badRequest = APIError.generate(
      400,
      { error: { type: 'invalid_request_error', message: 'tool not supported' } },
      undefined,
      new Headers(),
    );
    expect(await failure(throwing(badRequest))).toMatchObject({ kind: 'upstream_error', retryable: false });
    const overloaded = APIError.generate(
      529,
      { error: { type: 'overloaded_error', message: 'busy' } },
      undefined,
      new Headers(),
    );
    expect(await failure(throwing(overloaded))).toMatchObject({ kind: 'upstream_error', retryable: true });
    expect(await failure(throwing(new APIConnectionError({ message: 'socket hang up' })))).toMatchObject({
      kind: 'upstream_error',
      retryable: true,
    });
  });
});
