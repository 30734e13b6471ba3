import { promptCacheKey } from '../../../src/models/openaiResponses.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/config/models.js';
import { isReasoningDeployment } from '../../../src/models/openaiReasoning.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { credentialFingerprint } from '../../../src/offline/offlineModelServer.js';
import { recordingCredentials } from '../../support/recordingCredentials.js';
import type { ModelMessage, ToolDefinition } from '../../../src/shared/modelTypes.js';
import {
  rawResponse,
  startScriptedModel,
  structuredResponse,
  textResponse,
  toolUseResponse,
  type ScriptedModel,
} from '../../support/scriptedModel.js';

const AOAI_KEY = 'aoai-test-key-0123456789abcdef';
const tools: ToolDefinition[] = [
  {
    name: 'run_code',
    description: 'Run JavaScript',
    inputSchema: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
  },
];
const question: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'Compute 6 × 7.' }] };

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel();
});
afterEach(async () => {
  await model.stop();
});

/** AZURE_OPENAI_ENDPOINT is the resource root; the app appends /openai/v1/ like the real endpoint. */
const azureWithKey = (api: 'chat' | 'responses' = 'chat') =>
  createModelProviders(
    parseModelConfig({
      AZURE_OPENAI_ENDPOINT: model.url,
      AZURE_OPENAI_API_KEY: AOAI_KEY,
      AZURE_OPENAI_API_STYLE: api,
    }),
  ).get('azure-openai');

describe('OpenAI provider (plain OpenAI client) on Chat Completions', () => {
  it('runs a tool_calls round trip on Azure OpenAI v1 and normalizes cached tokens', async () => {
    model.expect(
      {
        name: 'call tool',
        match: { path: '/openai/v1/chat/completions', toolNames: ['run_code'] },
        respond: toolUseResponse(
          'run_code',
          { code: '6*7' },
          { inputTokens: 300, outputTokens: 20, cacheReadTokens: 1024 },
        ),
      },
      {
        name: 'answer',
        match: { hasToolResult: true },
        respond: textResponse('42', { inputTokens: 40, outputTokens: 2 }),
      },
    );
    const provider = await azureWithKey();
    const first = await provider.call({
      deployment: 'gpt-5.4',
      system: 'Be exact.',
      messages: [question],
      tools,
      maxTokens: 200,
      temperature: 0.2,
    });
    expect(first.stopReason).toBe('tool_use');
    // prompt_tokens 1324 includes the 1024 cached ones: only 300 are billed at the full rate.
    expect(first.usage).toEqual({
      inputTokens: 300,
      outputTokens: 20,
      cacheWriteTokens: 0,
      cacheReadTokens: 1024,
    });
    const call = first.message.content[0];
    if (call?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(call).toMatchObject({ name: 'run_code', input: { code: '6*7' } });

    const second = await provider.call({
      deployment: 'gpt-5.4',
      system: 'Be exact.',
      messages: [
        question,
        first.message,
        {
          role: 'user',
          content: [
            { type: 'tool_result', toolUseId: call.id, content: 'TypeError', isError: true },
            { type: 'text', text: 'Try again?' },
          ],
        },
      ],
      tools,
      maxTokens: 200,
    });
    expect(second).toMatchObject({
      stopReason: 'end_turn',
      message: { content: [{ type: 'text', text: '42' }] },
    });
    model.assertDone();

    const firstBody = model.requests[0]?.body as Record<string, unknown>;
    expect(firstBody).toMatchObject({
      model: 'gpt-5.4',
      max_completion_tokens: 200,
      tools: [
        {
          type: 'function',
          function: { name: 'run_code', description: 'Run JavaScript', parameters: tools[0]?.inputSchema },
        },
      ],
    });
    // gpt-5.4 is a reasoning model: it refuses any temperature but the default, so none is sent.
    expect(firstBody).not.toHaveProperty('temperature');
    expect((model.requests[1]?.body as Record<string, unknown>).messages).toEqual([
      { role: 'system', content: 'Be exact.' },
      { role: 'user', content: 'Compute 6 × 7.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: call.id, type: 'function', function: { name: 'run_code', arguments: '{"code":"6*7"}' } },
        ],
      },
      { role: 'tool', tool_call_id: call.id, content: '[tool error] TypeError' },
      { role: 'user', content: 'Try again?' },
    ]);
  });

  it('counts cache writes where the API reports them (prompt_tokens_details.cache_write_tokens)', async () => {
    model.expect({
      respond: rawResponse({
        body: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1_767_225_600,
          model: 'gpt-5.6-sol-2026-07-09',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '42', refusal: null } },
          ],
          usage: {
            prompt_tokens: 5_000,
            completion_tokens: 10,
            total_tokens: 5_010,
            prompt_tokens_details: { cached_tokens: 1_000, cache_write_tokens: 3_500 },
          },
        },
      }),
    });
    const provider = await azureWithKey();
    const answer = await provider.call({ deployment: 'gpt-5.6', messages: [question], maxTokens: 50 });
    model.assertDone();
    // Both are parts of prompt_tokens: 5,000 − 1,000 read − 3,500 written = 500 at the full input rate.
    expect(answer.usage).toEqual({
      inputTokens: 500,
      outputTokens: 10,
      cacheWriteTokens: 3_500,
      cacheReadTokens: 1_000,
    });
  });

  it('asks for structured output with response_format json_schema (strict when the schema allows)', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'integer' } },
      required: ['answer'],
      additionalProperties: false,
    };
    model.expect({ respond: structuredResponse({ answer: 42 }) });
    const result = await (
      await azureWithKey()
    ).call({ deployment: 'gpt-5.4', messages: [question], outputSchema: schema, maxTokens: 50 });
    expect(result.structured).toEqual({ value: { answer: 42 } });
    expect((model.requests[0]?.body as Record<string, unknown>).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    });
  });

  it('sends a strict form of a schema with optional fields and format: uri, and drops the nulls again', async () => {
    const schema = {
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, note: { type: 'string' } },
      required: ['url'],
    };
    model.expect({ respond: structuredResponse({ url: 'https://example.com/a', note: null }) });
    const result = await (
      await azureWithKey()
    ).call({ deployment: 'gpt-5.4', messages: [question], outputSchema: schema, maxTokens: 50 });
    expect(result.structured).toEqual({ value: { url: 'https://example.com/a' } });
    expect((model.requests[0]?.body as Record<string, unknown>).response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'output',
        strict: true,
        schema: {
          type: 'object',
          properties: {
            url: { type: 'string', description: '(format: uri)' },
            note: { type: ['string', 'null'] },
          },
          required: ['url', 'note'],
          additionalProperties: false,
        },
      },
    });
  });

  it('sends temperature only to deployments that are not reasoning models, as the settings say', async () => {
    const config = parseModelConfig({
      AZURE_OPENAI_ENDPOINT: model.url,
      AZURE_OPENAI_API_KEY: AOAI_KEY,
      AZURE_OPENAI_API_STYLE: 'chat',
      OPENAI_REASONING_DEPLOYMENTS: 'my-writer',
      OPENAI_NON_REASONING_DEPLOYMENTS: 'gpt-5-legacy-sampling',
    });
    const providers = createModelProviders(config);
    const provider = await providers.get('azure-openai');
    for (const deployment of ['gpt-4.1', 'my-writer', 'o4-mini', 'gpt-5-chat-latest']) {
      model.expect({ respond: textResponse('ok') });
      await provider.call({ deployment, messages: [question], maxTokens: 5, temperature: 0.3 });
    }
    expect(model.requests.map((request) => (request.body as Record<string, unknown>).temperature)).toEqual([
      0.3,
      undefined,
      undefined,
      0.3,
    ]);
    // The offline model judges by name only, so the opposite override is checked without a call.
    expect(isReasoningDeployment('gpt-5-legacy-sampling', config.openaiReasoning)).toBe(false);
    expect(isReasoningDeployment('gpt-5.4', config.openaiReasoning)).toBe(true);
    expect(() =>
      parseModelConfig({ OPENAI_REASONING_DEPLOYMENTS: 'a,b', OPENAI_NON_REASONING_DEPLOYMENTS: 'b' }),
    ).toThrow('both list b');
  });

  it('sends an Azure OpenAI key as Bearer on the v1 path, without api-version', async () => {
    model.expect({ respond: textResponse('ok') });
    await (await azureWithKey()).call({ deployment: 'gpt-5.4', messages: [question], maxTokens: 5 });
    const request = model.requests[0];
    expect(request).toMatchObject({ path: '/openai/v1/chat/completions', query: '' });
    expect(request?.credential).toEqual({
      header: 'authorization',
      scheme: 'Bearer',
      fingerprint: credentialFingerprint(AOAI_KEY),
    });
  });

  it('uses the Entra token provider as the apiKey with the Cognitive Services scope', async () => {
    model.expect({ respond: textResponse('ok') });
    const scopes: string[] = [];
    const providers = createModelProviders(
      parseModelConfig({
        AZURE_OPENAI_ENDPOINT: model.url,
        AZURE_OPENAI_USE_ENTRA: 'true',
        AZURE_OPENAI_API_STYLE: 'chat',
      }),
      {
        tokenProviderFor: (scope) => {
          scopes.push(scope);
          return () => Promise.resolve('tok');
        },
      },
    );
    await (
      await providers.get('azure-openai')
    ).call({ deployment: 'gpt-5.4', messages: [question], maxTokens: 5 });
    expect(scopes).toEqual(['https://cognitiveservices.azure.com/.default']);
    expect(model.requests[0]?.credential).toEqual({
      header: 'authorization',
      scheme: 'Bearer',
      fingerprint: credentialFingerprint('tok'),
    });
  });

  it('takes the Entra token from the app identity (AZURE_CLIENT_ID) through the credential factory', async () => {
    model.expect({ respond: textResponse('ok') });
    const { asked, credentials } = recordingCredentials('mi-tok');
    const providers = createModelProviders(
      parseModelConfig({
        AZURE_OPENAI_ENDPOINT: model.url,
        AZURE_OPENAI_USE_ENTRA: 'true',
        AZURE_CLIENT_ID: 'uami-client-id',
      }),
      { credentials },
    );
    await (
      await providers.get('azure-openai')
    ).call({ deployment: 'gpt-5.4', messages: [question], maxTokens: 5 });
    expect(asked).toEqual([
      [
        { kind: 'default', managedIdentityClientId: 'uami-client-id' },
        ['https://cognitiveservices.azure.com/.default'],
      ],
    ]);
    expect(model.requests[0]?.credential?.fingerprint).toBe(credentialFingerprint('mi-tok'));
  });

  it('talks to OpenAI-compatible servers by base URL, without a key', async () => {
    model.expect({ respond: textResponse('hi') });
    const providers = createModelProviders(parseModelConfig({ OPENAI_BASE_URL: model.openaiBaseUrl }));
    const result = await (
      await providers.get('openai')
    ).call({ deployment: 'llama3.3', messages: [question], maxTokens: 5 });
    expect(result.message.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(model.requests[0]?.path).toBe('/v1/chat/completions');
    // Not documented by compatible servers, so not sent to them.
    expect(model.requests[0]?.body).not.toHaveProperty('prompt_cache_key');
  });

  it('sends a stable prompt_cache_key on Azure OpenAI Chat Completions, the same the Responses API gets', async () => {
    model.expect(
      { respond: textResponse('a') },
      { respond: textResponse('b') },
      { respond: textResponse('c') },
    );
    const provider = await azureWithKey('chat');
    const ask = (system: string, text: string) =>
      provider.call({
        deployment: 'gpt-5.4',
        system,
        messages: [{ role: 'user', content: [{ type: 'text', text }] }],
        tools,
        maxTokens: 50,
      });
    await ask('Be exact.', 'first question');
    await ask('Be exact.', 'a different question');
    await ask('Be brief.', 'first question');
    const keys = model.requests.map((r) => (r.body as { prompt_cache_key?: string }).prompt_cache_key);
    // Same deployment, system prompt and tools: one key; another system prompt: another key.
    expect(keys[0]).toMatch(/^da-[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[0]).toBe(
      promptCacheKey({ deployment: 'gpt-5.4', system: 'Be exact.', messages: [], tools, maxTokens: 1 }),
    );
  });
});
