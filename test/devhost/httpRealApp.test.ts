import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFunctionsApp } from '../../devhost/functions/appLoader.js';
import { startHttpServer, type DevHostServer } from '../../devhost/http/server.js';
import { FakeBackend } from '../support/fakeBackend.js';

// The library's own InvocationModel (HttpRequest in, toRpcHttp out) behind the server.
describe('HTTP server with the real invoker', () => {
  let server: DevHostServer;

  beforeAll(async () => {
    const invoker = await loadFunctionsApp(path.resolve(__dirname, '../fixtures/basic-app'), {
      log: () => {},
    });
    server = await startHttpServer({
      port: 0,
      routePrefix: 'api',
      invoker,
      backend: new FakeBackend(['doubler']),
      keys: { masterKey: 'M', functionKeys: { default: 'F' }, systemKeys: { durabletask_extension: 'S' } },
      log: () => {},
    });
  });
  afterAll(() => server?.close());

  it('serves an app.http function end to end', async () => {
    const named = await fetch(`${server.url}/api/hello/ada`);
    expect(named.status).toBe(200);
    expect(named.headers.get('content-type')).toMatch(/application\/json/);
    expect(await named.json()).toEqual({ hello: 'ada', method: 'GET' });
    const posted = await fetch(`${server.url}/api/HELLO`, { method: 'POST', body: 'x' });
    expect(await posted.json()).toEqual({ hello: 'world', method: 'POST' });
    expect((await fetch(`${server.url}/api/hello`, { method: 'DELETE' })).status).toBe(405);
  });
});
