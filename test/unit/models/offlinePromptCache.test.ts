import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';
import type { ModelMessage } from '../../../src/shared/modelTypes.js';
import { startScriptedModel, textResponse } from '../../support/scriptedModel.js';

const MINUTE = 60_000;
const words = (tokens: number) => 'word '.repeat(Math.ceil((tokens * 4) / 5));
const EPHEMERAL = { type: 'ephemeral' } as const;

let clock = 0;
let server: OfflineModelServer;
beforeEach(async () => {
  clock = 1_800_000_000_000;
  server = await startOfflineModelServer({ now: () => clock });
});
afterEach(async () => {
  await server.stop();
});

const claude = () => new Anthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'offline', maxRetries: 0 });
const send = (params: Omit<MessageCreateParamsNonStreaming, 'max_tokens'>) =>
  claude().messages.create({ max_tokens: 50, ...params });

/** A system prompt of `tokens` tokens with a 5-minute (or 1-hour) breakpoint. */
const system = (tokens: number, ttl?: '1h') => [
  { type: 'text' as const, text: words(tokens), cache_control: ttl ? { ...EPHEMERAL, ttl } : EPHEMERAL },
];
const ask = (text: string): MessageParam[] => [{ role: 'user', content: text }];

describe('offline model: Claude prompt cache', () => {
  it('writes a prefix at a breakpoint, then reads it; the rest is input', async () => {
    const first = await send({ model: 'claude-opus-4-8', system: system(2000), messages: ask('One?') });
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThanOrEqual(2000);
    expect(first.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: first.usage.cache_creation_input_tokens,
      ephemeral_1h_input_tokens: 0,
    });
    expect(first.usage.input_tokens).toBeGreaterThan(0);
    expect(first.usage.input_tokens).toBeLessThan(50);

    const second = await send({ model: 'claude-opus-4-8', system: system(2000), messages: ask('Two?') });
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    // Another model has its own cache.
    const other = await send({ model: 'claude-sonnet-4-6', system: system(2000), messages: ask('Two?') });
    expect(other.usage.cache_read_input_tokens).toBe(0);
  });

  it('caches nothing under the model minimum (Haiku 4.5: 4,096 tokens), even when marked', async () => {
    for (let call = 0; call < 2; call++) {
      const reply = await send({ model: 'claude-haiku-4-5', system: system(2000), messages: ask('Hi') });
      expect(reply.usage.cache_read_input_tokens).toBe(0);
      expect(reply.usage.cache_creation_input_tokens).toBe(0);
      expect(reply.usage.input_tokens).toBeGreaterThan(2000);
    }
    await send({ model: 'claude-haiku-4-5', system: system(4200), messages: ask('Hi') });
    const hit = await send({ model: 'claude-haiku-4-5', system: system(4200), messages: ask('Ho') });
    expect(hit.usage.cache_read_input_tokens).toBeGreaterThanOrEqual(4096);
  });

  it('expires an entry 5 minutes after its last use, and a 1-hour entry after an hour', async () => {
    const call = (ttl?: '1h') =>
      send({ model: 'claude-opus-4-8', system: system(1500, ttl), messages: ask('?') });
    await call();
    clock += 4 * MINUTE;
    expect((await call()).usage.cache_read_input_tokens).toBeGreaterThan(0);
    clock += 4 * MINUTE; // 8 minutes after the write, 4 after the read that renewed it
    expect((await call()).usage.cache_read_input_tokens).toBeGreaterThan(0);
    clock += 5 * MINUTE + 1;
    const expired = await call();
    expect(expired.usage.cache_read_input_tokens).toBe(0);
    expect(expired.usage.cache_creation_input_tokens).toBeGreaterThan(0);

    const long = await call('1h');
    expect(long.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: 0,
      ephemeral_1h_input_tokens: long.usage.cache_creation_input_tokens,
    });
    clock += 30 * MINUTE;
    expect((await call('1h')).usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it('finds the previous breakpoint within 20 blocks; tool_choice changes keep only tools and system', async () => {
    const tools = [{ name: 'search', description: 'Search', input_schema: { type: 'object' as const } }];
    // Opus 5 thinks unless told not to, and thinking refuses a forced tool_choice, so it is off here.
    const base = {
      model: 'claude-opus-5',
      system: system(600),
      tools,
      thinking: { type: 'disabled' as const },
    };
    const turn1: MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: words(800), cache_control: EPHEMERAL }] },
    ];
    const first = await send({ ...base, messages: turn1 });
    // The next turn moves the breakpoint forward; the old one is 2 blocks back (cache_control is not part of the prefix).
    const turn2: MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: words(800) }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Go on.', cache_control: EPHEMERAL }] },
    ];
    const second = await send({ ...base, messages: turn2 });
    const firstPrefix =
      (first.usage.cache_creation_input_tokens ?? 0) + (first.usage.cache_read_input_tokens ?? 0);
    expect(second.usage.cache_read_input_tokens).toBe(firstPrefix);
    expect(second.usage.cache_creation_input_tokens).toBeGreaterThan(0);

    const forced = await send({ ...base, messages: turn2, tool_choice: { type: 'any' } });
    expect(forced.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(forced.usage.cache_read_input_tokens).toBeLessThan(firstPrefix);
  });

  it('agent loop through the provider: from the second turn on most of the prompt is read from cache', async () => {
    const model = await startScriptedModel({ now: () => clock, unexpected: 'offline' });
    try {
      const provider = await createModelProviders(
        parseModelConfig({ ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'sk-ant-x' }),
      ).get('anthropic');
      const messages: ModelMessage[] = [{ role: 'user', content: [{ type: 'text', text: words(1500) }] }];
      const reads: number[] = [];
      for (let turn = 0; turn < 4; turn++) {
        const result = await provider.call({
          deployment: 'claude-opus-4-8',
          system: 'Be brief.',
          messages,
          maxTokens: 50,
        });
        const { inputTokens, cacheReadTokens, cacheWriteTokens } = result.usage;
        reads.push(cacheReadTokens / (inputTokens + cacheReadTokens + cacheWriteTokens));
        messages.push(result.message, { role: 'user', content: [{ type: 'text', text: words(200) }] });
      }
      expect(reads[0]).toBe(0);
      for (const rate of reads.slice(1)) expect(rate).toBeGreaterThan(0.7);
    } finally {
      await model.stop();
    }
  });

  it('answers the same with or without cache_control (it marks what to cache, not what to say)', async () => {
    const plain = [{ type: 'text' as const, text: words(100) }];
    const marked = await send({ model: 'claude-opus-4-8', system: system(100), messages: ask('Same?') });
    const unmarked = await send({ model: 'claude-opus-4-8', system: plain, messages: ask('Same?') });
    expect(unmarked.id).toBe(marked.id);
    expect(unmarked.content).toEqual(marked.content);
  });

  it('keeps scripted usage as scripted', async () => {
    const model = await startScriptedModel();
    try {
      model.expect({ respond: textResponse('a') }, { respond: textResponse('b', { inputTokens: 7 }) });
      const client = new Anthropic({ baseURL: model.anthropicBaseUrl, apiKey: 'x', maxRetries: 0 });
      const params = { model: 'claude-opus-4-8', max_tokens: 10, system: system(2000), messages: ask('?') };
      const simulated = await client.messages.create(params);
      expect(simulated.usage.cache_creation_input_tokens).toBeGreaterThanOrEqual(2000);
      const scripted = await client.messages.create(params);
      expect(scripted.usage).toMatchObject({
        input_tokens: 7,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      });
      model.assertDone();
    } finally {
      await model.stop();
    }
  });
});

describe('offline model: OpenAI automatic prompt cache', () => {
  const openai = () => new OpenAI({ baseURL: server.openaiBaseUrl, apiKey: 'offline', maxRetries: 0 });
  const chat = (system: string, user: string) =>
    openai().chat.completions.create({
      model: 'gpt-5.4',
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
    });

  it('reports cached_tokens for a seen prefix of 1,024+ tokens, in 128-token blocks', async () => {
    const long = words(3000);
    const first = await chat(long, 'First question');
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const second = await chat(long, 'Second question');
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThanOrEqual(2944);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThanOrEqual(second.usage?.prompt_tokens ?? 0);

    const short = words(600);
    await chat(short, 'a');
    expect((await chat(short, 'b')).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    clock += 6 * MINUTE;
    expect((await chat(long, 'Third')).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('exposes the same cache to other wire routes (OpenAI Responses)', () => {
    const prompt = words(2000);
    expect(server.promptCache.openAICachedTokens('gpt-5.4', prompt)).toBe(0);
    expect(server.promptCache.openAICachedTokens('gpt-5.4', `${prompt}more`)).toBe(
      Math.floor(prompt.length / 512) * 128,
    );
    expect(server.promptCache.openAICachedTokens('gpt-5.4-mini', prompt)).toBe(0);
  });
});
