import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDurableClientPayload } from '../../devhost/durable/bindingPayload.js';
import { durableClientHttp, useDurableClientHttp } from '../../src/functions/durableClientTransport.js';
import { sharedDurableClients } from '../../src/functions/durableClients.js';

const binding = df.input.durableClient();
const payload = (systemKey: string) =>
  buildDurableClientPayload({ origin: 'http://127.0.0.1:7071', taskHubName: 'Hub', systemKey });

/** An invocation context as the library builds it, with the durable client binding's value set. */
function invocation(value: unknown): InvocationContext {
  const context = new InvocationContext({ options: { extraInputs: [binding] } });
  context.extraInputs.set(binding, value);
  return context;
}

const hostname = process.env.WEBSITE_HOSTNAME;
afterEach(() => {
  if (hostname === undefined) delete process.env.WEBSITE_HOSTNAME;
  else process.env.WEBSITE_HOSTNAME = hostname;
});

describe('sharedDurableClients', () => {
  it('hands every invocation with the same binding the same client, and a new one when the binding changes', () => {
    process.env.WEBSITE_HOSTNAME = '127.0.0.1:7071';
    let built = 0;
    const getClient = sharedDurableClients((context) => {
      built += 1;
      return df.getClient(context);
    });
    const first = getClient(invocation(payload('key-1')));
    expect(getClient(invocation(payload('key-1')))).toBe(first);
    expect(built).toBe(1);
    // Rotated keys: a new client, whose links carry the new key.
    const rotated = getClient(invocation(payload('key-2')));
    expect(rotated).not.toBe(first);
    expect(rotated.createHttpManagementPayload('run-1').statusQueryGetUri).toContain('code=key-2');
    // The local-host link rewrite depends on WEBSITE_HOSTNAME, so a change there makes a new client too.
    process.env.WEBSITE_HOSTNAME = '0.0.0.0';
    const local = getClient(invocation(payload('key-2')));
    expect(local).not.toBe(rotated);
    expect(local.createHttpManagementPayload('run-1').statusQueryGetUri).toMatch(
      /^http:\/\/localhost:7071\//,
    );
    expect(built).toBe(3);
  });

  it('a function without a durable client binding gets the library error', () => {
    const getClient = sharedDurableClients(df.getClient);
    expect(() => getClient(new InvocationContext({ options: { extraInputs: [] } }))).toThrow(
      /Could not find a registered durable client input binding/,
    );
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback stand-in for the extension's HTTP API: records each request, answers from `answer`. */
async function extensionStandIn(
  answer: (seen: Seen) => { status: number; body?: unknown; headers?: Record<string, string> },
) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const status = (instanceId: string, runtimeStatus: string) => ({
  name: 'orch',
  instanceId,
  runtimeStatus,
  createdTime: '2026-11-23T10:00:00Z',
  lastUpdatedTime: '2026-11-23T10:00:01Z',
  input: null,
  output: null,
  customStatus: null,
});

/** The extension's answers the stand-in gives, by route, whatever the order of the calls. */
function extensionAnswers({ method, url, headers }: Seen) {
  const path = url.split('?')[0] ?? '';
  const started = /\/orchestrators\/orch\/([^/]+)$/.exec(path);
  if (method === 'POST' && started) return { status: 202, body: { id: started[1] } };
  if (method === 'GET' && path.endsWith('/instances/run-1'))
    return { status: 200, body: status('run-1', 'Running') };
  if (method === 'GET' && path.endsWith('/instances/') && headers['x-ms-continuation-token'] === undefined)
    return {
      status: 200,
      body: [status('a', 'Completed')],
      headers: { 'x-ms-continuation-token': 'page-2' },
    };
  if (method === 'GET' && path.endsWith('/instances/'))
    return { status: 200, body: [status('b', 'Completed')] };
  if (method === 'POST' && /\/raiseEvent\/approval$|\/terminate$/.test(path)) return { status: 202 };
  if (method === 'DELETE' && path.endsWith('/instances/run-1'))
    return { status: 200, body: { instancesDeleted: 1 } };
  return { status: 500, body: { message: `unexpected ${method} ${url}` } };
}

/** The same calls, through one client: what each returned. */
async function exercise(client: df.DurableClient) {
  return {
    started: await client.startNew('orch', { instanceId: 'run-1', input: { ticket: 'Order 7' } }),
    startedWithoutInput: await client.startNew('orch', { instanceId: 'run-2' }),
    status: (await client.getStatus('run-1')).runtimeStatus,
    listed: (await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] })).map(
      (run) => run.instanceId,
    ),
    raised: await client.raiseEvent('run-1', 'approval', { approved: true }),
    terminated: await client.terminate('run-1', 'operator stop'),
    purged: (await client.purgeInstanceHistory('run-1')).instancesDeleted,
  };
}

/** What the extension can tell apart in a request (the transport's own headers aside). */
const asReceived = ({ method, url, headers, body }: Seen) => ({
  method,
  url,
  body,
  accept: headers.accept,
  contentType: body === '' ? undefined : headers['content-type'],
  continuation: headers['x-ms-continuation-token'],
});

describe('durableClientHttp', () => {
  it("sends the requests the library's axios sends, and the client reads the answers the same", async () => {
    const extension = await extensionStandIn(extensionAnswers);
    try {
      const payload = buildDurableClientPayload({
        origin: extension.origin,
        taskHubName: 'Hub',
        systemKey: 'sys-key',
      });
      const withAxios = await exercise(df.getClient(invocation(payload)));
      const viaAxios = extension.seen.splice(0);
      const withPlainHttp = await exercise(sharedDurableClients(df.getClient)(invocation(payload)));
      const viaPlainHttp = extension.seen.splice(0);

      expect(withPlainHttp).toEqual(withAxios);
      expect(withPlainHttp).toEqual({
        started: 'run-1',
        startedWithoutInput: 'run-2',
        status: 'Running',
        listed: ['a', 'b'],
        raised: undefined,
        terminated: undefined,
        purged: 1,
      });
      expect(viaPlainHttp.map(asReceived)).toEqual(viaAxios.map(asReceived));
      expect(viaPlainHttp).toHaveLength(8);
      expect(viaPlainHttp[0]?.body).toBe('{"ticket":"Order 7"}');
      expect(viaPlainHttp[0]?.headers['content-length']).toBe('20');
      // axios sends `User-Agent: axios/<version>`; the plain requests send none, so these came through them.
      for (const request of viaAxios) expect(request.headers['user-agent']).toMatch(/^axios\//);
      for (const request of viaPlainHttp) expect(request.headers['user-agent']).toBeUndefined();
    } finally {
      await extension.close();
    }
  });

  it("answers other than success reach the library's own errors, and a dead endpoint's error names no key", async () => {
    const extension = await extensionStandIn(() => ({ status: 500, body: { message: 'store unavailable' } }));
    const payload = buildDurableClientPayload({
      origin: extension.origin,
      taskHubName: 'Hub',
      systemKey: 'sys-key',
    });
    const client = sharedDurableClients(df.getClient)(invocation(payload));
    try {
      await expect(client.startNew('orch', { instanceId: 'run-1' })).rejects.toThrow(
        /unexpected status code: 500\. Details: \{"message":"store unavailable"\}/,
      );
    } finally {
      await extension.close();
    }
    const refused = client.getStatus('run-1');
    await expect(refused).rejects.toThrow(
      `The Durable Functions extension at ${extension.origin} did not answer: connect ECONNREFUSED`,
    );
    await expect(refused).rejects.not.toThrow(/sys-key/);
  });

  it('sends a request once more on a new connection when the host reset a kept-alive one', async () => {
    let requests = 0;
    const socketsUsed = new Map<Socket, number>();
    const server = createServer((req, res) => {
      requests += 1;
      const uses = (socketsUsed.get(req.socket) ?? 0) + 1;
      socketsUsed.set(req.socket, uses);
      // The second request on a kept-alive connection meets a reset, as when the host closed it idle.
      if (uses === 2 || req.url?.includes('fresh-reset')) return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = (path: string) => durableClientHttp.get(`${origin}${path}`);
    try {
      expect((await get('/first')).status).toBe(200);
      expect((await get('/second')).data).toEqual({ ok: true, url: '/second' });
      expect(requests).toBe(3);
      expect(socketsUsed.size).toBe(2);
      // Once more only: a reset on the new connection as well reaches the caller.
      await expect(get('/fresh-reset')).rejects.toThrow(/did not answer: socket hang up/);
      expect(requests).toBe(5);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is installed under clients of the pinned durable-functions, and a client without the field is left alone', () => {
    const client = df.getClient(invocation(payload('key-1')));
    expect(useDurableClientHttp(client)).toBe(true);
    expect(useDurableClientHttp({} as df.DurableClient)).toBe(false);
  });
});
