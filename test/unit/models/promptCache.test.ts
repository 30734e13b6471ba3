import type { MessageParam, TextBlockParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import {
  estimateTokens,
  MAX_CACHE_BREAKPOINTS,
  minCacheableTokens,
  placeCacheBreakpoints,
} from '../../../src/models/promptCache.js';
import type { ModelMessage } from '../../../src/shared/modelTypes.js';
import { startScriptedModel, textResponse, type ScriptedModel } from '../../support/scriptedModel.js';

const EPHEMERAL = { type: 'ephemeral' };
const words = (tokens: number) => 'word '.repeat(Math.ceil((tokens * 4) / 5));

function transcript(turns: number, toolResultChars = 4000): MessageParam[] {
  const messages: MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'Research DF.' }] }];
  for (let turn = 0; turn < turns; turn++) {
    messages.push({
      role: 'assistant',
      content: [{ type: 'tool_use', id: `t${turn}`, name: 'search', input: { q: `q${turn}` } }],
    });
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: `t${turn}`, content: 'x'.repeat(toolResultChars) }],
    });
  }
  return messages;
}

const marks = (request: { tools: Tool[]; system: TextBlockParam[]; messages: MessageParam[] }) =>
  (JSON.stringify(request).match(/"cache_control"/g) ?? []).length;

describe('minimum cacheable prefix per model', () => {
  it('follows the documented table, dated ids and unknown deployments included', () => {
    expect(minCacheableTokens('claude-opus-5')).toBe(512);
    expect(minCacheableTokens('claude-opus-4-8')).toBe(1024);
    expect(minCacheableTokens('claude-opus-4-7')).toBe(2048);
    expect(minCacheableTokens('claude-haiku-4-5-20251001')).toBe(4096);
    expect(minCacheableTokens('claude-sonnet-4-6')).toBe(1024);
    // "claude-opus-4" must not swallow "claude-opus-4-6".
    expect(minCacheableTokens('claude-opus-4-6')).toBe(4096);
    expect(minCacheableTokens('my-renamed-deployment')).toBe(1024);
    expect(estimateTokens(4097)).toBe(1025);
  });
});

describe('placeCacheBreakpoints', () => {
  const tools: Tool[] = [
    { name: 'search', description: words(1100), input_schema: { type: 'object' } },
    { name: 'fetch', description: 'Fetch', input_schema: { type: 'object' } },
  ];

  it('marks the last tool, the system prompt, the previous user turn and the last block: 4 at most', () => {
    const request = {
      model: 'claude-opus-4-8',
      tools: structuredClone(tools),
      system: [{ type: 'text', text: words(600) }] as TextBlockParam[],
      messages: transcript(3),
    };
    expect(placeCacheBreakpoints(request, true)).toBe(MAX_CACHE_BREAKPOINTS);
    expect(request.tools.map((tool) => tool.cache_control)).toEqual([undefined, EPHEMERAL]);
    expect(request.system[0]?.cache_control).toEqual(EPHEMERAL);
    const marked = request.messages.flatMap((message, index) =>
      (message.content as { cache_control?: unknown }[]).some((block) => block.cache_control) ? [index] : [],
    );
    // 7 messages: the user turn before the last assistant turn (index 4) and the last one (index 6).
    expect(marked).toEqual([4, 6]);
    expect(marks(request)).toBe(4);
  });

  it('leaves out breakpoints whose prefix is under the model minimum', () => {
    // Haiku 4.5 needs 4,096 tokens: tools + system (~1,700) are too short, the transcript grows past it.
    const request = {
      model: 'claude-haiku-4-5',
      tools: structuredClone(tools),
      system: [{ type: 'text', text: words(600) }] as TextBlockParam[],
      messages: transcript(4),
    };
    const placed = placeCacheBreakpoints(request, true);
    expect(request.tools[1]?.cache_control).toBeUndefined();
    expect(request.system[0]?.cache_control).toBeUndefined();
    expect(placed).toBe(2);
    expect(marks(request)).toBe(2);

    const short = { ...request, tools: structuredClone(tools), messages: transcript(0) };
    expect(placeCacheBreakpoints(short, true)).toBe(0);
    // The same short prefix does reach Opus 5's 512.
    expect(placeCacheBreakpoints({ ...short, model: 'claude-opus-5' }, true)).toBe(3);
  });

  it('never marks a thinking block or an empty text block, and marks nothing when disabled', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: words(2000) }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        ],
      },
    ];
    const request = { model: 'claude-opus-4-8', tools: [], system: [], messages };
    expect(placeCacheBreakpoints(request, true)).toBe(2);
    expect(messages[0]?.content).toEqual([{ type: 'text', text: words(2000), cache_control: EPHEMERAL }]);
    expect(messages[1]?.content).toEqual([
      { type: 'text', text: 'Let me look.', cache_control: EPHEMERAL },
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
    ]);

    const off = {
      model: 'claude-opus-4-8',
      tools: structuredClone(tools),
      system: [],
      messages: transcript(3),
    };
    expect(placeCacheBreakpoints(off, false)).toBe(0);
    expect(marks(off)).toBe(0);
  });
});

describe('cache breakpoints on the wire', () => {
  let model: ScriptedModel;
  beforeEach(async () => {
    model = await startScriptedModel();
  });
  afterEach(async () => {
    await model.stop();
  });

  const agentTurn = (turns: number): ModelMessage[] => [
    { role: 'user', content: [{ type: 'text', text: words(1500) }] },
    ...Array.from({ length: turns }, (_, turn): ModelMessage[] => [
      { role: 'assistant', content: [{ type: 'tool_use', id: `t${turn}`, name: 'search', input: {} }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', toolUseId: `t${turn}`, content: 'result', isError: false }],
      },
    ]).flat(),
  ];

  it('sends the transcript breakpoints, and none with MODEL_PROMPT_CACHE=off', async () => {
    model.expect({ respond: textResponse('ok') }, { respond: textResponse('ok') });
    const call = async (env: Record<string, string>) =>
      (
        await createModelProviders(
          parseModelConfig({
            ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
            ANTHROPIC_API_KEY: 'sk-ant-x',
            ...env,
          }),
        ).get('anthropic')
      ).call({ deployment: 'claude-opus-4-8', system: 'Be brief.', messages: agentTurn(2), maxTokens: 50 });
    await call({});
    await call({ MODEL_PROMPT_CACHE: 'off' });
    const [on, off] = model.requests.map((request) => request.body as { messages: MessageParam[] });
    expect(on?.messages.at(-1)?.content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 't1',
        content: 'result',
        is_error: false,
        cache_control: EPHEMERAL,
      },
    ]);
    expect((on?.messages[2]?.content as { cache_control?: unknown }[])[0]?.cache_control).toEqual(EPHEMERAL);
    expect(JSON.stringify(off)).not.toContain('cache_control');
    expect(() => parseModelConfig({ MODEL_PROMPT_CACHE: 'maybe' })).toThrow(/MODEL_PROMPT_CACHE/);
    model.assertDone();
  });
});
