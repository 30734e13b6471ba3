import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/config/models.js';
import { classifyModelError } from '../../../src/models/errors.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { credentialFingerprint } from '../../../src/offline/offlineModelServer.js';
import { recordingCredentials } from '../../support/recordingCredentials.js';
import type { ModelMessage, ToolDefinition } from '../../../src/shared/modelTypes.js';
import {
  malformedResponse,
  rawResponse,
  startScriptedModel,
  structuredResponse,
  textResponse,
  toolUseResponse,
  type ScriptedModel,
} from '../../support/scriptedModel.js';

const FOUNDRY_KEY = 'foundry-test-key-0123456789';
const ANTHROPIC_KEY = 'sk-ant-test-key-0123456789';

const tools: ToolDefinition[] = [
  {
    name: 'web_search',
    description: 'Search the web',
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  {
    name: 'fetch_url',
    description: 'Fetch a page',
    inputSchema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
  },
];
const question: ModelMessage = {
  role: 'user',
  content: [{ type: 'text', text: 'What is Durable Functions?' }],
};
const outputSchema = {
  type: 'object',
  properties: { title: { type: 'string' }, points: { type: 'array', items: { type: 'string' } } },
  required: ['title', 'points'],
  additionalProperties: false,
};

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel();
});
afterEach(async () => {
  await model.stop();
});

const foundryWithKey = () =>
  createModelProviders(
    parseModelConfig({ FOUNDRY_BASE_URL: model.foundryBaseUrl, FOUNDRY_API_KEY: FOUNDRY_KEY }),
  ).get('foundry');

describe('Anthropic provider (Foundry client on loopback)', () => {
  it('runs a tool-use round trip and normalizes usage', async () => {
    model.expect(
      {
        name: 'plan',
        match: { path: '/anthropic/v1/messages', toolNames: ['web_search', 'fetch_url'] },
        respond: toolUseResponse(
          'web_search',
          { query: 'durable functions' },
          { inputTokens: 900, outputTokens: 40, cacheWriteTokens: 300 },
        ),
      },
      {
        name: 'answer',
        match: { hasToolResult: true },
        respond: textResponse('Durable Functions is an Azure Functions extension.', {
          inputTokens: 50,
          outputTokens: 12,
          cacheReadTokens: 1200,
        }),
      },
    );
    const provider = await foundryWithKey();
    const first = await provider.call({
      deployment: 'claude-opus-4-8',
      system: 'You research.',
      messages: [question],
      tools,
      maxTokens: 1024,
    });
    expect(first.stopReason).toBe('tool_use');
    expect(first.usage).toEqual({
      inputTokens: 900,
      outputTokens: 40,
      cacheWriteTokens: 300,
      cacheReadTokens: 0,
    });
    expect(first.offline).toBe(false);
    const toolUse = first.message.content[0];
    expect(toolUse).toMatchObject({
      type: 'tool_use',
      name: 'web_search',
      input: { query: 'durable functions' },
    });
    if (toolUse?.type !== 'tool_use') throw new Error('expected a tool_use block');

    const second = await provider.call({
      deployment: 'claude-opus-4-8',
      system: 'You research.',
      messages: [
        question,
        first.message,
        {
          role: 'user',
          content: [{ type: 'tool_result', toolUseId: toolUse.id, content: 'DF docs…', isError: false }],
        },
      ],
      tools,
      maxTokens: 1024,
    });
    expect(second).toMatchObject({
      stopReason: 'end_turn',
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: 'Durable Functions is an Azure Functions extension.' }],
      },
      usage: { inputTokens: 50, outputTokens: 12, cacheWriteTokens: 0, cacheReadTokens: 1200 },
      model: 'claude-opus-4-8',
    });
    model.assertDone();

    const body = model.requests[1]?.body as Record<string, unknown>;
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is Durable Functions?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: toolUse.id, name: 'web_search', input: { query: 'durable functions' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'DF docs…', is_error: false }],
      },
    ]);
  });

  it("keeps Claude's server-tool blocks verbatim as provider blocks and sends them back unchanged", async () => {
    const serverUse = {
      type: 'server_tool_use',
      id: 'srvtoolu_01',
      name: 'web_search',
      input: { query: 'durable functions' },
    };
    const searchResult = {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_01',
      content: [
        {
          type: 'web_search_result',
          url: 'https://learn.microsoft.com/azure/azure-functions/durable/',
          title: 'Durable Functions',
          encrypted_content: 'EqgfCioIARgBIiQ3',
          page_age: null,
        },
      ],
    };
    model.expect(
      {
        name: 'answer with a web search',
        respond: rawResponse({
          body: {
            id: 'msg_srv',
            type: 'message',
            role: 'assistant',
            model: 'claude-opus-4-8',
            content: [serverUse, searchResult, { type: 'text', text: 'It is an extension.' }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 30, output_tokens: 8, server_tool_use: { web_search_requests: 1 } },
          },
        }),
      },
      { name: 'next turn', respond: textResponse('Yes.') },
    );
    const provider = await foundryWithKey();
    const first = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question],
      maxTokens: 200,
    });
    expect(first.message.content).toEqual([
      { type: 'provider', provider: 'anthropic', block: serverUse },
      { type: 'provider', provider: 'anthropic', block: searchResult },
      { type: 'text', text: 'It is an extension.' },
    ]);
    const followUp: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'Sure?' }] };
    await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question, first.message, followUp],
      maxTokens: 200,
    });
    const sent = (model.requests[1]?.body as { messages: { content: unknown[] }[] }).messages[1]?.content;
    expect(sent).toEqual([serverUse, searchResult, { type: 'text', text: 'It is an extension.' }]);
    model.assertDone();
  });

  it('puts no cache breakpoint on a prefix under the model minimum (promptCache.test.ts has the rest)', async () => {
    model.expect({ respond: textResponse('ok') });
    const provider = await foundryWithKey();
    await provider.call({
      deployment: 'claude-haiku-4-5',
      system: 'Stable instructions.',
      messages: [question],
      tools,
      maxTokens: 100,
    });
    const body = model.requests[0]?.body as { system: unknown; tools: { cache_control?: unknown }[] };
    expect(body.system).toEqual([{ type: 'text', text: 'Stable instructions.' }]);
    expect(JSON.stringify(body)).not.toContain('cache_control');
  });

  it('sends the Foundry API key as x-api-key on the /anthropic/ path', async () => {
    model.expect({ respond: textResponse('ok') });
    await (
      await foundryWithKey()
    ).call({ deployment: 'claude-haiku-4-5', messages: [question], maxTokens: 10 });
    const request = model.requests[0];
    expect(request?.path).toBe('/anthropic/v1/messages');
    expect(request?.credential).toEqual({
      header: 'x-api-key',
      scheme: undefined,
      fingerprint: credentialFingerprint(FOUNDRY_KEY),
    });
    expect(JSON.stringify(request)).not.toContain(FOUNDRY_KEY);
    expect(request?.headers['x-api-key']).toBe('[redacted]');
  });

  it('sends an Entra token as Authorization: Bearer', async () => {
    model.expect({ respond: textResponse('ok') });
    const scopes: string[] = [];
    const providers = createModelProviders(
      parseModelConfig({ FOUNDRY_BASE_URL: model.foundryBaseUrl, FOUNDRY_USE_ENTRA: 'true' }),
      {
        tokenProviderFor: (scope) => {
          scopes.push(scope);
          return () => Promise.resolve('tok');
        },
      },
    );
    await (
      await providers.get('foundry')
    ).call({ deployment: 'claude-haiku-4-5', messages: [question], maxTokens: 10 });
    expect(scopes).toEqual(['https://ai.azure.com/.default']);
    expect(model.requests[0]?.credential).toEqual({
      header: 'authorization',
      scheme: 'Bearer',
      fingerprint: credentialFingerprint('tok'),
    });
  });

  it('takes the Foundry Entra token from the app identity (AZURE_CLIENT_ID) through the credential factory', async () => {
    model.expect({ respond: textResponse('ok') });
    const { asked, credentials } = recordingCredentials('mi-tok');
    const providers = createModelProviders(
      parseModelConfig({
        FOUNDRY_BASE_URL: model.foundryBaseUrl,
        FOUNDRY_USE_ENTRA: 'true',
        AZURE_CLIENT_ID: 'uami-client-id',
      }),
      { credentials },
    );
    await (
      await providers.get('foundry')
    ).call({ deployment: 'claude-haiku-4-5', messages: [question], maxTokens: 10 });
    expect(asked).toEqual([
      [{ kind: 'default', managedIdentityClientId: 'uami-client-id' }, ['https://ai.azure.com/.default']],
    ]);
    expect(model.requests[0]?.credential?.fingerprint).toBe(credentialFingerprint('mi-tok'));
  });

  it('gets structured output on Foundry through a forced emit_output tool call', async () => {
    model.expect({ respond: structuredResponse({ title: 'DF', points: ['durable', 'replayed'] }) });
    const result = await (
      await foundryWithKey()
    ).call({ deployment: 'claude-opus-4-8', messages: [question], outputSchema, maxTokens: 500 });
    expect(result.structured).toEqual({ value: { title: 'DF', points: ['durable', 'replayed'] } });
    expect(result.stopReason).toBe('end_turn');
    expect(result.message.content).toEqual([
      { type: 'text', text: '{"title":"DF","points":["durable","replayed"]}' },
    ]);
    const body = model.requests[0]?.body as Record<string, unknown>;
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'emit_output', disable_parallel_tool_use: true });
    expect(body.tools).toEqual([
      {
        name: 'emit_output',
        description: expect.any(String) as string,
        input_schema: outputSchema,
      },
    ]);
    expect(body.output_config).toBeUndefined();
  });

  it('gets structured output on the Claude API through output_config.format, key as Bearer', async () => {
    model.expect({ respond: structuredResponse({ title: 'DF', points: [] }) });
    const providers = createModelProviders(
      parseModelConfig({ ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: ANTHROPIC_KEY }),
    );
    const result = await (
      await providers.get('anthropic')
    ).call({ deployment: 'claude-opus-4-8', messages: [question], outputSchema, maxTokens: 500 });
    expect(result.structured).toEqual({ value: { title: 'DF', points: [] } });
    const request = model.requests[0];
    expect(request?.path).toBe('/v1/messages');
    expect((request?.body as Record<string, unknown>).output_config).toEqual({
      format: { type: 'json_schema', schema: outputSchema },
    });
    expect(request?.credential).toEqual({
      header: 'authorization',
      scheme: 'Bearer',
      fingerprint: credentialFingerprint(ANTHROPIC_KEY),
    });
  });

  it('turns malformed bodies into retryable server errors', async () => {
    model.expect(
      { respond: malformedResponse('unparseable') },
      { respond: malformedResponse('missing-fields') },
    );
    const provider = await foundryWithKey();
    for (let i = 0; i < 2; i++) {
      const error: unknown = await provider
        .call({ deployment: 'claude-haiku-4-5', messages: [question], maxTokens: 10 })
        .catch((e: unknown) => e);
      expect(classifyModelError(error, { nowMs: Date.now() })).toMatchObject({
        kind: 'server_error',
        retryable: true,
      });
    }
    model.assertDone();
  });
});
