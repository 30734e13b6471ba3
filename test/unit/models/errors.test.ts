import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  classifyModelError,
  classifyStatus,
  CredentialError,
  InvalidOutputError,
  ModelResponseError,
  parseRetryAfter,
} from '../../../src/models/errors.js';
import { Secret } from '../../../src/models/secret.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const anthropicError = (status: number, headers: Record<string, string> = {}, message = 'boom') =>
  APIError.generate(
    status,
    { type: 'error', error: { type: 'x', message } },
    undefined,
    new Headers(headers),
  );

describe('classifyStatus', () => {
  it.each([
    [400, 'bad_request', false],
    [401, 'unauthorized', false],
    [403, 'forbidden', false],
    [404, 'not_found', false],
    [408, 'timeout', true],
    [409, 'server_error', true],
    [413, 'bad_request', false],
    [422, 'unprocessable', false],
    [429, 'rate_limited', true],
    [500, 'server_error', true],
    [502, 'server_error', true],
    [503, 'overloaded', true],
    [504, 'timeout', true],
    [529, 'overloaded', true],
  ] as const)('%i → %s (retryable %s)', (status, kind, retryable) => {
    expect(classifyStatus(status)).toEqual({ kind, retryable });
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms first, then seconds, then an HTTP date', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), NOW)).toBe(1500);
    expect(parseRetryAfter(new Headers({ 'retry-after': '7' }), NOW)).toBe(7000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), NOW)).toBe(500);
    expect(parseRetryAfter({ 'Retry-After': 'Mon, 23 Nov 2026 12:00:30 GMT' }, NOW)).toBe(30_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Mon, 23 Nov 2026 11:00:00 GMT' }), NOW)).toBe(0);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), NOW)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), NOW)).toBeUndefined();
  });
});

describe('classifyModelError', () => {
  it('classifies API errors from both SDKs with status and retry-after', () => {
    expect(classifyModelError(anthropicError(429, { 'retry-after': '3' }), { nowMs: NOW })).toEqual({
      kind: 'rate_limited',
      retryable: true,
      status: 429,
      retryAfterMs: 3000,
      message: expect.stringContaining('429') as string,
    });
    const openai = OpenAI.APIError.generate(
      529,
      { error: { message: 'overloaded' } },
      undefined,
      new Headers({ 'retry-after-ms': '250' }),
    );
    expect(classifyModelError(openai, { nowMs: NOW })).toMatchObject({
      kind: 'overloaded',
      retryable: true,
      status: 529,
      retryAfterMs: 250,
    });
    expect(classifyModelError(anthropicError(400), { nowMs: NOW })).toMatchObject({
      kind: 'bad_request',
      retryable: false,
    });
  });

  it('tells context-window and content-filter 400s from other bad requests', () => {
    const claude = (message: string, type = 'invalid_request_error') =>
      classifyModelError(
        APIError.generate(400, { type: 'error', error: { type, message } }, undefined, new Headers()),
        { nowMs: NOW },
      );
    const gpt = (code: string | null) =>
      classifyModelError(
        OpenAI.APIError.generate(
          400,
          { error: { message: 'nope', type: 'invalid_request_error', param: 'messages', code } },
          undefined,
          new Headers(),
        ),
        { nowMs: NOW },
      );
    const tooLong = { kind: 'context_window_exceeded', retryable: false, status: 400 };
    expect(claude('prompt is too long: 200251 tokens > 200000 maximum')).toMatchObject(tooLong);
    expect(
      claude('input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, decrease input'),
    ).toMatchObject(tooLong);
    expect(claude('prompt is too long', 'api_error')).toMatchObject({ kind: 'bad_request' });
    expect(claude('messages: at least one message is required')).toMatchObject({ kind: 'bad_request' });
    expect(gpt('context_length_exceeded')).toMatchObject(tooLong);
    expect(gpt('content_filter')).toMatchObject({ kind: 'refusal', retryable: false });
    expect(gpt(null)).toMatchObject({ kind: 'bad_request' });
  });

  it('honours x-should-retry', () => {
    expect(
      classifyModelError(anthropicError(500, { 'x-should-retry': 'false' }), { nowMs: NOW }).retryable,
    ).toBe(false);
    expect(
      classifyModelError(anthropicError(400, { 'x-should-retry': 'true' }), { nowMs: NOW }).retryable,
    ).toBe(true);
  });

  it('classifies timeouts, connection failures and malformed bodies as retryable', () => {
    expect(classifyModelError(new APIConnectionTimeoutError(), { nowMs: NOW })).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });
    expect(classifyModelError(new OpenAI.APIConnectionTimeoutError(), { nowMs: NOW })).toMatchObject({
      kind: 'timeout',
    });
    expect(
      classifyModelError(new APIConnectionError({ cause: new Error('ECONNREFUSED 127.0.0.1:1') }), {
        nowMs: NOW,
      }),
    ).toEqual({ kind: 'network', retryable: true, message: 'Connection error: ECONNREFUSED 127.0.0.1:1' });
    expect(classifyModelError(new SyntaxError('Unexpected end of JSON input'), { nowMs: NOW })).toMatchObject(
      {
        kind: 'server_error',
        retryable: true,
      },
    );
    expect(classifyModelError(new ModelResponseError('missing usage'), { nowMs: NOW })).toMatchObject({
      kind: 'server_error',
      retryable: true,
    });
  });

  it('classifies schema failures and credential failures as not retryable', () => {
    expect(classifyModelError(new InvalidOutputError('not JSON'), { nowMs: NOW })).toMatchObject({
      kind: 'invalid_output',
      retryable: false,
    });
    const wrapped = new OpenAI.OpenAIError('Failed to get token', {
      cause: new CredentialError('no managed identity'),
    });
    expect(classifyModelError(wrapped, { nowMs: NOW })).toEqual({
      kind: 'unauthorized',
      retryable: false,
      message: 'no managed identity',
    });
  });

  it('re-throws errors that are bugs, not model outcomes', () => {
    const bug = new TypeError('undefined is not a function');
    expect(() => classifyModelError(bug, { nowMs: NOW })).toThrow(bug);
  });

  it('never lets a key or token into the message', () => {
    const key = new Secret('my-foundry-key-1234567890');
    const error = anthropicError(
      401,
      {},
      'invalid x-api-key my-foundry-key-1234567890; Authorization: Bearer eyJhbGciOi.abc',
    );
    const { message } = classifyModelError(error, { nowMs: NOW, secrets: [key] });
    expect(message).not.toContain('my-foundry-key-1234567890');
    expect(message).not.toContain('eyJhbGciOi');
    expect(message).toContain('[redacted]');
    const leaked = OpenAI.APIError.generate(
      401,
      { error: { message: 'Incorrect API key provided: sk-proj-abcdefghijklmnop' } },
      undefined,
      new Headers(),
    );
    expect(classifyModelError(leaked, { nowMs: NOW }).message).toBe(
      '401 Incorrect API key provided: [redacted]',
    );
  });
});
