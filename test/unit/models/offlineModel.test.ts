import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCallModelActivity } from '../../../src/activities/callModel.js';
import { parseModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import {
  OFFLINE_HEADER,
  startOfflineModelServer,
  type OfflineModelServer,
} from '../../../src/offline/offlineModelServer.js';
import { seededRandom } from '../../../src/offline/prng.js';
import { valueFromSchema } from '../../../src/offline/schemaValue.js';
import type { ToolDefinition } from '../../../src/shared/modelTypes.js';

const reportSchema: Record<string, unknown> = {
  type: 'object',
  $defs: {
    source: {
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, title: { type: 'string', maxLength: 30 } },
      required: ['url'],
    },
  },
  properties: {
    id: { type: 'string', format: 'uuid' },
    title: { type: 'string', description: 'Report title', minLength: 5, maxLength: 60 },
    status: { enum: ['draft', 'final'] },
    score: { type: 'integer', minimum: 1, maximum: 5 },
    ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    published: { type: 'string', format: 'date-time' },
    day: { type: 'string', format: 'date' },
    contact: { type: 'string', format: 'email' },
    tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4, uniqueItems: true },
    sources: { type: 'array', items: { $ref: '#/$defs/source' }, minItems: 1 },
    note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    flags: {
      type: 'object',
      properties: { urgent: { type: 'boolean' } },
      required: ['urgent'],
      additionalProperties: false,
    },
  },
  required: [
    'id',
    'title',
    'status',
    'score',
    'ratio',
    'published',
    'day',
    'contact',
    'tags',
    'sources',
    'note',
    'flags',
  ],
  additionalProperties: false,
};

describe('valueFromSchema', () => {
  it('produces schema-valid values for many seeds', () => {
    const validator = z.fromJSONSchema(reportSchema);
    for (let seed = 1; seed <= 200; seed++) {
      const value = valueFromSchema(reportSchema, seededRandom(seed));
      const result = validator.safeParse(value);
      expect(result.success, `seed ${seed}: ${JSON.stringify(value)} ${result.error?.message ?? ''}`).toBe(
        true,
      );
    }
  });

  it('is a pure function of the seed', () => {
    expect(valueFromSchema(reportSchema, seededRandom(7))).toEqual(
      valueFromSchema(reportSchema, seededRandom(7)),
    );
    expect(valueFromSchema(reportSchema, seededRandom(7))).not.toEqual(
      valueFromSchema(reportSchema, seededRandom(8)),
    );
  });
});

describe('offline model server', () => {
  let server: OfflineModelServer;
  beforeAll(async () => {
    server = await startOfflineModelServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      offline: response.headers.get(OFFLINE_HEADER),
      body: await response.text(),
    };
  };

  it('answers the same request with the same bytes, marked offline', async () => {
    const request = {
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'Summarize: durable functions replay orchestrators from history.' },
      ],
    };
    const first = await post('/v1/messages', request);
    const second = await post('/anthropic/v1/messages', request);
    expect(first).toEqual(second);
    expect(first.offline).toBe('true');
    const message = JSON.parse(first.body) as {
      content: { text: string }[];
      usage: { input_tokens: number };
    };
    expect(message.content[0]?.text).toBe(
      '[offline] Summary of the last message (7 words): Summarize: durable functions replay orchestrators from history.',
    );
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('rejects requests the real API would reject, and unknown paths', async () => {
    expect(await post('/v1/messages', { model: 'x', messages: [] })).toMatchObject({ status: 400 });
    expect(await post('/v1/embeddings', { model: 'x' })).toMatchObject({ status: 404 });
  });

  it('calls the first tool with schema-shaped arguments, then summarizes after the tool result', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'web_search',
          parameters: {
            type: 'object',
            properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 10 } },
            required: ['query', 'limit'],
          },
        },
      },
    ];
    const ask = await post('/openai/v1/chat/completions', {
      model: 'gpt-5.4',
      messages: [{ role: 'user', content: 'Find DF docs' }],
      tools,
    });
    const completion = JSON.parse(ask.body) as {
      choices: {
        finish_reason: string;
        message: { tool_calls: { id: string; function: { name: string; arguments: string } }[] };
      }[];
    };
    const toolCall = completion.choices[0]?.message.tool_calls[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(toolCall?.function.name).toBe('web_search');
    const args = JSON.parse(toolCall?.function.arguments ?? '{}') as { query: unknown; limit: number };
    expect(typeof args.query).toBe('string');
    expect(args.limit).toBeGreaterThanOrEqual(1);

    const answer = await post('/openai/v1/chat/completions', {
      model: 'gpt-5.4',
      tools,
      messages: [
        { role: 'user', content: 'Find DF docs' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: toolCall?.id, type: 'function', function: toolCall?.function }],
        },
        {
          role: 'tool',
          tool_call_id: toolCall?.id,
          content: 'Durable Functions docs are at learn.microsoft.com',
        },
      ],
    });
    const text = (JSON.parse(answer.body) as { choices: { message: { content: string } }[] }).choices[0]
      ?.message.content;
    expect(text).toMatch(/^\[offline\] Summary of the last message \(6 words\): Durable Functions docs/);
  });
});

describe('offline mode end to end', () => {
  const schema = {
    type: 'object',
    properties: { questions: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 } },
    required: ['questions'],
    additionalProperties: false,
  };
  const tools: ToolDefinition[] = [
    {
      name: 'web_search',
      description: 'Search',
      inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    },
  ];
  const config = parseModelConfig({});
  const activity = createCallModelActivity({
    config: () => config,
    providers: (c) => createModelProviders(c),
  });
  const input = (role: string, extra: object = {}) => ({
    role,
    runId: 'r',
    stepId: 's',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Research durable agents.' }] }],
    ...extra,
  });

  it('serves every default role through the real SDK clients, marked offline', async () => {
    for (const role of ['planner', 'worker', 'writer']) {
      const result = await activity(input(role));
      expect(result).toMatchObject({ ok: true, offline: true, stopReason: 'end_turn', priced: true });
      if (!result.ok) continue;
      // The writer (gpt-5.4, Responses API) reasons first: its encrypted reasoning item leads the turn.
      expect(result.message.content.map((block) => block.type)).toEqual(
        role === 'writer' ? ['reasoning', 'text'] : ['text'],
      );
      expect(result.message.content.at(-1)).toMatchObject({
        type: 'text',
        text: expect.stringMatching(/^\[offline\] /) as string,
      });
      expect(result.costUsd).toBeGreaterThan(0);
    }
  });

  it('returns deterministic, schema-valid structured output on both protocols', async () => {
    for (const role of ['planner', 'writer']) {
      const first = await activity(input(role, { outputSchema: schema }));
      const second = await activity(input(role, { outputSchema: schema }));
      expect(first).toMatchObject({ ok: true, offline: true });
      if (!first.ok || !second.ok) continue;
      expect((first.structured as { questions: string[] }).questions).toHaveLength(3);
      expect(second.structured).toEqual(first.structured);
    }
  });

  it('drives a tool loop: tool call first, then an answer', async () => {
    const first = await activity(input('worker', { tools }));
    expect(first).toMatchObject({ ok: true, stopReason: 'tool_use' });
    if (!first.ok || first.message.content[0]?.type !== 'tool_use') throw new Error('expected a tool call');
    const toolUseId = first.message.content[0].id;
    const second = await activity({
      ...input('worker', { tools }),
      messages: [
        ...input('worker').messages,
        first.message,
        { role: 'user', content: [{ type: 'tool_result', toolUseId, content: 'three results' }] },
      ],
    });
    expect(second).toMatchObject({ ok: true, stopReason: 'end_turn', offline: true });
  });
});
