import { afterEach, describe, expect, it } from 'vitest';
import {
  errorResponse,
  rawResponse,
  startScriptedModel,
  textResponse,
  type ScriptedModel,
  type ScriptedModelOptions,
} from '../../support/scriptedModel.js';

const anthropicRequest = (text: string) => ({
  model: 'claude-haiku-4-5',
  max_tokens: 20,
  messages: [{ role: 'user', content: text }],
});

let model: ScriptedModel | undefined;
afterEach(async () => {
  await model?.stop();
  model = undefined;
});

async function start(options: ScriptedModelOptions): Promise<ScriptedModel> {
  model = await startScriptedModel(options);
  return model;
}

async function send(server: ScriptedModel, text: string, path = '/v1/messages') {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'scripted-secret-key-0000' },
    body: JSON.stringify(anthropicRequest(text)),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe('scripted model', () => {
  it('answers steps in order and records what it received, without secrets', async () => {
    const server = await start({
      steps: [
        { name: 'first', match: { lastUserText: 'one' }, respond: textResponse('1') },
        { respond: textResponse('2') },
      ],
    });
    expect(JSON.parse((await send(server, 'one')).body)).toMatchObject({
      content: [{ type: 'text', text: '1' }],
    });
    expect(JSON.parse((await send(server, 'two')).body)).toMatchObject({
      content: [{ type: 'text', text: '2' }],
    });
    server.assertDone();
    expect(server.requests.map((r) => r.view?.lastUserText)).toEqual(['one', 'two']);
    expect(server.requests[0]?.headers['x-api-key']).toBe('[redacted]');
    expect(JSON.stringify(server.requests)).not.toContain('scripted-secret-key-0000');
  });

  it('fails unexpected calls with a 500 and remembers them for assertDone', async () => {
    const server = await start({
      steps: [{ name: 'plan', match: { lastUserText: /plan/ }, respond: textResponse('ok') }],
    });
    const response = await send(server, 'something else');
    expect(response.status).toBe(500);
    expect(response.body).toContain('does not match the next step plan');
    expect(() => server.assertDone()).toThrow(
      /does not match the next step plan[\s\S]*step plan was never called/,
    );
  });

  it('fails calls past the end of the script', async () => {
    const server = await start({ steps: [] });
    expect((await send(server, 'hello')).status).toBe(500);
    expect(() => server.assertDone()).toThrow('the script has no steps left');
  });

  it('matches any pending step when unordered (fan-out)', async () => {
    const server = await start({
      ordered: false,
      steps: [
        { match: { lastUserText: 'a' }, respond: textResponse('A') },
        { match: { lastUserText: 'b' }, respond: textResponse('B') },
      ],
    });
    const [b, a] = await Promise.all([send(server, 'b'), send(server, 'a')]);
    expect(JSON.parse(b.body)).toMatchObject({ content: [{ text: 'B' }] });
    expect(JSON.parse(a.body)).toMatchObject({ content: [{ text: 'A' }] });
    server.assertDone();
  });

  it('renders errors in the wire shape of the request protocol, with retry-after', async () => {
    const server = await start({ steps: [{ respond: errorResponse(429, { retryAfterSeconds: 3 }) }] });
    const response = await send(server, 'x');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(JSON.parse(response.body)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('injects faults every n-th call and by seeded probability, reproducibly', async () => {
    const statuses = async (options: ScriptedModelOptions) => {
      const server = await start(options);
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) seen.push((await send(server, `call ${i}`)).status);
      await server.stop();
      model = undefined;
      return seen;
    };
    const everyThird = await statuses({
      unexpected: 'offline',
      faults: [{ fault: 'overloaded', everyNth: 3 }],
    });
    expect(everyThird.map((status, i) => (status === 529) === ((i + 1) % 3 === 0))).toEqual(
      Array(20).fill(true),
    );
    const chance = {
      unexpected: 'offline',
      faults: [{ fault: 'server_error', probability: 0.3, seed: 9 }],
    } as const;
    const first = await statuses(chance);
    expect(first.filter((status) => status === 500).length).toBeGreaterThan(0);
    expect(await statuses(chance)).toEqual(first);
  });

  it('sends raw replies as given', async () => {
    const server = await start({
      steps: [
        { respond: rawResponse({ status: 418, headers: { 'x-teapot': 'yes' }, body: 'short and stout' }) },
      ],
    });
    const response = await send(server, 'x');
    expect(response).toMatchObject({ status: 418, body: 'short and stout' });
    expect(response.headers.get('x-teapot')).toBe('yes');
  });
});
