/**
 * GPT through the Responses API (src/models/openaiResponses.ts) against the offline model's Responses route
 * (src/offline/responsesWire.ts), both through the real `openai` client over loopback.
 */
import OpenAI, { type APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/config/models.js';
import type { ModelProvider } from '../../../src/models/provider.js';
import { createModelProviders } from '../../../src/models/providers.js';
import type { ModelMessage, ToolDefinition } from '../../../src/shared/modelTypes.js';
import {
  startScriptedModel,
  structuredResponse,
  textResponse,
  type ScriptedModel,
} from '../../support/scriptedModel.js';

const tools: ToolDefinition[] = [
  {
    name: 'fetch_url',
    description: 'Fetch a page',
    inputSchema: {
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, maxChars: { type: 'integer' } },
      required: ['url'],
    },
  },
];
const question: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'Read example.com.' }] };

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel({ unexpected: 'offline' });
});
afterEach(async () => {
  await model.stop();
});

const azure = (): Promise<ModelProvider> =>
  createModelProviders(
    parseModelConfig({ AZURE_OPENAI_ENDPOINT: model.url, AZURE_OPENAI_API_KEY: 'aoai-key-0123456789' }),
  ).get('azure-openai');
const bodyOf = (index: number) => model.requests[index]?.body as Record<string, unknown>;

async function rejected(call: Promise<unknown>): Promise<APIError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  return error as APIError;
}

describe('GPT-5.x through the Responses API', () => {
  it('runs a tool round trip with encrypted reasoning kept in the transcript and sent back', async () => {
    const provider = await azure();
    const request = {
      deployment: 'gpt-5.4',
      system: 'Be brief.',
      tools,
      maxTokens: 500,
      temperature: 0.2,
      reasoningEffort: 'high' as const,
    };
    const first = await provider.call({ ...request, messages: [question] });
    expect(first.stopReason).toBe('tool_use');
    const [reasoning, call] = first.message.content;
    expect(reasoning).toMatchObject({ type: 'reasoning', id: expect.stringMatching(/^rs_/) as string });
    if (call?.type !== 'tool_use') throw new Error('expected a tool call after the reasoning item');
    expect(call.name).toBe('fetch_url');
    // The strict tool schema made maxChars nullable; a null is dropped again before the app sees it.
    expect(call.input).not.toHaveProperty('maxChars', null);
    // output_tokens include the 256 reasoning tokens of effort "high".
    expect(first.usage.outputTokens).toBeGreaterThan(256);

    const second = await provider.call({
      ...request,
      messages: [
        question,
        first.message,
        {
          role: 'user',
          content: [{ type: 'tool_result', toolUseId: call.id, content: '<html>', isError: false }],
        },
      ],
    });
    expect(second.stopReason).toBe('end_turn');
    expect(second.message.content.at(-1)).toMatchObject({ type: 'text' });

    expect(model.requests.map((r) => r.path)).toEqual(['/openai/v1/responses', '/openai/v1/responses']);
    expect(bodyOf(0)).toMatchObject({
      model: 'gpt-5.4',
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Read example.com.' }],
      max_output_tokens: 500,
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'high' },
      tools: [
        {
          type: 'function',
          name: 'fetch_url',
          strict: true,
          parameters: {
            type: 'object',
            properties: {
              url: { type: 'string', description: '(format: uri)' },
              maxChars: { type: ['integer', 'null'] },
            },
            required: ['url', 'maxChars'],
            additionalProperties: false,
          },
        },
      ],
    });
    expect(bodyOf(0)).not.toHaveProperty('temperature');
    expect(bodyOf(0).prompt_cache_key).toMatch(/^da-[0-9a-f]{32}$/);
    expect(bodyOf(1).prompt_cache_key).toBe(bodyOf(0).prompt_cache_key);
    if (reasoning?.type !== 'reasoning') throw new Error('expected a reasoning block');
    expect(bodyOf(1).input).toEqual([
      { role: 'user', content: 'Read example.com.' },
      { type: 'reasoning', id: reasoning.id, encrypted_content: reasoning.encryptedContent, summary: [] },
      { type: 'function_call', call_id: call.id, name: 'fetch_url', arguments: JSON.stringify(call.input) },
      { type: 'function_call_output', call_id: call.id, output: '<html>' },
    ]);
  });

  it('is refused a follow-up that drops the reasoning item before a function call (store: false)', async () => {
    const provider = await azure();
    const request = { deployment: 'gpt-5.4', tools, maxTokens: 500 };
    const first = await provider.call({ ...request, messages: [question] });
    const call = first.message.content.find((block) => block.type === 'tool_use');
    if (call?.type !== 'tool_use') throw new Error('expected a tool call');
    const withoutReasoning: ModelMessage = {
      role: 'assistant',
      content: first.message.content.filter((block) => block.type !== 'reasoning'),
    };
    const error = await rejected(
      provider.call({
        ...request,
        messages: [
          question,
          withoutReasoning,
          {
            role: 'user',
            content: [{ type: 'tool_result', toolUseId: call.id, content: 'x', isError: false }],
          },
        ],
      }),
    );
    expect(error.message).toContain(`'function_call' was provided without its required 'reasoning' item`);
  });

  it('is refused a function_call_output whose call_id no function_call carries', async () => {
    const error = await rejected(
      (await azure()).call({
        deployment: 'gpt-5.4',
        maxTokens: 100,
        messages: [
          question,
          {
            role: 'user',
            content: [{ type: 'tool_result', toolUseId: 'call_unknown', content: 'x', isError: false }],
          },
        ],
      }),
    );
    expect(error.message).toContain('No tool call found for function call output with call_id call_unknown');
  });

  it('asks for structured output with a strict text.format and checks the answer like Chat Completions', async () => {
    const schema = {
      type: 'object',
      properties: {
        sources: { type: 'array', items: { type: 'string', format: 'uri' } },
        note: { type: 'string' },
      },
      required: ['sources'],
    };
    model.expect({ respond: structuredResponse({ sources: ['https://example.com/'], note: null }) });
    const result = await (
      await azure()
    ).call({
      deployment: 'gpt-5.4',
      messages: [question],
      outputSchema: schema,
      maxTokens: 100,
    });
    expect(result.structured).toEqual({ value: { sources: ['https://example.com/'] } });
    expect(bodyOf(0).text).toMatchObject({ format: { type: 'json_schema', name: 'output', strict: true } });
  });

  it('maps incomplete (max_output_tokens) to max_tokens and the usage fields, cached tokens apart', async () => {
    model.expect({
      respond: textResponse('cut o', { inputTokens: 100, outputTokens: 7, cacheReadTokens: 1024 }),
    });
    model.expect({ respond: { kind: 'text', text: 'cut o', stopReason: 'max_tokens' } });
    const provider = await azure();
    const plain = await provider.call({ deployment: 'gpt-4.1', messages: [question], maxTokens: 100 });
    expect(plain.usage).toEqual({
      inputTokens: 100,
      outputTokens: 7,
      cacheWriteTokens: 0,
      cacheReadTokens: 1024,
    });
    expect(plain.message.content).toEqual([{ type: 'text', text: 'cut o' }]);
    // gpt-4.1 does not reason: no include, no reasoning item.
    expect(bodyOf(0)).not.toHaveProperty('include');
    const cut = await provider.call({ deployment: 'gpt-5.4', messages: [question], maxTokens: 5 });
    expect(bodyOf(1).max_output_tokens).toBe(16);
    expect(cut.stopReason).toBe('max_tokens');
  });

  it('uses Responses on OpenAI when asked (OPENAI_API_STYLE), Chat Completions by default on other servers', async () => {
    const providers = createModelProviders(
      parseModelConfig({
        OPENAI_BASE_URL: model.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-x',
        OPENAI_API_STYLE: 'responses',
      }),
    );
    await (
      await providers.get('openai')
    ).call({ deployment: 'gpt-5-mini', messages: [question], maxTokens: 50 });
    expect(model.requests[0]?.path).toBe('/v1/responses');
    expect(parseModelConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).providers.openai).toMatchObject(
      {
        api: 'chat',
      },
    );
    expect(parseModelConfig({ OPENAI_API_KEY: 'sk-x' }).providers.openai).toMatchObject({ api: 'responses' });
  });

  it("skips Claude's server-tool blocks (provider blocks) on a GPT fallback, in Responses and Chat Completions", async () => {
    const claudeTurn: ModelMessage = {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Searched.' },
        {
          type: 'provider',
          provider: 'anthropic',
          block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
        },
      ],
    };
    const messages = [
      question,
      claudeTurn,
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'Go on.' }] },
    ];
    await (await azure()).call({ deployment: 'gpt-5.4', messages, maxTokens: 50 });
    const chat = await createModelProviders(parseModelConfig({ OPENAI_BASE_URL: model.openaiBaseUrl })).get(
      'openai',
    );
    await chat.call({ deployment: 'llama3', messages, maxTokens: 50 });
    expect(model.requests.map((r) => r.path)).toEqual(['/openai/v1/responses', '/v1/chat/completions']);
    expect(bodyOf(0).input).toEqual([
      { role: 'user', content: 'Read example.com.' },
      { role: 'assistant', content: 'Searched.' },
      { role: 'user', content: 'Go on.' },
    ]);
    expect(bodyOf(1).messages).toEqual([
      { role: 'user', content: 'Read example.com.' },
      { role: 'assistant', content: 'Searched.' },
      { role: 'user', content: 'Go on.' },
    ]);
    expect(JSON.stringify(model.requests.map((r) => r.body))).not.toContain('srvtoolu_1');
  });
});

describe('offline Responses API rules', () => {
  const client = () => new OpenAI({ baseURL: model.openaiBaseUrl, apiKey: 'k', maxRetries: 0 });

  it('rejects a strict text.format with format: uri, and temperature / max_tokens on reasoning models', async () => {
    const uri = await rejected(
      client().responses.create({
        model: 'gpt-4.1',
        input: 'hi',
        text: {
          format: {
            type: 'json_schema',
            name: 'out',
            strict: true,
            schema: {
              type: 'object',
              properties: { u: { type: 'string', format: 'uri' } },
              required: ['u'],
              additionalProperties: false,
            },
          },
        },
      }),
    );
    expect(uri).toMatchObject({ param: 'text.format.schema' });
    expect(uri.message).toContain("'uri' is not a valid format");
    const temperature = await rejected(
      client().responses.create({ model: 'gpt-5.4', input: 'hi', temperature: 0.5 }),
    );
    expect(temperature).toMatchObject({ param: 'temperature', code: 'unsupported_value' });
    const tiny = await rejected(
      client().responses.create({ model: 'gpt-4.1', input: 'hi', max_output_tokens: 8 }),
    );
    expect(tiny).toMatchObject({ param: 'max_output_tokens', code: 'integer_below_min_value' });
    const maxTokens = await rejected(
      client().responses.create({ model: 'gpt-5.4', input: 'hi', max_tokens: 8 } as never),
    );
    expect(maxTokens.message).toContain("Use 'max_output_tokens' instead");
  });

  it('treats function tools as strict unless strict: false', async () => {
    const open = { type: 'object', properties: { q: { type: 'string' } } };
    const error = await rejected(
      client().responses.create({
        model: 'gpt-4.1',
        input: 'hi',
        tools: [{ type: 'function', name: 'search', parameters: open, strict: null }],
      }),
    );
    expect(error).toMatchObject({ param: 'tools[0].parameters', code: 'invalid_function_parameters' });
    const answer = await client().responses.create({
      model: 'gpt-4.1',
      input: 'hi',
      tools: [{ type: 'function', name: 'search', parameters: open, strict: false }],
    });
    expect(answer.output.some((item) => item.type === 'function_call')).toBe(true);
  });

  it('rejects reasoning content it did not issue when store is false', async () => {
    const error = await rejected(
      client().responses.create({
        model: 'gpt-5.4',
        store: false,
        input: [
          { role: 'user', content: 'hi' },
          { type: 'reasoning', id: 'rs_forged', encrypted_content: 'forged', summary: [] },
          { role: 'user', content: 'again' },
        ],
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_encrypted_content' });
  });

  it('emits a reasoning item without encrypted content unless include asks for it', async () => {
    const answer = await client().responses.create({ model: 'o4-mini', input: 'hi', store: false });
    expect(answer.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: null });
    expect(answer.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(answer.output_text).toMatch(/^\[offline\]/);
    const none = await client().responses.create({
      model: 'gpt-5.4',
      input: 'hi',
      reasoning: { effort: 'none' },
    });
    expect(none.output.map((item) => item.type)).toEqual(['message']);
  });
});
