import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createCallbackActivity,
  RUN_ID_HEADER,
  SIGNATURE_HEADER,
  signCallback,
  TIMESTAMP_HEADER,
  verifyCallbackSignature,
} from '../../src/activities/callback.js';
import { Secret } from '../../src/models/secret.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { loopbackPolicy } from '../support/urlPolicies.js';

/**
 * Completion callbacks end to end: the app's functions (test/business/callback-app: registerApp with the
 * loopback URL policy override) on the local host, posting to a receiver on 127.0.0.1.
 */
const SECRET = 'callback-test-secret-0123456789abcdef0123';
const ticket = { subject: 'Refund', body: 'I was charged twice this month.' };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

let host: TestHost;
let receiver: Server;
let received: Received[] = [];
let answers: number[] = [];

async function startReceiver(): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ headers: request.headers, body, path: request.url ?? '' });
      response.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const receiverUrl = (suffix = '/hook?token=sekrit-token') =>
  `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${suffix}`;

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  process.env.CALLBACK_TEST_SECRET = SECRET;
  receiver = await startReceiver();
  host = await startTestHost({ appDir: path.resolve(__dirname, 'callback-app') });
});

afterAll(async () => {
  await host?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

beforeEach(() => {
  received = [];
  answers = [];
});

async function startTriage(headers: Record<string, string>, body: unknown = ticket): Promise<string> {
  const response = await fetch(`${host.host.url}/api/workflows/ticket-triage`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-functions-key': host.host.keys.functionKey,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const finishedOutput = (id: string, on: TestHost = host) =>
  waitFor(() => {
    const status = on.host.backend.getStatus(id, {});
    return status?.runtimeStatus === 'Completed' ? (status.output as Record<string, unknown>) : undefined;
  });

/** `GET /api/runs/{id}` as a business caller reads it. */
async function getRun(id: string, on: TestHost = host): Promise<Record<string, unknown>> {
  const response = await fetch(`${on.host.url}/api/runs/${id}`, {
    headers: { 'x-functions-key': on.host.keys.functionKey },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** The run's `callback` once it has reached `state`. */
async function callbackOnce(id: string, state: string, on: TestHost = host, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const callback = (await getRun(id, on)).callback as Record<string, unknown> | null;
    if (callback?.state === state) return callback;
    if (Date.now() > deadline)
      throw new Error(`callback of ${id} is ${JSON.stringify(callback)}, not ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('completion callback on the local host', () => {
  it('POSTs the result signed with HMAC-SHA256, retried with backoff after a 500', async () => {
    answers = [500, 200];
    const id = await startTriage({ 'callback-url': receiverUrl() });
    const output = await finishedOutput(id);
    // The run's result no longer waits for, nor carries, its callback.
    expect(output).not.toHaveProperty('callback');
    expect(await callbackOnce(id, 'delivered')).toMatchObject({
      state: 'delivered',
      attempts: 2,
      status: 200,
    });
    expect(received).toHaveLength(2);
    for (const delivery of received) {
      expect(delivery.path).toBe('/hook?token=sekrit-token');
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers[RUN_ID_HEADER]).toBe(id);
      const signed = {
        timestamp: delivery.headers[TIMESTAMP_HEADER] as string,
        signature: delivery.headers[SIGNATURE_HEADER] as string,
        body: delivery.body,
      };
      expect(signed.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifyCallbackSignature(SECRET, signed)).toBe(true);
      expect(verifyCallbackSignature('another-secret-0123456789abcdef0123', signed)).toBe(false);
      expect(verifyCallbackSignature(SECRET, { ...signed, body: `${signed.body} ` })).toBe(false);
    }
    const body = JSON.parse(received[1]?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      id,
      workflow: 'ticket-triage',
      version: '1.0.0',
      status: 'Completed',
      outcome: 'completed',
      error: null,
      output: { triage: { category: expect.any(String) as unknown } },
    });
    expect(body.ledger).toMatchObject({ totals: { costUsd: expect.any(Number) as unknown } });
    // The retry waited for the durable backoff (first retry after 2 s).
    const [first, second] = received.map((r) => Number(r.headers[TIMESTAMP_HEADER]));
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('takes the URL from the body too, and records a 4xx as not delivered without retrying', async () => {
    answers = [410];
    const id = await startTriage({}, { ...ticket, callbackUrl: receiverUrl('/gone') });
    await finishedOutput(id);
    const callback = await callbackOnce(id, 'failed');
    expect(callback).toMatchObject({ state: 'failed', attempts: 1, status: 410 });
    expect(String(callback.lastError)).toContain('HTTP 410');
    expect(String(callback.lastError)).not.toContain('/gone');
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]?.body ?? '{}')).toMatchObject({ id, outcome: 'completed' });
  });
});

describe('an unreachable callback URL', () => {
  // Durable timers jump ahead when nothing else runs, so the 8 attempts (about 4 minutes of backoff) pass quickly.
  let quick: TestHost;
  beforeAll(async () => {
    quick = await startTestHost({ appDir: path.resolve(__dirname, 'callback-app'), skipIdleTime: true });
  });
  afterAll(async () => {
    await quick?.stop();
  });

  it('never holds the run: ?wait answers the finished run, and the callback later shows failed', async () => {
    const response = await fetch(`${quick.host.url}/api/workflows/ticket-triage?wait=30`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-functions-key': quick.host.keys.functionKey,
        'callback-url': 'http://127.0.0.1:1/hook?token=sekrit-token',
      },
      body: JSON.stringify(ticket),
    });
    const run = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(run)).toBe(200);
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed' });
    // With idle time skipped, the callback's backoff may already have run out by the time ?wait answers.
    expect(['waiting', 'pending', 'failed']).toContain((run.callback as { state: string }).state);
    const callback = await callbackOnce(String(run.id), 'failed', quick);
    expect(callback).toMatchObject({ state: 'failed', attempts: 8 });
    expect(String(callback.lastError)).toMatch(
      /^gave up after 8 attempts: callback to http:\/\/127\.0\.0\.1:1 failed: ECONNREFUSED/,
    );
    expect(String(callback.lastError)).not.toContain('sekrit');
    expect(quick.host.backend.getStatus(`${String(run.id)}:callback`, {})?.runtimeStatus).toBe('Completed');
  });
});

describe('sendCallback activity', () => {
  const secret = new Secret(SECRET);
  const input = (url: string) => ({ url, runId: 'run-1', body: { id: 'run-1', outcome: 'completed' } });

  it("refuses loopback under the app's policy, and private and metadata addresses under a loopback one", async () => {
    const strict = createCallbackActivity({ signingSecret: () => secret });
    expect(await strict(input(receiverUrl()))).toMatchObject({
      delivered: false,
      reason: expect.stringContaining('loopback') as unknown,
    });
    const lenient = createCallbackActivity({ signingSecret: () => secret, urlPolicy: loopbackPolicy() });
    expect(await lenient(input('http://10.1.2.3/hook'))).toMatchObject({
      delivered: false,
      reason: expect.stringContaining('private') as unknown,
    });
    expect(await lenient(input('http://169.254.169.254/'))).toMatchObject({ delivered: false });
    expect(received).toEqual([]);
  });

  it('throws (so the durable retry backs off) on 5xx, 429 and network errors, naming the origin only', async () => {
    const send = createCallbackActivity({ signingSecret: () => secret, urlPolicy: loopbackPolicy() });
    answers = [503];
    await expect(send(input(receiverUrl()))).rejects.toThrow(/answered HTTP 503; retrying/);
    answers = [429];
    await expect(send(input(receiverUrl()))).rejects.toThrow(/HTTP 429/);
    const error = await send(input('http://127.0.0.1:1/hook?token=sekrit-token')).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^callback to http:\/\/127\.0\.0\.1:1 failed: ECONNREFUSED/);
    expect((error as Error).message).not.toContain('sekrit');
  });

  it('never sends unsigned, and signs "<timestamp>.<body>"', async () => {
    const unsigned = createCallbackActivity({ signingSecret: () => undefined, urlPolicy: loopbackPolicy() });
    expect(await unsigned(input(receiverUrl()))).toMatchObject({
      delivered: false,
      reason: expect.stringContaining('CALLBACK_SIGNING_SECRET') as unknown,
    });
    expect(received).toEqual([]);
    const now = 1_800_000_000_000;
    const send = createCallbackActivity({
      signingSecret: () => secret,
      urlPolicy: loopbackPolicy(),
      now: () => now,
    });
    expect(await send(input(receiverUrl()))).toEqual({ delivered: true, status: 200 });
    const [delivery] = received;
    expect(delivery?.headers[TIMESTAMP_HEADER]).toBe('1800000000');
    expect(delivery?.headers[SIGNATURE_HEADER]).toBe(
      signCallback(SECRET, '1800000000', delivery?.body ?? ''),
    );
    expect(
      verifyCallbackSignature(
        SECRET,
        {
          timestamp: '1800000000',
          signature: delivery?.headers[SIGNATURE_HEADER] as string,
          body: delivery?.body ?? '',
        },
        { now },
      ),
    ).toBe(true);
    // Too old to accept: a captured request cannot be replayed later.
    expect(
      verifyCallbackSignature(
        SECRET,
        {
          timestamp: '1800000000',
          signature: delivery?.headers[SIGNATURE_HEADER] as string,
          body: delivery?.body ?? '',
        },
        { now: now + 3_600_000 },
      ),
    ).toBe(false);
  });
});
