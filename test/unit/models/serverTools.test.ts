/**
 * Claude server tools: the capability setting, the fees, and the offline model's wire format and refusals
 * (src/models/serverTools.ts, src/offline/serverTools.ts), through the real @anthropic-ai/sdk client on loopback.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelConfigError, parseModelConfig } from '../../../src/config/models.js';
import {
  codeExecutionIsFree,
  parseServerToolSettings,
  serverToolOffer,
  serverToolUse,
} from '../../../src/models/serverTools.js';
import { createAnthropicProvider } from '../../../src/models/anthropicProvider.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';

let server: OfflineModelServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('CLAUDE_SERVER_TOOLS_JSON', () => {
  it('maps a bare kind to the newest SDK 1.12 version and keeps exact versions', () => {
    const { settings, problems } = parseServerToolSettings(
      JSON.stringify({
        'claude-opus-4-8': ['web_search', 'web_fetch', 'code_execution'],
        'foundry:claude-haiku-4-5': ['web_search_20250305', 'web_fetch_20250910'],
      }),
    );
    expect(problems).toEqual([]);
    expect(settings['claude-opus-4-8']).toEqual({
      web_search: 'web_search_20260318',
      web_fetch: 'web_fetch_20260318',
      code_execution: 'code_execution_20260521',
    });
    // A provider-prefixed entry applies to that provider only; the bare name to both Claude providers.
    expect(serverToolOffer(settings, 'foundry', 'claude-haiku-4-5')).toEqual({
      web_search: 'web_search_20250305',
      web_fetch: 'web_fetch_20250910',
    });
    expect(serverToolOffer(settings, 'anthropic', 'claude-haiku-4-5')).toEqual({});
    expect(serverToolOffer(settings, 'anthropic', 'claude-opus-4-8').code_execution).toBe(
      'code_execution_20260521',
    );
    expect(serverToolOffer(settings, 'openai', 'claude-opus-4-8')).toEqual({});
  });

  it('fails startup with one error naming each bad entry', () => {
    const bad = (value: string) => {
      try {
        parseModelConfig({ OFFLINE_MODEL: 'on', CLAUDE_SERVER_TOOLS_JSON: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ModelConfigError);
        return (error as ModelConfigError).problems;
      }
      throw new Error('expected a configuration error');
    };
    expect(bad('{not json')[0]).toMatch(/^CLAUDE_SERVER_TOOLS_JSON is not JSON/);
    expect(bad('["web_search"]')[0]).toMatch(/must be an object of deployment name → list of server tools/);
    expect(
      bad(
        JSON.stringify({
          'claude-opus-4-8': ['web_serch', 'web_search', 'web_search_20250305'],
          'openai:gpt-5': ['web_search'],
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /"claude-opus-4-8": unknown server tool "web_serch"; use web_search, web_fetch, code_execution or one of web_search_20250305/,
      ),
      'CLAUDE_SERVER_TOOLS_JSON "claude-opus-4-8": web_search is listed twice',
      expect.stringMatching(/key "openai:gpt-5": a provider prefix must be "foundry:" or "anthropic:"/),
    ]);
  });

  it('is empty when unset: no deployment offers a server tool', () => {
    expect(parseModelConfig({ OFFLINE_MODEL: 'on' }).serverTools).toEqual({});
  });
});

describe('server tool fees', () => {
  it('bills searches per 1,000, fetches nothing, and a code-execution container its 5-minute minimum', () => {
    const used = serverToolUse(
      {
        usage: { server_tool_use: { web_search_requests: 3, web_fetch_requests: 2 } },
        container: { id: 'container_1', expires_at: '2026-12-08T03:00:00Z' },
        content: [{ type: 'server_tool_use', name: 'bash_code_execution' }, { type: 'text' }],
      },
      ['web_search_20250305', 'code_execution_20260521'],
    );
    // 3 × $0.01 + 5/60 h × $0.05.
    expect(used).toEqual({
      webSearches: 3,
      webFetches: 2,
      codeExecutions: 1,
      containerHours: 5 / 60,
      feeUsd: Math.round((0.03 + (5 / 60) * 0.05) * 1e8) / 1e8,
    });
  });

  it('books no container time when web search or fetch 20260209+ is in the request (free code execution)', () => {
    expect(codeExecutionIsFree(['web_search_20260209'])).toBe(true);
    expect(codeExecutionIsFree(['web_fetch_20260318', 'code_execution_20260521'])).toBe(true);
    expect(codeExecutionIsFree(['web_search_20250305', 'web_fetch_20250910'])).toBe(false);
    const used = serverToolUse({ usage: {}, container: { id: 'c' }, content: [] }, [
      'web_search_20260318',
      'code_execution_20260521',
    ]);
    expect(used).toMatchObject({ containerHours: 0, feeUsd: 0 });
  });

  it('reports nothing for an answer that used no server tool', () => {
    expect(
      serverToolUse({ usage: { server_tool_use: null }, container: null, content: [{ type: 'text' }] }, []),
    ).toBeUndefined();
  });
});

describe('offline model: server tools', () => {
  const client = (url: string) => new Anthropic({ baseURL: url, apiKey: 'offline-key', maxRetries: 0 });
  const ask = { model: 'claude-opus-4-8', max_tokens: 512 } as const;
  const user = [{ role: 'user' as const, content: 'Chart the tides at https://tides.example/brest' }];

  it('rejects a tool type the API does not know with a 400 invalid_request_error', async () => {
    server = await startOfflineModelServer();
    const error = await client(server.anthropicBaseUrl)
      .messages.create({
        ...ask,
        messages: user,
        tools: [{ type: 'web_search_20990101', name: 'web_search' } as unknown as Anthropic.Tool],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(
          /^tools\.0: Input tag "web_search_20990101" found using 'type'/,
        ) as unknown,
      },
    });
  });

  it('rejects a server tool the deployment is not configured for, as its hosting would', async () => {
    server = await startOfflineModelServer({
      serverTools: (provider) => (provider === 'foundry' ? ['web_search_20250305'] : undefined),
    });
    const foundry = await client(server.foundryBaseUrl)
      .messages.create({
        ...ask,
        messages: user,
        tools: [{ type: 'code_execution_20260521', name: 'code_execution' }],
      })
      .catch((e: unknown) => e);
    expect(foundry).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((foundry as Error).message)).toMatch(
      /code_execution_20260521 is not supported for model claude-opus-4-8/,
    );
    // The same request on a hosting with no restriction configured is answered.
    const direct = await client(server.anthropicBaseUrl).messages.create({
      ...ask,
      messages: user,
      tools: [{ type: 'code_execution_20260521', name: 'code_execution' }],
    });
    expect(direct.stop_reason).toBe('end_turn');
  });

  it('answers code execution with server_tool_use, its result block and the container', async () => {
    server = await startOfflineModelServer();
    const message = await client(server.anthropicBaseUrl).messages.create({
      ...ask,
      messages: user,
      tools: [{ type: 'code_execution_20260521', name: 'code_execution' }],
    });
    expect(message.content.map((block) => block.type)).toEqual([
      'server_tool_use',
      'bash_code_execution_tool_result',
      'text',
    ]);
    const [use, result] = message.content;
    expect(use).toMatchObject({ name: 'bash_code_execution', caller: { type: 'direct' } });
    expect(result).toMatchObject({ tool_use_id: (use as { id: string }).id, content: { return_code: 0 } });
    expect(message.container?.id).toMatch(/^container_offline_/);
    expect(message.usage.server_tool_use).toBeNull();

    // Through the provider: the blocks become provider blocks and the container its estimated time.
    const provider = createAnthropicProvider({
      kind: 'anthropic',
      client: client(server.anthropicBaseUrl),
      structuredOutput: 'native',
      offline: true,
      secrets: [],
      serverTools: () => ({ code_execution: 'code_execution_20260521' }),
    });
    const answer = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Chart the tides' }] }],
      tools: [{ name: 'run_code', description: 'Run code', inputSchema: { type: 'object' } }],
      maxTokens: 512,
    });
    expect(answer.serverTools).toMatchObject({ codeExecutions: 1, containerHours: 5 / 60 });
    expect(answer.message.content.filter((block) => block.type === 'provider')).toHaveLength(2);
    expect(answer.message.content.some((block) => block.type === 'tool_use')).toBe(false);
  });

  it('runs web fetch on the URL of the prompt and counts it in usage.server_tool_use', async () => {
    server = await startOfflineModelServer();
    const message = await client(server.anthropicBaseUrl).messages.create({
      ...ask,
      messages: user,
      tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }],
    });
    expect(message.content[0]).toMatchObject({
      type: 'server_tool_use',
      input: { url: 'https://tides.example/brest' },
    });
    expect(message.content[1]).toMatchObject({
      type: 'web_fetch_tool_result',
      content: { type: 'web_fetch_result', url: 'https://tides.example/brest' },
    });
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 0, web_fetch_requests: 1 });
  });
});
