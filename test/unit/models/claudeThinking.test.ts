/**
 * Claude thinking and effort through the app's providers, against the strict offline model: thinking
 * blocks (and redacted ones) come back as ContentBlocks, survive the transcript's JSON round trip, and are
 * sent back so the next tool turn is accepted; thinking calls never force a tool; GPT skips the blocks.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LlmStep } from '../../../src/definitions/schema.js';
import { parseModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import {
  startOfflineModelServer,
  type ModelReply,
  type OfflineModelServer,
} from '../../../src/offline/offlineModelServer.js';
import type { ModelMessage } from '../../../src/shared/modelTypes.js';
import { LegacyTranscriptRef, type ToolDefinition } from '../../../src/shared/modelTypes.js';

let server: OfflineModelServer;
let replies: ModelReply[];
beforeEach(async () => {
  replies = [];
  server = await startOfflineModelServer({ script: () => replies.shift() ?? { kind: 'offline' } });
});
afterEach(async () => {
  await server.stop();
});

const tools: ToolDefinition[] = [
  {
    name: 'web_search',
    description: 'Search the web',
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
];
const question: ModelMessage = {
  role: 'user',
  content: [{ type: 'text', text: 'What is Durable Functions?' }],
};
const outputSchema = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
  additionalProperties: false,
};
const body = (index: number) => server.requests[index]?.body as Record<string, unknown>;
const claude = (kind: 'anthropic' | 'foundry') =>
  createModelProviders(
    parseModelConfig(
      kind === 'anthropic'
        ? { ANTHROPIC_BASE_URL: server.anthropicBaseUrl, ANTHROPIC_API_KEY: 'sk-ant-x' }
        : { FOUNDRY_BASE_URL: server.foundryBaseUrl, FOUNDRY_API_KEY: 'key' },
    ),
  ).get(kind);

describe('Claude thinking in the app', () => {
  it('keeps thinking (and redacted thinking) across a tool turn, through a JSON round trip', async () => {
    replies.push({
      kind: 'tool_use',
      name: 'web_search',
      input: { query: 'durable functions' },
      thinking: 'I should search first.',
      redactedThinking: true,
    });
    const provider = await claude('anthropic');
    const first = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question],
      tools,
      maxTokens: 2048,
      thinking: 'adaptive',
      effort: 'low',
    });
    expect(body(0)).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(first.message.content.map((block) => block.type)).toEqual([
      'thinking',
      'redacted_thinking',
      'tool_use',
    ]);
    const toolUse = first.message.content[2];
    if (toolUse?.type !== 'tool_use') throw new Error('expected tool_use');

    // The transcript crosses activity history and blob storage as JSON, parsed by the same zod types.
    const stored = LegacyTranscriptRef.parse(
      JSON.parse(JSON.stringify({ blobRef: 'transcripts/run/step', tail: [question, first.message] })),
    );
    const transcript = [
      ...(stored.tail ?? []),
      {
        role: 'user' as const,
        content: [{ type: 'tool_result' as const, toolUseId: toolUse.id, content: 'DF is…', isError: false }],
      },
    ];
    const second = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: transcript,
      tools,
      maxTokens: 2048,
      thinking: 'adaptive',
    });
    expect(second.stopReason).toBe('end_turn');
    const sent = (body(1).messages as { content: { type: string }[] }[])[1]?.content;
    expect(sent?.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'tool_use']);
  });

  it('uses native structured output instead of a forced tool when the model thinks (Foundry tool mode)', async () => {
    const provider = await claude('foundry');
    const thinking = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question],
      outputSchema,
      maxTokens: 2048,
      thinking: 'adaptive',
    });
    expect(body(0).tool_choice).toBeUndefined();
    expect(body(0).output_config).toMatchObject({ format: { type: 'json_schema' } });
    expect(thinking.structured?.value).toMatchObject({ answer: expect.any(String) as unknown });
    expect(thinking.message.content.map((block) => block.type)).toEqual(['thinking', 'text']);

    // Opus 5 thinks when `thinking` is omitted, so it gets native output too; `off` keeps the forced tool.
    await provider.call({ deployment: 'claude-opus-5', messages: [question], outputSchema, maxTokens: 2048 });
    expect(body(1).tool_choice).toBeUndefined();
    await provider.call({
      deployment: 'claude-opus-5',
      messages: [question],
      outputSchema,
      maxTokens: 2048,
      thinking: 'off',
    });
    expect(body(2)).toMatchObject({
      thinking: { type: 'disabled' },
      tool_choice: { type: 'tool', name: 'emit_output' },
    });
  });

  it('counts thinking in the output tokens', async () => {
    replies.push({ kind: 'text', text: 'ok', thinking: 'y'.repeat(8000) }, { kind: 'text', text: 'ok' });
    const provider = await claude('anthropic');
    const withThinking = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question],
      maxTokens: 4096,
      thinking: 'adaptive',
    });
    const without = await provider.call({
      deployment: 'claude-opus-4-8',
      messages: [question],
      maxTokens: 4096,
    });
    expect(withThinking.usage.outputTokens - without.usage.outputTokens).toBeGreaterThanOrEqual(2000);
  });

  it('GPT deployments skip thinking blocks in the transcript', async () => {
    const provider = await createModelProviders(
      parseModelConfig({ OPENAI_BASE_URL: server.openaiBaseUrl }),
    ).get('openai');
    await provider.call({
      deployment: 'gpt-5.4',
      messages: [
        question,
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'secret plan', signature: 'sig' },
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'text', text: 'Earlier answer' },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
      ],
      maxTokens: 500,
    });
    const text = JSON.stringify(body(0));
    expect(text).toContain('Earlier answer');
    expect(text).not.toContain('secret plan');
    expect(text).not.toContain('opaque');
  });
});

describe('workflow step fields', () => {
  const step = { id: 'plan', kind: 'llm', role: 'planner', prompt: 'Plan' };
  it('accepts thinking and effort, and names a bad value', () => {
    expect(LlmStep.parse({ ...step, thinking: 'adaptive', effort: 'high' })).toMatchObject({
      thinking: 'adaptive',
      effort: 'high',
    });
    const bad = LlmStep.safeParse({ ...step, effort: 'extreme' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['effort']);
  });
});
