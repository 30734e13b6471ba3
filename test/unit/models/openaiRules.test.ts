/**
 * The offline model's OpenAI request rules (src/offline/openaiRules.ts), exercised through the real `openai`
 * client over loopback: each rejected request gets OpenAI's 400 body, which the SDK turns into a
 * BadRequestError with `param` and `code`, even when a test script would have answered it.
 */
import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';

let server: OfflineModelServer;
let scripted = 0;
let client: OpenAI;

beforeAll(async () => {
  // The script would answer everything; the rules must still reject invalid requests before it runs.
  server = await startOfflineModelServer({
    script: (request) => {
      scripted += 1;
      return request.path.endsWith('/batches') ? undefined : { kind: 'text', text: 'scripted' };
    },
  });
  client = new OpenAI({ baseURL: server.azureOpenAIBaseUrl, apiKey: 'k', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

const user = { role: 'user' as const, content: 'hi' };
const strictFormat = (schema: Record<string, unknown>) => ({
  type: 'json_schema' as const,
  json_schema: { name: 'output', schema, strict: true },
});

async function rejection(call: Promise<unknown>): Promise<APIError> {
  const before = scripted;
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  expect(scripted).toBe(before);
  const apiError = error as APIError;
  expect(apiError.type).toBe('invalid_request_error');
  return apiError;
}

const closed = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

describe('strict structured outputs (Chat Completions)', () => {
  it('accepts a closed, fully required schema with supported keywords and formats', async () => {
    const schema = closed({
      when: { type: 'string', format: 'date-time' },
      n: { type: 'integer', minimum: 1, maximum: 5 },
      tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' }, maxItems: 3 },
      note: { type: ['string', 'null'] },
    });
    const answer = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [user],
      response_format: strictFormat(schema),
    });
    expect(answer.choices[0]?.message.content).toBe('scripted');
  });

  it('rejects an object without additionalProperties: false', async () => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat({
          type: 'object',
          properties: { a: { type: 'string' } },
          required: ['a'],
        }),
      }),
    );
    expect(error.param).toBe('response_format');
    expect(error.message).toContain("'additionalProperties' is required to be supplied and to be false");
  });

  it('rejects a property missing from required, naming it', async () => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat({
          ...closed({ a: { type: 'string' }, b: { type: 'string' } }),
          required: ['a'],
        }),
      }),
    );
    expect(error.message).toContain("Missing 'b'");
  });

  it('rejects format: uri (not among the supported string formats), with the path', async () => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat(
          closed({ sources: { type: 'array', items: { type: 'string', format: 'uri' } } }),
        ),
      }),
    );
    expect(error.message).toContain(
      "In context=('properties', 'sources', 'items'), 'uri' is not a valid format",
    );
  });

  it.each([
    ['minLength', { type: 'string', minLength: 3 }],
    ['uniqueItems', { type: 'array', items: { type: 'string' }, uniqueItems: true }],
    ['allOf', { allOf: [{ type: 'string' }] }],
    ['default', { type: 'string', default: 'x' }],
  ])('rejects the unsupported keyword %s', async (keyword, property) => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat(closed({ a: property })),
      }),
    );
    expect(error.message).toContain(`'${keyword}' is not permitted`);
  });

  it('rejects a root that is not an object, or an anyOf root', async () => {
    for (const schema of [
      { type: 'array', items: { type: 'string' } },
      { type: 'object', anyOf: [closed({ a: { type: 'string' } })] },
    ]) {
      const error = await rejection(
        client.chat.completions.create({
          model: 'gpt-4.1',
          messages: [user],
          response_format: strictFormat(schema),
        }),
      );
      expect(error.message).toContain(`schema must be a JSON Schema of 'type: "object"'`);
    }
  });

  it('rejects nesting deeper than 10 levels and more than 1000 enum values', async () => {
    let deep: Record<string, unknown> = closed({ leaf: { type: 'string' } });
    for (let level = 0; level < 10; level++) deep = closed({ child: deep });
    const nested = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat(deep),
      }),
    );
    expect(nested.message).toContain('nesting is deeper than 10 levels');
    const many = closed({ e: { type: 'string', enum: Array.from({ length: 1001 }, (_, i) => `v${i}`) } });
    const enums = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        response_format: strictFormat(many),
      }),
    );
    expect(enums.message).toContain('1001 enum values');
  });

  it('leaves non-strict schemas alone', async () => {
    const answer = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [user],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'output',
          schema: { type: 'object', properties: { u: { type: 'string', format: 'uri' } } },
        },
      },
    });
    expect(answer.choices[0]?.message.content).toBe('scripted');
  });

  it('applies the same rules to strict function tools, with code invalid_function_parameters', async () => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user],
        tools: [
          {
            type: 'function',
            function: { name: 'ok', parameters: closed({ a: { type: 'string' } }), strict: true },
          },
          {
            type: 'function',
            function: { name: 'bad', parameters: { type: 'object', properties: {} }, strict: true },
          },
        ],
      }),
    );
    expect(error).toMatchObject({
      param: 'tools[1].function.parameters',
      code: 'invalid_function_parameters',
    });
    expect(error.message).toContain("Invalid schema for function 'bad'");
  });
});

describe('reasoning models (gpt-5.x, o-series)', () => {
  it('reject a temperature other than the default, and top_p', async () => {
    const error = await rejection(
      client.chat.completions.create({ model: 'gpt-5.4', messages: [user], temperature: 0.2 }),
    );
    expect(error).toMatchObject({ param: 'temperature', code: 'unsupported_value' });
    const topP = await rejection(
      client.chat.completions.create({ model: 'o4-mini', messages: [user], top_p: 0.5 }),
    );
    expect(topP).toMatchObject({ param: 'top_p', code: 'unsupported_value' });
  });

  it('reject max_tokens and point at max_completion_tokens', async () => {
    const error = await rejection(
      client.chat.completions.create({ model: 'gpt-5-mini', messages: [user], max_tokens: 10 }),
    );
    expect(error).toMatchObject({ param: 'max_tokens', code: 'unsupported_parameter' });
    expect(error.message).toContain("Use 'max_completion_tokens' instead");
  });

  it('accept the default temperature and max_completion_tokens; other models accept any temperature', async () => {
    await client.chat.completions.create({
      model: 'gpt-5.4',
      messages: [user],
      temperature: 1,
      max_completion_tokens: 10,
    });
    await client.chat.completions.create({ model: 'gpt-5-chat-latest', messages: [user], temperature: 0.2 });
    await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [user],
      temperature: 0.2,
      max_tokens: 10,
    });
  });
});

describe('tool message order', () => {
  const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };

  it('accepts tool messages answering the preceding assistant tool_calls', async () => {
    await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [
        user,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'r' },
      ],
    });
  });

  it('rejects a tool message with no matching tool_calls id', async () => {
    const error = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          user,
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_2', content: 'r' },
        ],
      }),
    );
    expect(error.param).toBe('messages.[2].role');
    expect(error.message).toContain(
      "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'",
    );
  });

  it('rejects a tool message after a user turn, and tool_calls left unanswered', async () => {
    const orphan = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user, { role: 'tool', tool_call_id: 'call_1', content: 'r' }],
      }),
    );
    expect(orphan.param).toBe('messages.[1].role');
    const unanswered = await rejection(
      client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [user, { role: 'assistant', content: null, tool_calls: [call] }, user],
      }),
    );
    expect(unanswered.message).toContain('did not have response messages: call_1');
  });
});

describe('batch lines', () => {
  it('answer an invalid line with the same 400 in the error file, before the script', async () => {
    const line = (id: string, temperature: number) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-5.4', messages: [user], temperature },
      });
    const file = await client.files.create({
      file: new File([`${line('good', 1)}\n${line('bad', 0.3)}\n`], 'batch.jsonl'),
      purpose: 'batch',
    });
    const before = scripted;
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    // The create request and the good line reach the script; the bad line does not.
    expect(scripted - before).toBe(2);
    const ended = await client.batches.retrieve(batch.id);
    expect(ended.request_counts).toMatchObject({ completed: 1, failed: 1 });
    const errors = await (await client.files.content(ended.error_file_id ?? '')).text();
    expect(JSON.parse(errors.trim())).toMatchObject({
      custom_id: 'bad',
      response: { status_code: 400, body: { error: { param: 'temperature', code: 'unsupported_value' } } },
    });
  });
});
