/**
 * The offline model's Claude Messages API rules (src/offline/anthropicRules.ts, claudeSchemaRules.ts), each
 * with a request the real API accepts and one it rejects, sent by the real @anthropic-ai/sdk client over
 * loopback. The rejection is the API's 400 `invalid_request_error` body.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thinkingSignature } from '../../../src/offline/anthropicRules.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';

let server: OfflineModelServer;
let client: Anthropic;
beforeAll(async () => {
  server = await startOfflineModelServer();
  // An explicit timeout: the SDK refuses large non-streaming max_tokens without one.
  client = new Anthropic({
    apiKey: 'sk-ant-test',
    baseURL: server.anthropicBaseUrl,
    maxRetries: 0,
    timeout: 60_000,
  });
});
afterAll(async () => {
  await server.stop();
});

type Params = MessageCreateParamsNonStreaming;
const base: Params = {
  model: 'claude-opus-4-8',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello' }],
};
const search = {
  name: 'web_search',
  description: 'Search',
  input_schema: { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] },
};

async function accepted(params: Params) {
  const message = await client.messages.create(params);
  expect(message.type).toBe('message');
  return message;
}

async function rejected(params: Params, message: RegExp) {
  const error: unknown = await client.messages.create(params).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the request should have been rejected').toBeInstanceOf(Anthropic.BadRequestError);
  const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as {
    type: string;
    error: { type: string; message: string };
  };
  expect(body.type).toBe('error');
  expect(body.error.type).toBe('invalid_request_error');
  expect(body.error.message).toMatch(message);
}

const closed = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});
const withSchema = (schema: Record<string, unknown>): Params => ({
  ...base,
  output_config: { format: { type: 'json_schema', schema } },
});

describe('structured output schemas', () => {
  it('accepts the supported subset: enums, const, anyOf, $defs, formats, minItems 0/1, simple patterns', async () => {
    await accepted(
      withSchema({
        ...closed({
          kind: { type: 'string', enum: ['a', 'b'] },
          fixed: { const: 3 },
          link: { type: 'string', format: 'uri' },
          code: { type: 'string', pattern: '^[A-Z]{3}-\\d+$' },
          tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
          note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          source: { $ref: '#/$defs/source' },
        }),
        $defs: { source: closed({ title: { type: 'string', description: 'the title' } }) },
      }),
    );
  });

  it.each([
    ['minimum', { type: 'integer', minimum: 1 }, /property 'minimum' is not supported/],
    ['maximum', { type: 'number', maximum: 1 }, /property 'maximum' is not supported/],
    ['exclusiveMinimum', { type: 'number', exclusiveMinimum: 0 }, /'exclusiveMinimum' is not supported/],
    ['multipleOf', { type: 'number', multipleOf: 5 }, /'multipleOf' is not supported/],
    ['minLength', { type: 'string', minLength: 3 }, /'minLength' is not supported/],
    ['maxLength', { type: 'string', maxLength: 3 }, /'maxLength' is not supported/],
    ['maxItems', { type: 'array', items: { type: 'string' }, maxItems: 3 }, /'maxItems' is not supported/],
    [
      'minItems 2',
      { type: 'array', items: { type: 'string' }, minItems: 2 },
      /'minItems' values other than 0 or 1/,
    ],
    ['oneOf', { oneOf: [{ type: 'string' }, { type: 'null' }] }, /'oneOf' is not supported/],
    ['format', { type: 'string', format: 'uri-reference' }, /format "uri-reference" is not supported/],
    ['pattern lookahead', { type: 'string', pattern: '^(?=a).*$' }, /'pattern' uses a regex feature/],
    ['enum of objects', { enum: [{ a: 1 }] }, /'enum' values must be/],
    [
      'open object',
      { type: 'object', properties: {} },
      /'additionalProperties' must be explicitly set to false/,
    ],
    ['external $ref', { $ref: 'https://example.com/s.json' }, /'\$ref' must point into/],
  ])('rejects %s', async (_name, property, message) => {
    await rejected(withSchema(closed({ value: property })), message);
  });

  it('rejects a recursive schema', async () => {
    await rejected(
      withSchema({
        ...closed({ root: { $ref: '#/$defs/node' } }),
        $defs: { node: closed({ children: { type: 'array', items: { $ref: '#/$defs/node' } } }) },
      }),
      /recursive schemas are not supported/,
    );
  });

  it('applies the same rules to a strict tool, not to a plain one', async () => {
    const loose = {
      ...search,
      input_schema: {
        ...search.input_schema,
        properties: { q: { type: 'string', maxLength: 9 } },
        additionalProperties: false,
      },
    };
    await accepted({ ...base, tools: [loose] });
    await rejected({ ...base, tools: [{ ...loose, strict: true }] }, /tools\.0\.input_schema.*'maxLength'/);
  });
});

describe('thinking', () => {
  const toolTurn = (first: Record<string, unknown>[]): MessageParam[] => [
    { role: 'user', content: 'Find it' },
    {
      role: 'assistant',
      content: [...first, { type: 'tool_use', id: 'toolu_1', name: 'web_search', input: { q: 'x' } }],
    } as unknown as MessageParam,
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }] },
  ];
  const thought = {
    type: 'thinking',
    thinking: 'I should search.',
    signature: thinkingSignature('I should search.'),
  };
  const adaptive: Params = { ...base, tools: [search], thinking: { type: 'adaptive' } };

  it('accepts a tool turn that starts with its unmodified thinking block', async () => {
    await accepted({ ...adaptive, messages: toolTurn([thought]) });
    await accepted({ ...adaptive, messages: toolTurn([{ type: 'redacted_thinking', data: 'opaque' }]) });
    // Without thinking, the same turn without a thinking block is fine.
    await accepted({ ...base, tools: [search], messages: toolTurn([]) });
  });

  it('rejects a tool turn without its thinking block, or with a modified one', async () => {
    await rejected(
      { ...adaptive, messages: toolTurn([]) },
      /Expected `thinking` or `redacted_thinking`, but found `tool_use`/,
    );
    await rejected(
      { ...adaptive, messages: toolTurn([{ ...thought, thinking: 'edited' }]) },
      /Invalid `signature` in `thinking` block/,
    );
  });

  it('treats Opus 5 as thinking by default, and Opus 5.5 as unable to turn it off', async () => {
    await rejected(
      { ...base, model: 'claude-opus-5', tools: [search], messages: toolTurn([]) },
      /Expected `thinking`/,
    );
    await accepted({
      ...base,
      model: 'claude-opus-5',
      thinking: { type: 'disabled' },
      tools: [search],
      messages: toolTurn([]),
    });
    await rejected(
      { ...base, model: 'claude-opus-5-5', thinking: { type: 'disabled' } },
      /"thinking.type.disabled" is not supported for this model/,
    );
  });

  it('rejects forced tool_choice with thinking on', async () => {
    await accepted({ ...adaptive, tool_choice: { type: 'auto' } });
    await rejected({ ...adaptive, tool_choice: { type: 'any' } }, /tool_choice forces tool use/);
    await rejected(
      { ...adaptive, tool_choice: { type: 'tool', name: 'web_search' } },
      /tool_choice forces tool use/,
    );
  });

  it('needs max_tokens above budget_tokens, and a budget of at least 1024', async () => {
    await accepted({ ...base, max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } });
    await rejected(
      { ...base, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } },
      /must be greater than `thinking.budget_tokens`/,
    );
    await rejected(
      { ...base, max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 512 } },
      /greater than or equal to 1024/,
    );
  });

  it('knows which models have adaptive thinking and effort', async () => {
    await accepted({ ...base, output_config: { effort: 'low' } });
    await rejected(
      { ...base, model: 'claude-haiku-4-5', output_config: { effort: 'low' } },
      /effort is not supported/,
    );
    await rejected(
      { ...base, model: 'claude-haiku-4-5', thinking: { type: 'adaptive' } },
      /"adaptive" thinking is not supported/,
    );
  });
});

describe('tool results', () => {
  const call = { type: 'tool_use' as const, id: 'toolu_a', name: 'web_search', input: { q: 'x' } };
  const result = { type: 'tool_result' as const, tool_use_id: 'toolu_a', content: 'ok' };
  const withTurns = (next: MessageParam['content']): Params => ({
    ...base,
    tools: [search],
    messages: [
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: [call] },
      { role: 'user', content: next },
    ],
  });

  it('accepts results first in the next user turn, text after them', async () => {
    await accepted(withTurns([result, { type: 'text', text: 'and more' }]));
  });

  it('rejects a missing result, text before the result, and an unknown id', async () => {
    await rejected(
      withTurns([{ type: 'text', text: 'no result' }]),
      /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_a/,
    );
    await rejected(withTurns([{ type: 'text', text: 'first' }, result]), /must come first/);
    await rejected(
      withTurns([result, { type: 'tool_result', tool_use_id: 'toolu_zz', content: 'x' }]),
      /unexpected `tool_use_id` found in `tool_result` blocks: toolu_zz/,
    );
  });
});

describe('prefill, parameters and limits', () => {
  const prefill: MessageParam[] = [
    { role: 'user', content: 'Answer in JSON' },
    { role: 'assistant', content: '{' },
  ];

  it('accepts prefill only on models that have it and without structured output', async () => {
    await accepted({ ...base, model: 'claude-haiku-4-5', messages: prefill });
    await rejected(
      { ...base, model: 'claude-opus-4-8', messages: prefill },
      /does not support assistant message prefill/,
    );
    await rejected(
      { ...base, model: 'claude-sonnet-5', messages: prefill },
      /does not support assistant message prefill/,
    );
    await rejected(
      { ...withSchema(closed({ a: { type: 'string' } })), model: 'claude-haiku-4-5', messages: prefill },
      /not supported with structured outputs/,
    );
  });

  it('merges consecutive turns of one role instead of requiring alternation', async () => {
    await accepted({
      ...base,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    });
  });

  it('rejects temperature, top_p and top_k, which this API version dropped', async () => {
    for (const name of ['temperature', 'top_p', 'top_k']) {
      await rejected({ ...base, [name]: 0.5 }, new RegExp(`${name}: Extra inputs are not permitted`));
    }
  });

  it('bounds max_tokens by the model', async () => {
    await accepted({ ...base, model: 'claude-opus-4-8', max_tokens: 128_000 });
    await rejected({ ...base, model: 'claude-opus-4-8', max_tokens: 128_001 }, /128001 > 128000/);
    await accepted({ ...base, model: 'claude-haiku-4-5-20251001', max_tokens: 64_000 });
    await rejected(
      { ...base, model: 'claude-haiku-4-5-20251001', max_tokens: 64_001 },
      /maximum allowed number of output tokens for claude-haiku-4-5-20251001/,
    );
  });

  it('allows at most 4 cache breakpoints', async () => {
    const cached = (n: number): Params => ({
      ...base,
      system: Array.from({ length: n }, (_, i) => ({
        type: 'text' as const,
        text: `part ${i}`,
        cache_control: { type: 'ephemeral' as const },
      })),
    });
    await accepted(cached(4));
    await rejected(cached(5), /A maximum of 4 blocks with cache_control may be provided. Found 5/);
  });
});

describe('where the rules run', () => {
  it('rejects an invalid request before a script can answer it', async () => {
    const scripted = await startOfflineModelServer({ script: () => ({ kind: 'text', text: 'scripted' }) });
    try {
      const direct = new Anthropic({ apiKey: 'k', baseURL: scripted.anthropicBaseUrl, maxRetries: 0 });
      await expect(direct.messages.create({ ...base, temperature: 0 } as Params)).rejects.toThrow(
        /temperature: Extra inputs/,
      );
      const ok = await direct.messages.create(base);
      expect(ok.content[0]).toMatchObject({ type: 'text', text: 'scripted' });
    } finally {
      await scripted.stop();
    }
  });

  it('errors an invalid request inside a batch with the same body, and answers the valid one', async () => {
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'good', params: base },
        { custom_id: 'bad', params: { ...base, model: 'claude-opus-4-8', max_tokens: 500_000 } },
      ],
    });
    let current = batch;
    for (let poll = 0; current.processing_status !== 'ended' && poll < 20; poll++) {
      current = await client.messages.batches.retrieve(batch.id);
    }
    const results = new Map<string, unknown>();
    for await (const line of await client.messages.batches.results(batch.id))
      results.set(line.custom_id, line.result);
    expect(results.get('good')).toMatchObject({ type: 'succeeded' });
    expect(results.get('bad')).toMatchObject({
      type: 'errored',
      error: {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: expect.stringMatching(/500000 > 128000/) as unknown,
        },
      },
    });
  });
});
