import { request as rawRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type DevHostServer } from '../../devhost/http/server.js';
import { FakeBackend } from '../support/fakeBackend.js';
import { FakeInvoker } from './httpFakeInvoker.js';

const keys = {
  masterKey: 'MASTER',
  functionKeys: { default: 'FUNC' },
  systemKeys: { durabletask_extension: 'SYS' },
};

describe('devhost HTTP server', () => {
  let server: DevHostServer;
  const logs: string[] = [];
  const invoker = new FakeInvoker([
    {
      name: 'echo',
      route: 'echo/{id:int?}',
      methods: ['POST', 'PUT'],
      handler: async (req) => ({
        status: 201,
        headers: { 'x-echo': 'yes' },
        jsonBody: {
          method: req.method,
          url: req.url,
          params: req.params,
          query: Object.fromEntries(req.query),
          contentType: req.headers.get('content-type'),
          text: await req.text(),
        },
        cookies: [{ name: 'session', value: 'abc', path: '/', httpOnly: true }],
      }),
    },
    {
      name: 'binary',
      methods: ['POST'],
      handler: async (req) => ({ body: new Uint8Array(await req.arrayBuffer()) }),
    },
    {
      name: 'parse',
      methods: ['POST'],
      handler: async (req) => {
        try {
          return { jsonBody: { parsed: await req.json() } };
        } catch (error) {
          return { status: 400, jsonBody: { error: (error as Error).message } };
        }
      },
    },
    { name: 'latest', route: 'runs/latest', methods: ['GET'], handler: () => ({ body: 'literal' }) },
    {
      name: 'byId',
      route: 'runs/{id}',
      methods: ['GET', 'DELETE'],
      handler: (req) => ({ body: `param ${req.params.id}` }),
    },
    { name: 'secret', authLevel: 'function', methods: ['GET'], handler: () => ({ body: 'ok' }) },
    { name: 'admin', authLevel: 'admin', methods: ['GET'], handler: () => ({ body: 'root' }) },
    {
      name: 'boom',
      methods: ['GET'],
      handler: () => {
        throw new Error('kaput');
      },
    },
    { name: 'nothing', methods: ['GET'], handler: () => undefined },
    {
      name: 'slow',
      methods: ['POST'],
      handler: async (req) => {
        const text = await req.text();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { body: `slow ${text}` };
      },
    },
    { name: 'badStatus', methods: ['GET'], handler: () => ({ status: 42 }) },
  ]);

  beforeAll(async () => {
    server = await startHttpServer({
      port: 0,
      routePrefix: 'api',
      invoker,
      backend: new FakeBackend(['doubler']),
      keys,
      log: (line) => logs.push(line),
      maxRequestBodyBytes: 1024,
    });
  });
  afterAll(() => server.close());

  const url = (p: string) => `${server.url}${p}`;

  it('reports the port it bound and lists routes like func start', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.routes.find((r) => r.name === 'echo')).toEqual({
      name: 'echo',
      methods: ['POST', 'PUT'],
      url: `${server.url}/api/echo/{id:int?}`,
      authLevel: 'anonymous',
    });
    expect(server.routes.find((r) => r.name === 'binary')?.url).toBe(`${server.url}/api/binary`);
  });

  it('passes method, url, params, query, headers and body through the library HttpRequest', async () => {
    const res = await fetch(url('/API/Echo/7?a=1&a=2&b=x%20y'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'héllo',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly');
    expect(await res.json()).toEqual({
      method: 'POST',
      url: url('/API/Echo/7?a=1&a=2&b=x%20y'),
      params: { id: '7' },
      query: { a: '1,2', b: 'x y' },
      contentType: 'text/plain',
      text: 'héllo',
    });
    expect(logs.some((l) => /^POST \/API\/Echo\/7 201 [\d.]+ms \(echo\)$/.test(l))).toBe(true);
  });

  it('keeps binary bodies byte-exact', async () => {
    const bytes = new Uint8Array([0, 255, 1, 128, 13, 10]);
    const res = await fetch(url('/api/binary'), { method: 'POST', body: bytes });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('leaves invalid JSON to the app', async () => {
    const res = await fetch(url('/api/parse'), { method: 'POST', body: '{oops' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/JSON/);
  });

  it('prefers literal segments and treats the method as a constraint', async () => {
    expect(await (await fetch(url('/api/runs/latest'))).text()).toBe('literal');
    expect(await (await fetch(url('/api/runs/other'))).text()).toBe('param other');
    expect(await (await fetch(url('/api/runs/latest'), { method: 'DELETE' })).text()).toBe('param latest');
  });

  it('answers 405 with Allow and 404 for unknown routes', async () => {
    const wrong = await fetch(url('/api/echo'), { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, PUT');
    expect(wrong.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await wrong.json()) as { detail: string }).detail).toMatch(/GET is not allowed/);
    const missing = await fetch(url('/api/nope'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await missing.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No function matches GET /api/nope.',
    });
    expect((await fetch(url('/echo'), { method: 'POST' })).status).toBe(404);
    expect((await fetch(url('/api/echo/notanint'), { method: 'POST' })).status).toBe(404);
  });

  it('enforces function and admin keys', async () => {
    expect((await fetch(url('/api/secret'))).status).toBe(401);
    expect((await fetch(url('/api/secret?code=WRONG'))).status).toBe(401);
    expect((await fetch(url('/api/secret?code=FUNC'))).status).toBe(200);
    expect((await fetch(url('/api/secret'), { headers: { 'x-functions-key': 'MASTER' } })).status).toBe(200);
    const denied = await fetch(url('/api/admin?code=FUNC'));
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: expect.stringMatching(/master key/) as unknown,
    });
    expect((await fetch(url('/api/admin?code=MASTER'))).status).toBe(200);
  });

  it('turns handler errors into a 500 problem and keeps serving', async () => {
    const res = await fetch(url('/api/boom'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: "Function 'boom' failed: kaput",
    });
    expect(logs.some((l) => l.includes("Function 'boom' failed: Error: kaput"))).toBe(true);
    expect((await fetch(url('/api/nothing'))).status).toBe(204);
    expect((await fetch(url('/api/badStatus'))).status).toBe(500);
  });

  it('rejects oversized bodies with 413', async () => {
    const res = await fetch(url('/api/binary'), { method: 'POST', body: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      title: 'Payload Too Large',
      detail: expect.any(String) as unknown,
    });
  });

  it('answers a client that half-closes after sending its request', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        // The client's FIN arrives while the function is still running.
        socket.end('POST /api/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
      });
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1.1 200 OK/);
    expect(answer).toMatch(/slow hello$/);
  });

  it('names the --port option when the port is taken', async () => {
    await expect(
      startHttpServer({
        port: server.port,
        routePrefix: 'api',
        invoker,
        backend: new FakeBackend([]),
        keys,
        log: () => {},
        setWebsiteHostname: false,
      }),
    ).rejects.toThrow(
      `Port ${server.port} on 127.0.0.1 is already in use (another devhost or func start?). Stop it, or choose another port: --port <n> (npm start -- --port <n>; 'port' in the API; 0 picks a free one).`,
    );
  });

  it('survives chunked oversize bodies, aborted requests, bad encoding and huge headers', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = rawRequest(url('/api/binary'), { method: 'POST' }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.write('y'.repeat(800));
      req.end('y'.repeat(800));
    });
    expect(status).toBe(413);

    await new Promise<void>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write('POST /api/binary HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });

    const badEncoding = await fetch(url('/api/runs/%E0%A4%A'));
    expect(badEncoding.status).toBe(400);

    const huge = await fetch(url('/api/nothing'), { headers: { 'x-big': 'z'.repeat(64 * 1024) } }).catch(
      () => undefined,
    );
    if (huge) {
      expect(huge.status).toBe(431);
      expect(huge.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(await huge.json()).toMatchObject({ status: 431, detail: 'Request headers too large.' });
    }

    const garbage = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect(garbage).toContain('"title":"Bad Request","status":400,"detail":"Malformed HTTP request."');

    expect((await fetch(url('/api/runs/latest'))).status).toBe(200);
  });

  it('guards the Durable webhook root with the system key and leaves the rpc root open', async () => {
    const denied = await fetch(url('/runtime/webhooks/durabletask/instances/'));
    expect(denied.status).toBe(401);
    expect((await fetch(url('/runtime/webhooks/durabletask/instances/?code=FUNC'))).status).toBe(401);
    expect((await fetch(url('/runtime/webhooks/durabletask/instances/?code=SYS'))).status).toBe(200);
    expect((await fetch(url('/runtime/webhooks/durabletask/instances/?code=MASTER'))).status).toBe(200);
    expect((await fetch(url('/durabletask/instances/'))).status).toBe(200);
  });
});
