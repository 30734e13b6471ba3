import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

/** Bad requests against the whole host (real app, real engine): the right 4xx, and the host stays up. */
describe('devhost bad input', () => {
  let testHost: TestHost;
  let base: string;
  let systemKey: string;
  let functionKey: string;

  beforeAll(async () => {
    testHost = await startTestHost({ appDir: fixtureApp('conformance-app') });
    base = testHost.host.url;
    systemKey = testHost.host.keys.systemKey;
    functionKey = testHost.host.keys.functionKey;
  });
  afterAll(async () => testHost.stop());

  const webhook = (path: string) => `${base}/runtime/webhooks/durabletask/${path}?code=${systemKey}`;

  const cases: { name: string; request: () => Promise<Response>; status: number; message: RegExp }[] = [
    {
      name: 'unknown route',
      request: () => fetch(`${base}/api/no/such/route`),
      status: 404,
      message: /no function|not found/i,
    },
    {
      name: 'wrong method on a function route',
      request: () => fetch(`${base}/api/orchestrators/sequence?code=${functionKey}`, { method: 'GET' }),
      status: 405,
      message: /GET is not allowed.*POST/,
    },
    {
      name: 'missing function key',
      request: () => fetch(`${base}/api/orchestrators/sequence`, { method: 'POST', body: '"x"' }),
      status: 401,
      message: /key/i,
    },
    {
      name: 'wrong function key',
      request: () =>
        fetch(`${base}/api/orchestrators/sequence`, {
          method: 'POST',
          headers: { 'x-functions-key': 'not-the-key' },
          body: '"x"',
        }),
      status: 401,
      message: /key/i,
    },
    {
      name: 'webhook API without the system key',
      request: () => fetch(`${base}/runtime/webhooks/durabletask/instances/`),
      status: 401,
      message: /key/i,
    },
    {
      name: 'illegal instance id',
      request: () => fetch(webhook('orchestrators/sequence/bad%23id'), { method: 'POST', body: '"x"' }),
      status: 400,
      message: /instance id/i,
    },
    {
      name: 'malformed JSON when starting through the Durable API',
      request: () => fetch(webhook('orchestrators/sequence'), { method: 'POST', body: '{"unterminated' }),
      status: 400,
      message: /json/i,
    },
    {
      name: 'unknown orchestrator',
      request: () => fetch(webhook('orchestrators/noSuchOrchestrator'), { method: 'POST', body: '' }),
      status: 404,
      message: /noSuchOrchestrator/,
    },
    {
      name: 'bad runtimeStatus filter',
      request: () => fetch(`${webhook('instances/')}&runtimeStatus=Sleeping`),
      status: 400,
      message: /runtimeStatus/,
    },
  ];

  it.each(cases)('$name → $status with a message', async ({ request, status, message }) => {
    const response = await request();
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(message);
  });

  it('stays up and keeps serving after every bad request', async () => {
    const status = await testHost.client.run('sequence', 'still-up');
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'STILL-UP-1-2' });
  });
});
