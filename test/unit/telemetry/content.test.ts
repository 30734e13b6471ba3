import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/models/secret.js';
import type { ModelMessage } from '../../../src/shared/modelTypes.js';
import {
  captureMessageContent,
  finishReason,
  inputMessages,
  outputMessages,
  redactedJson,
} from '../../../src/telemetry/content.js';

describe('message content for spans', () => {
  it('is captured only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is true', () => {
    expect(captureMessageContent({})).toBe(false);
    expect(captureMessageContent({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false' })).toBe(
      false,
    );
    expect(captureMessageContent({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: ' True ' })).toBe(
      true,
    );
  });

  it('shapes the transcript as gen_ai.input.messages parts, tool-result turns as role tool', () => {
    const messages: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Find tides' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'search first', signature: 'sig' },
          { type: 'redacted_thinking', data: 'opaque' },
          { type: 'tool_use', id: 'toolu_1', name: 'web_search', input: { query: 'tides' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', toolUseId: 'toolu_1', content: 'High at 6', isError: false }],
      },
    ];
    expect(inputMessages(messages)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Find tides' }] },
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'search first' },
          { type: 'tool_call', id: 'toolu_1', name: 'web_search', arguments: { query: 'tides' } },
        ],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'toolu_1', response: 'High at 6' }] },
    ]);
    expect(
      outputMessages({ role: 'assistant', content: [{ type: 'text', text: 'Done' }] }, 'max_tokens'),
    ).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Done' }], finish_reason: 'length' }]);
  });

  it('maps stop reasons to the conventions’ finish reasons', () => {
    expect(
      ['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'content_filter', 'pause_turn'].map(
        (stop) => finishReason(stop as Parameters<typeof finishReason>[0]),
      ),
    ).toEqual(['stop', 'stop', 'length', 'tool_call', 'content_filter', 'content_filter', 'pause_turn']);
  });

  it('redacts secret-named keys, secret-shaped text and the provider’s own keys', () => {
    const text = redactedJson(
      {
        headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==', apiKey: 'k-123456' },
        note: 'use Bearer abcdefghijklmnop and sk-abcdefghijk1234 or AccountKey=abc123==;',
        echo: 'the deployment key is provider-key-0000',
      },
      [new Secret('provider-key-0000')],
    );
    for (const leaked of [
      'dXNlcjpwYXNzd29yZA',
      'k-123456',
      'abcdefghijklmnop',
      'sk-abcdefghijk1234',
      'abc123==',
      'provider-key-0000',
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(JSON.parse(text)).toMatchObject({
      headers: { authorization: '[redacted]', apiKey: '[redacted]' },
    });
  });
});
