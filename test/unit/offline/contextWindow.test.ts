import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModelLimits } from '../../../src/models/modelLimits.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';

let server: OfflineModelServer;
beforeAll(async () => {
  server = await startOfflineModelServer();
});
afterAll(async () => {
  await server.stop();
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A user message whose request estimates to about `tokens` input tokens (chars / 4). */
const userText = (tokens: number) => 'x'.repeat(tokens * 4);

describe('offline model context window', () => {
  it('knows the windows of the default deployments, dated ids included', () => {
    expect(findModelLimits('claude-haiku-4-5-20251001')).toEqual({
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
    });
    expect(findModelLimits('no-such-model', 'gpt-5.4')?.contextWindow).toBe(1_050_000);
    expect(findModelLimits('my-deployment')).toBeUndefined();
  });

  it("answers a Claude prompt over the window with the API's 400 body", async () => {
    const result = await post('/v1/messages', {
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: userText(200_100) }],
    });
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(/^prompt is too long: 2001\d\d tokens > 200000 maximum$/) as string,
      },
    });
  });

  it('refuses a Claude request whose input fits but input + max_tokens does not', async () => {
    const result = await post('/v1/messages', {
      model: 'claude-haiku-4-5',
      max_tokens: 64_000,
      messages: [{ role: 'user', content: userText(190_000) }],
    });
    expect(result.status).toBe(400);
    expect((result.body.error as { message: string }).message).toMatch(
      /^input length and `max_tokens` exceed context limit: 1900\d\d \+ 64000 > 200000, decrease input length or `max_tokens` and try again$/,
    );
    const fits = await post('/v1/messages', {
      model: 'claude-haiku-4-5',
      max_tokens: 1_000,
      messages: [{ role: 'user', content: userText(190_000) }],
    });
    expect(fits.status).toBe(200);
  });

  it('answers an OpenAI prompt over the window with code context_length_exceeded', async () => {
    const result = await post('/openai/v1/chat/completions', {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: userText(128_100) }],
    });
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      error: {
        message: expect.stringMatching(
          /^This model's maximum context length is 128000 tokens\. However, your messages resulted in 1281\d\d tokens\. Please reduce the length of the messages\.$/,
        ) as string,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
  });

  it('does not check a model it has no window for', async () => {
    const result = await post('/v1/chat/completions', {
      model: 'my-private-model',
      messages: [{ role: 'user', content: userText(130_000) }],
    });
    expect(result.status).toBe(200);
  });
});
