import { HttpRequest } from '@azure/functions';
import * as df from 'durable-functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listenerUrl, type DurableClientBindingPayload } from '../../devhost/durable/bindingPayload.js';
import { startHttpServer, type DevHostServer } from '../../devhost/http/server.js';
import { FakeBackend } from '../support/fakeBackend.js';
import { FakeInvoker } from './httpFakeInvoker.js';

type DurableClient = ReturnType<typeof df.getClient>;
const keys = {
  masterKey: 'MASTER',
  functionKeys: { default: 'FUNC' },
  systemKeys: { durabletask_extension: 'SYS' },
};

describe('the real DurableClient against devhost', () => {
  let server: DevHostServer;
  let backend: FakeBackend;
  let client: DurableClient;
  let legacyClient: DurableClient;
  let payload: DurableClientBindingPayload;

  const invoker = new FakeInvoker([
    {
      name: 'startWorkflow',
      route: 'orchestrators/{name}',
      methods: ['POST'],
      durableClient: true,
      handler: async (req, context) => {
        const c = df.getClient(context);
        client = c;
        const id = await c.startNew(req.params.name ?? '', { input: await req.json() });
        return c.createCheckStatusResponse(req, id);
      },
    },
    {
      name: 'getClient',
      methods: ['GET'],
      durableClient: true,
      handler: (_req, context) => {
        client = df.getClient(context);
        return { body: 'ok' };
      },
    },
  ]);

  beforeAll(async () => {
    backend = new FakeBackend(['doubler', 'other']);
    delete process.env.WEBSITE_HOSTNAME;
    server = await startHttpServer({ port: 0, routePrefix: 'api', invoker, backend, keys, log: () => {} });
    await fetch(`${server.url}/api/getClient`);
    payload = server.durableClientPayload;
    // Without rpcBaseUrl the client falls back to the management URL templates (webhook root + code):
    // a client outside the app, so its links are moved from the advertised origin to the listener.
    const { rpcBaseUrl: _rpc, ...binding } = payload;
    const moved = <T extends object>(links: T): T =>
      Object.fromEntries(
        Object.entries(links).map(([k, v]) => [
          k,
          /^https:/.test(String(v)) ? listenerUrl(String(v), server.url) : v,
        ]),
      ) as T;
    const legacy = {
      ...binding,
      baseUrl: listenerUrl(binding.baseUrl, server.url),
      creationUrls: moved(binding.creationUrls),
      managementUrls: moved(binding.managementUrls),
    };
    const ctx = new (await import('@azure/functions')).InvocationContext({
      options: { extraInputs: [df.input.durableClient()] },
    });
    const input = ctx.options.extraInputs[0];
    if (input) ctx.extraInputs.set(input, legacy);
    legacyClient = df.getClient(ctx);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    backend.instances.clear();
    backend.pageSize = 100;
  });

  it('hands functions the extension-shaped binding payload: RPC on loopback, webhook links on an unreachable origin', async () => {
    const advertised = `https://devhost-${server.port}.invalid`;
    expect(server.webhookOrigin).toBe(advertised);
    expect(process.env.WEBSITE_HOSTNAME).toBe(`devhost-${server.port}.invalid`);
    expect(payload.rpcBaseUrl).toBe(`${server.url}/durabletask/`);
    expect(payload.baseUrl).toBe(`${advertised}/runtime/webhooks/durabletask`);
    expect(payload.requiredQueryStringParameters).toBe('code=SYS');
    expect(payload.managementUrls.statusQueryGetUri).toBe(
      `${advertised}/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=TestHubName&connection=Storage&code=SYS`,
    );
    expect(payload.creationUrls.createAndWaitOnNewInstancePostUri).toBe(
      `${advertised}/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=SYS`,
    );
    // A self-call through the advertised origin fails, as it would behind Azure's front end…
    await expect(fetch(payload.managementUrls.statusQueryGetUri)).rejects.toThrow();
    // …while the same route answers on the listener.
    const moved = listenerUrl(
      payload.managementUrls.statusQueryGetUri.replace('INSTANCEID', 'nope'),
      server.url,
    );
    expect((await fetch(moved)).status).toBe(404);
    expect(client.taskHubName).toBe('TestHubName');
  });

  it('starts through an HTTP starter and returns the check-status response', async () => {
    const res = await fetch(`${server.url}/api/orchestrators/doubler`, { method: 'POST', body: '{"n":21}' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, string>;
    const id = body.id ?? '';
    expect(backend.instances.get(id)?.input).toEqual({ n: 21 });
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(body.statusQueryGetUri).toBe(
      `${server.url}/runtime/webhooks/durabletask/instances/${id}?taskHub=TestHubName&connection=Storage&code=SYS`,
    );
    const status = await fetch(body.statusQueryGetUri ?? '');
    expect(status.status).toBe(202);
    expect(await status.json()).toMatchObject({
      name: 'doubler',
      instanceId: id,
      runtimeStatus: 'Running',
      input: { n: 21 },
    });
    expect(
      (await fetch(body.terminatePostUri?.replace('{text}', 'bye') ?? '', { method: 'POST' })).status,
    ).toBe(202);
    expect(backend.instances.get(id)?.runtimeStatus).toBe('Terminated');
  });

  for (const which of ['rpc', 'webhook'] as const) {
    describe(`via the ${which} root`, () => {
      const c = () => (which === 'rpc' ? client : legacyClient);

      it('startNew with id, version and input; getStatus; duplicates and unknown names', async () => {
        expect(await c().startNew('doubler', { instanceId: 'run 1', input: 'x', version: '2' })).toBe(
          'run 1',
        );
        expect(backend.calls.at(-1)).toEqual({
          op: 'start',
          args: [{ orchestratorName: 'doubler', instanceId: 'run 1', input: 'x', version: '2' }],
        });
        const status = await c().getStatus('run 1', { showHistory: true, showInput: true });
        expect(status).toMatchObject({
          name: 'doubler',
          instanceId: 'run 1',
          runtimeStatus: 'Running',
          input: 'x',
        });
        expect(status.createdTime).toBeInstanceOf(Date);
        // The client only sends showInput when it is true on the rpc path (falsy check), so input stays.
        const hidden = await c().getStatus('run 1', { showInput: false });
        expect(hidden.input).toEqual(which === 'rpc' ? 'x' : null);
        await expect(c().startNew('doubler', { instanceId: 'run 1' })).rejects.toThrow(/500.*already exists/);
        await expect(c().startNew('nope')).rejects.toThrow(/404.*'nope' doesn't exist/);
        await expect(c().getStatus('missing')).rejects.toThrow(/HTTP 404/);
        expect(typeof (await c().startNew('doubler'))).toBe('string');
      });

      it('pages getStatusAll / getStatusBy across continuation tokens', async () => {
        backend.pageSize = 2;
        for (let i = 0; i < 5; i++) await c().startNew('doubler', { instanceId: `p${i}` });
        backend.set('p1', 'Completed', 1);
        backend.set('p3', 'Failed');
        const all = await c().getStatusAll();
        expect(all.map((s) => s.instanceId)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
        expect(backend.calls.filter((x) => x.op === 'list').length).toBeGreaterThanOrEqual(3);
        const done = await c().getStatusBy({
          runtimeStatus: [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed],
        });
        expect(done.map((s) => s.instanceId)).toEqual(['p1', 'p3']);
        const window = await c().getStatusBy({
          createdTimeFrom: new Date(backend.instances.get('p2')?.createdTime ?? ''),
          createdTimeTo: new Date('2100-01-01'),
        });
        expect(window.map((s) => s.instanceId)).toEqual(['p2', 'p3', 'p4']);
      });

      it('raiseEvent, terminate, suspend, resume with 202/410/404', async () => {
        await c().startNew('doubler', { instanceId: 'e1' });
        await c().raiseEvent('e1', 'approve', { by: 'alice' });
        expect(backend.calls.at(-1)).toEqual({ op: 'raiseEvent', args: ['e1', 'approve', { by: 'alice' }] });
        await c().suspend('e1', 'pause');
        expect(backend.instances.get('e1')?.runtimeStatus).toBe('Suspended');
        await c().resume('e1', 'go');
        expect(backend.instances.get('e1')?.runtimeStatus).toBe('Running');
        await c().terminate('e1', 'stop now');
        expect(backend.calls.at(-1)).toEqual({ op: 'terminate', args: ['e1', 'stop now'] });
        await c().raiseEvent('e1', 'late', 1);
        await c().terminate('e1', 'again');
        await expect(c().raiseEvent('ghost', 'x', 1)).rejects.toThrow(/No instance with ID 'ghost'/);
        await expect(c().terminate('ghost', 'x')).rejects.toThrow(/No instance with ID 'ghost'/);
        await expect(c().suspend('ghost', 'x')).rejects.toThrow(/No instance/);
      });

      it('rewind only failed instances', async () => {
        await c().startNew('doubler', { instanceId: 'r1' });
        await expect(c().rewind('r1', 'why')).rejects.toThrow(/only orchestrations in the "Failed" state/);
        backend.set('r1', 'Failed');
        await c().rewind('r1', 'retry');
        expect(backend.instances.get('r1')?.runtimeStatus).toBe('Running');
        await expect(c().rewind('ghost', 'x')).rejects.toThrow(/No orchestration with instance ID "ghost"/);
      });

      it('purges by id and by filter', async () => {
        await c().startNew('doubler', { instanceId: 'd1' });
        await c().startNew('doubler', { instanceId: 'd2' });
        await expect(c().purgeInstanceHistory('d1')).rejects.toThrow(/412/);
        backend.set('d1', 'Completed');
        expect(await c().purgeInstanceHistory('d1')).toEqual({ instancesDeleted: 1 });
        expect((await c().purgeInstanceHistory('d1')).instancesDeleted).toBe(0);
        backend.set('d2', 'Terminated');
        const byFilter = await c().purgeInstanceHistoryBy({
          createdTimeFrom: new Date('2000-01-01'),
          runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated],
        });
        expect(byFilter).toEqual({ instancesDeleted: 1 });
        expect(
          (await c().purgeInstanceHistoryBy({ createdTimeFrom: new Date('2000-01-01') })).instancesDeleted,
        ).toBe(0);
      });

      it('waitForCompletionOrCreateCheckStatusResponse', async () => {
        const req = new HttpRequest({ method: 'GET', url: 'http://example.test:9999/api/x' });
        await c().startNew('doubler', { instanceId: 'w1' });
        setTimeout(() => backend.set('w1', 'Completed', { answer: 42 }), 150);
        const done = await c().waitForCompletionOrCreateCheckStatusResponse(req, 'w1', {
          timeoutInMilliseconds: 3000,
          retryIntervalInMilliseconds: 50,
        });
        expect(done.status).toBe(200);
        expect(await done.json()).toEqual({ answer: 42 });
        await c().startNew('doubler', { instanceId: 'w2' });
        const pending = await c().waitForCompletionOrCreateCheckStatusResponse(req, 'w2', {
          timeoutInMilliseconds: 100,
          retryIntervalInMilliseconds: 50,
        });
        expect(pending.status).toBe(202);
        const links = (await pending.json()) as Record<string, string>;
        expect(links.statusQueryGetUri).toMatch(
          /^http:\/\/example\.test:9999\/runtime\/webhooks\/durabletask\/instances\/w2\?/,
        );
        expect(links.rewindPostUri).toContain('/instances/w2/rewind?reason={text}');
      });

      it('reports entities as unsupported', async () => {
        await expect(c().readEntityState(new df.EntityId('counter', 'k'))).rejects.toThrow(
          /501.*not supported by devhost/,
        );
      });
    });
  }

  describe('raw Durable HTTP API', () => {
    const api = (p: string) =>
      `${server.url}/runtime/webhooks/durabletask/${p}${p.includes('?') ? '&' : '?'}code=SYS`;

    it('create-and-wait returns the output, or 202 after the timeout', async () => {
      // A caller outside the app follows the template on the listener.
      const template = listenerUrl(payload.creationUrls.createAndWaitOnNewInstancePostUri, server.url);
      const waitUrl = template
        .replace('{functionName}', 'doubler')
        .replace('[/{instanceId}]', '/cw1')
        .replace('{timeoutInSeconds}', '3')
        .replace('{intervalInSeconds}', '0.05');
      setTimeout(() => backend.set('cw1', 'Completed', 'done!'), 150);
      const res = await fetch(waitUrl, { method: 'POST', body: '5' });
      expect(res.status).toBe(200);
      expect(await res.json()).toBe('done!');
      const timedOut = await fetch(api('orchestrators/doubler/cw2?timeout=0.1&pollingInterval=0.05'), {
        method: 'POST',
      });
      expect(timedOut.status).toBe(202);
      expect(timedOut.headers.get('location')).toContain('/instances/cw2?');
      setTimeout(() => backend.set('cw3', 'Failed', 'bad'), 100);
      const failedWait = await fetch(api('orchestrators/doubler/cw3?timeout=3&pollingInterval=0.02'), {
        method: 'POST',
      });
      expect(failedWait.status).toBe(200);
      expect(await failedWait.json()).toMatchObject({
        instanceId: 'cw3',
        runtimeStatus: 'Failed',
        output: 'bad',
      });
    });

    it('restarts with a new or the same instance id', async () => {
      await client.startNew('doubler', { instanceId: 'rs1', input: { a: 1 } });
      backend.set('rs1', 'Completed');
      const fresh = await fetch(api('instances/rs1/restart'), { method: 'POST' });
      expect(fresh.status).toBe(202);
      const freshId = ((await fresh.json()) as { id: string }).id;
      expect(freshId).not.toBe('rs1');
      expect(backend.instances.get(freshId)?.input).toEqual({ a: 1 });
      const same = await fetch(api('instances/rs1/restart?restartWithNewInstanceId=false'), {
        method: 'POST',
      });
      expect(((await same.json()) as { id: string }).id).toBe('rs1');
      const unknown = await fetch(api('instances/ghost/restart'), { method: 'POST' });
      expect(unknown.status).toBe(400);
    });

    it('status codes follow the extension: 200 terminal, 500 on request for failures, 404 empty', async () => {
      await client.startNew('doubler', { instanceId: 's1' });
      backend.set('s1', 'Failed', 'err');
      expect((await fetch(api('instances/s1'))).status).toBe(200);
      expect((await fetch(api('instances/s1?returnInternalServerErrorOnFailure=true'))).status).toBe(500);
      const missing = await fetch(api('instances/nobody'));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('');
      expect(
        ((await (await fetch(api('instances/s1?showInput=false'))).json()) as { input: unknown }).input,
      ).toBeNull();
      const history = (await (await fetch(api('instances/s1?showHistory=true'))).json()) as {
        historyEvents?: unknown[];
      };
      expect(history.historyEvents).toHaveLength(1);
    });

    it.each([
      ['POST', 'orchestrators/doubler/a%2Fb', 400, /must not contain \//],
      ['POST', 'orchestrators/doubler/%40entity', 400, /must not start with @/],
      ['POST', 'orchestrators/doubler/%20%20', 400, /empty or whitespace/],
      ['POST', `orchestrators/doubler/${'x'.repeat(257)}`, 400, /256 characters/],
      ['POST', 'orchestrators/doubler/a%01b', 400, /control characters/],
      ['GET', 'instances/?top=0', 400, /'top'/],
      ['GET', 'instances/?createdTimeFrom=yesterday', 400, /'createdTimeFrom'/],
      ['GET', 'instances/?runtimeStatus=Running,Sleeping', 400, /'runtimeStatus'.*Sleeping/],
      ['GET', 'instances/x?showHistory=yes', 400, /'showHistory'/],
      ['DELETE', 'instances/', 400, /createdTimeFrom/],
      ['POST', 'orchestrators/doubler?timeout=abc&pollingInterval=1', 400, /'timeout'/],
      ['POST', 'orchestrators/doubler?timeout=1&pollingInterval=5', 400, /'pollingInterval'/],
      ['GET', 'orchestrators/doubler', 405, /POST only/],
      ['PUT', 'instances/', 405, /GET, DELETE/],
      ['POST', 'instances/x/explode', 404, /Unknown instance operation/],
      ['GET', 'nothing/here', 404, /Unknown Durable HTTP API route/],
      ['GET', 'instances/?taskHub=OtherHub', 404, /OtherHub/],
      ['POST', 'entities/counter/k?op=add', 501, /not supported by devhost/],
    ])('%s %s → %i', async (method, path, status, message) => {
      const res = await fetch(api(path), { method });
      expect(res.status).toBe(status);
      expect(JSON.stringify(await res.json())).toMatch(message);
    });

    it('rejects malformed JSON bodies and bad continuation tokens, then keeps serving', async () => {
      const bad = await fetch(api('orchestrators/doubler'), { method: 'POST', body: '{"n":' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toMatch(/Invalid JSON/);
      await client.startNew('doubler', { instanceId: 'ev1' });
      const badEvent = await fetch(api('instances/ev1/raiseEvent/go'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{nope',
      });
      expect(badEvent.status).toBe(400);
      const textEvent = await fetch(api('instances/ev1/raiseEvent/go'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      });
      expect(textEvent.status).toBe(400);
      const token = await fetch(api('instances/'), { headers: { 'x-ms-continuation-token': 'garbage' } });
      expect(token.status).toBe(400);
      expect(((await token.json()) as { message: string }).message).toMatch(/x-ms-continuation-token/);
      expect((await fetch(api('instances/ev1'))).status).toBe(202);
    });
  });
});
