/**
 * What the offline model emits on the Claude wire (src/offline/anthropicEmit.ts): thinking blocks the next
 * request must carry back, redacted thinking, max_tokens truncation and cut-off tool calls, refusal and
 * pause_turn, read through the real @anthropic-ai/sdk client.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startOfflineModelServer,
  type ModelReply,
  type OfflineModelServer,
} from '../../../src/offline/offlineModelServer.js';

let server: OfflineModelServer;
let client: Anthropic;
let replies: ModelReply[];
beforeEach(async () => {
  replies = [];
  // Scripted replies first; `offline` when none is queued.
  server = await startOfflineModelServer({ script: () => replies.shift() ?? { kind: 'offline' } });
  client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.anthropicBaseUrl, maxRetries: 0 });
});
afterEach(async () => {
  await server.stop();
});

const search = {
  name: 'web_search',
  description: 'Search',
  input_schema: { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] },
};
const base: MessageCreateParamsNonStreaming = {
  model: 'claude-opus-4-8',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Find the Durable Functions docs' }],
};

describe('thinking', () => {
  it('starts the answer with a signed thinking block when the request thinks, and accepts it back', async () => {
    const first = await client.messages.create({ ...base, tools: [search], thinking: { type: 'adaptive' } });
    expect(first.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
    expect(first.content[0]).toMatchObject({
      type: 'thinking',
      signature: expect.stringMatching(/^offline-sig-/) as unknown,
    });
    const toolUse = first.content[1];
    if (toolUse?.type !== 'tool_use') throw new Error('expected tool_use');
    const next: MessageParam[] = [
      ...base.messages,
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'found' }] },
    ];
    const second = await client.messages.create({
      ...base,
      tools: [search],
      thinking: { type: 'adaptive' },
      messages: next,
    });
    expect(second.stop_reason).toBe('end_turn');
    // Dropping the thinking block is what the real API rejects.
    const dropped: MessageParam[] = [
      ...base.messages,
      { role: 'assistant', content: [toolUse] },
      ...next.slice(2),
    ];
    await expect(
      client.messages.create({ ...base, tools: [search], thinking: { type: 'adaptive' }, messages: dropped }),
    ).rejects.toThrow(/Expected `thinking` or `redacted_thinking`/);
  });

  it('emits no thinking when the request does not think, and thinks by default on Opus 5', async () => {
    const plain = await client.messages.create(base);
    expect(plain.content.map((block) => block.type)).toEqual(['text']);
    const opus5 = await client.messages.create({ ...base, model: 'claude-opus-5' });
    expect(opus5.content.map((block) => block.type)).toEqual(['thinking', 'text']);
  });

  it('emits scripted thinking text and a redacted_thinking block', async () => {
    replies.push({ kind: 'text', text: 'Done.', thinking: 'Plan: answer briefly.', redactedThinking: true });
    const message = await client.messages.create({ ...base, thinking: { type: 'adaptive' } });
    expect(message.content).toMatchObject([
      { type: 'thinking', thinking: 'Plan: answer briefly.' },
      { type: 'redacted_thinking', data: expect.stringMatching(/^offline-redacted-/) as unknown },
      { type: 'text', text: 'Done.' },
    ]);
  });

  it('counts thinking in the output tokens', async () => {
    const long = 'x'.repeat(4000);
    replies.push({ kind: 'text', text: 'ok', thinking: long }, { kind: 'text', text: 'ok' });
    const thinking = await client.messages.create({ ...base, thinking: { type: 'adaptive' } });
    const plain = await client.messages.create(base);
    expect(thinking.usage.output_tokens - plain.usage.output_tokens).toBeGreaterThanOrEqual(1000);
  });
});

describe('stop reasons', () => {
  it('cuts a long answer at max_tokens', async () => {
    replies.push({ kind: 'text', text: 'word '.repeat(400) });
    const message = await client.messages.create({ ...base, max_tokens: 50 });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(50);
    const text = message.content[0];
    expect(text?.type === 'text' ? text.text.length : -1).toBe(200);
  });

  it('cuts a tool call off: scripted, and when its input does not fit', async () => {
    replies.push({ kind: 'tool_use', name: 'web_search', input: { q: 'durable' }, stopReason: 'max_tokens' });
    const scripted = await client.messages.create({ ...base, tools: [search] });
    expect(scripted.stop_reason).toBe('max_tokens');
    expect(scripted.content).toMatchObject([{ type: 'tool_use', name: 'web_search', input: {} }]);
    replies.push({ kind: 'tool_use', name: 'web_search', input: { q: 'y'.repeat(400) } });
    const long = await client.messages.create({ ...base, max_tokens: 20, tools: [search] });
    expect(long.stop_reason).toBe('max_tokens');
    expect(long.content).toMatchObject([{ type: 'tool_use', input: {} }]);
  });

  it('returns a refusal', async () => {
    replies.push({ kind: 'text', text: 'I cannot help with that.', stopReason: 'refusal' });
    const message = await client.messages.create(base);
    expect(message.stop_reason).toBe('refusal');
  });

  it('pauses a turn on a server tool call, and accepts the paused turn sent back to continue', async () => {
    replies.push({ kind: 'text', text: 'Searching…', stopReason: 'pause_turn' });
    const paused = await client.messages.create(base);
    expect(paused.stop_reason).toBe('pause_turn');
    expect(paused.content.map((block) => block.type)).toEqual(['text', 'server_tool_use']);
    const resumed = await client.messages.create({
      ...base,
      messages: [...base.messages, { role: 'assistant', content: paused.content }],
    });
    expect(resumed.stop_reason).toBe('end_turn');
    // The same final assistant turn without the server tool call is a prefill, which Opus 4.8 rejects.
    await expect(
      client.messages.create({
        ...base,
        messages: [...base.messages, { role: 'assistant', content: 'Searching…' }],
      }),
    ).rejects.toThrow(/does not support assistant message prefill/);
  });
});
