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

  /** `own`: the host's own answer, an RFC 9457 problem; the others are the Durable API's, in its shapes. */
  const cases: {
    name: string;
    request: () => Promise<Response>;
    status: number;
    message: RegExp;
    own?: true;
  }[] = [
    {
      name: 'unknown route',
      request: () => fetch(`${base}/api/no/such/route`),
      status: 404,
      message: /no function|not found/i,
      own: true,
    },
    {
      name: 'wrong method on a function route',
      request: () => fetch(`${base}/api/orchestrators/sequence?code=${functionKey}`, { method: 'GET' }),
      status: 405,
      message: /GET is not allowed.*POST/,
      own: true,
    },
    {
      name: 'missing function key',
      request: () => fetch(`${base}/api/orchestrators/sequence`, { method: 'POST', body: '"x"' }),
      status: 401,
      message: /key/i,
      own: true,
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
      own: true,
    },
    {
      name: 'webhook API without the system key',
      request: () => fetch(`${base}/runtime/webhooks/durabletask/instances/`),
      status: 401,
      message: /key/i,
      own: true,
    },
    {
      name: 'malformed percent-encoding',
      request: () => fetch(`${base}/api/orchestrators/%E0%A4%A`),
      status: 400,
      message: /percent-encoding/,
      own: true,
    },
    {
      name: 'admin route with the function key',
      request: () => fetch(`${base}/admin/host/status?code=${functionKey}`),
      status: 404,
      message: /No function matches/,
      own: true,
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

  it.each(cases)('$name → $status with a message', async ({ request, status, message, own }) => {
    const response = await request();
    expect(response.status).toBe(status);
    const text = await response.text();
    expect(text).toMatch(message);
    if (own) {
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(JSON.parse(text)).toMatchObject({
        type: 'about:blank',
        status,
        detail: expect.any(String) as unknown,
      });
    }
  });

  it('stays up and keeps serving after every bad request', async () => {
    const status = await testHost.client.run('sequence', 'still-up');
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'STILL-UP-1-2' });
  });
});
