import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import * as df from 'durable-functions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useDurableClientHttp } from '../../src/functions/durableClientTransport.js';
import { createRunAction } from '../../src/functions/operator/runActions.js';
import { createDurableManagement, DurableManagementError } from '../../src/operator/durableManagement.js';
import type { AuditRecord } from '../../src/shared/operatorTypes.js';

/**
 * The app's DurableClient transport and its own management calls against a fake of the extension's
 * HTTP API on loopback, answering as HttpApiHandler.cs does (azure-functions-durable-extension at
 * a7c6d694, src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs and HttpRequestMessageExtensions.cs):
 * - a duplicate start is StartNewAsync throwing OrchestrationAlreadyExistsException ("An Orchestration
 *   instance with the status Running already exists."), caught by HandleRequestAsync: 500 with
 *   `{Message, ExceptionMessage, ExceptionType, StackTrace}`;
 * - terminate/suspend/resume of a Completed/Failed/Terminated/Canceled instance: 410 Gone, empty;
 *   rewind: 410 for Completed/Terminated/Canceled; raiseEvent: 410 for any finished instance and 400
 *   unless the body is application/json; an unknown instance: 404, empty;
 * - one instance: 202 while running, 200 once finished, `showInput` defaulting to true;
 * - the list: `top` and `instanceIdPrefix`, the `x-ms-continuation-token` request header, and the same
 *   response header on every page (empty at the end; Azure Storage once sent "bnVsbA==", base64 "null",
 *   azure-functions-durable-extension#1174).
 */

type Status = 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'Suspended';
interface Instance {
  name: string;
  status: Status;
  input: unknown;
  reason?: string;
  events: { name: string; data: unknown }[];
}

const FINISHED = new Set<Status>(['Completed', 'Failed', 'Terminated']);
const instances = new Map<string, Instance>();
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
let endToken = '';
let server: Server;
let origin: string;

function statusJson(id: string, instance: Instance, showInput: boolean) {
  return {
    name: instance.name,
    instanceId: id,
    runtimeStatus: instance.status,
    input: showInput ? instance.input : null,
    customStatus: null,
    output: instance.status === 'Terminated' ? (instance.reason ?? null) : null,
    createdTime: '2026-01-01T00:00:00Z',
    lastUpdatedTime: '2026-01-01T00:00:01Z',
  };
}

function handler(
  req: IncomingMessage,
  body: string,
): { status: number; json?: unknown; headers?: Record<string, string> } {
  const url = new URL(req.url ?? '/', origin);
  const parts = url.pathname
    .replace(/^\/durabletask\//, '')
    .split('/')
    .map(decodeURIComponent);
  const query = url.searchParams;
  const bool = (name: string, fallback: boolean) => (query.has(name) ? query.get(name) === 'true' : fallback);
  if (parts[0] === 'orchestrators' && req.method === 'POST') {
    const id = parts[2] ?? `new-${instances.size}`;
    const existing = instances.get(id);
    if (existing && !FINISHED.has(existing.status)) {
      return {
        status: 500,
        json: {
          Message: 'Something went wrong while processing your request',
          ExceptionMessage: `An Orchestration instance with the status ${existing.status} already exists.`,
          ExceptionType: 'DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException',
          StackTrace: '   at DurableTask.AzureStorage...',
        },
      };
    }
    instances.set(id, {
      name: parts[1] ?? '',
      status: 'Running',
      input: body ? JSON.parse(body) : null,
      events: [],
    });
    return { status: 202, json: { id } };
  }
  if (parts[0] !== 'instances') return { status: 404 };
  const id = parts[1] ?? '';
  if (id === '' && req.method === 'GET') {
    const all = [...instances.entries()].filter(([key]) =>
      key.startsWith(query.get('instanceIdPrefix') ?? ''),
    );
    const top = Number(query.get('top') ?? 100);
    const start = Number(req.headers['x-ms-continuation-token'] ?? 0);
    const page = all.slice(start, start + top);
    const next = start + top < all.length ? String(start + top) : endToken;
    return {
      status: 200,
      json: page.map(([key, instance]) => statusJson(key, instance, bool('showInput', true))),
      headers: { 'x-ms-continuation-token': next },
    };
  }
  const instance = instances.get(id);
  if (!instance) return { status: 404 };
  const operation = parts[2];
  if (operation === undefined && req.method === 'GET') {
    return {
      status: FINISHED.has(instance.status) ? 200 : 202,
      json: statusJson(id, instance, bool('showInput', true)),
    };
  }
  if (req.method !== 'POST') return { status: 404 };
  if (operation === 'raiseEvent') {
    if (FINISHED.has(instance.status)) return { status: 410 };
    if (req.headers['content-type']?.split(';')[0] !== 'application/json') {
      return { status: 400, json: { Message: 'Only application/json request content is supported' } };
    }
    instance.events.push({ name: parts[3] ?? '', data: JSON.parse(body) });
    return { status: 202 };
  }
  const gone =
    operation === 'rewind'
      ? ['Completed', 'Terminated'].includes(instance.status)
      : FINISHED.has(instance.status);
  if (gone) return { status: 410 };
  if (operation === 'terminate')
    Object.assign(instance, { status: 'Terminated', reason: query.get('reason') });
  else if (operation === 'suspend') instance.status = 'Suspended';
  else if (operation === 'resume') instance.status = 'Running';
  else if (operation === 'rewind') instance.status = 'Running';
  else return { status: 404 };
  return { status: 202 };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const answer = handler(req, body);
      const text = answer.json === undefined ? '' : JSON.stringify(answer.json);
      res.writeHead(answer.status, {
        ...(answer.json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...answer.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const hostname = process.env.WEBSITE_HOSTNAME;
beforeEach(() => {
  instances.clear();
  seen.length = 0;
  endToken = '';
  process.env.WEBSITE_HOSTNAME = 'app.invalid';
});
afterEach(() => {
  if (hostname === undefined) delete process.env.WEBSITE_HOSTNAME;
  else process.env.WEBSITE_HOSTNAME = hostname;
});

/** A durable client as the app gets it: webhook links on the (unreachable) public origin, RPC on the fake. */
function appClient(): { client: df.DurableClient; context: InvocationContext } {
  const publicBase = 'https://app.invalid/runtime/webhooks/durabletask';
  const q = 'taskHub=hub&connection=Storage&code=SYS';
  const links = (id: string) => ({
    id,
    statusQueryGetUri: `${publicBase}/instances/${id}?${q}`,
    sendEventPostUri: `${publicBase}/instances/${id}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${publicBase}/instances/${id}/terminate?reason={text}&${q}`,
    rewindPostUri: `${publicBase}/instances/${id}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${publicBase}/instances/${id}?${q}`,
    restartPostUri: `${publicBase}/instances/${id}/restart?${q}`,
    suspendPostUri: `${publicBase}/instances/${id}/suspend?reason={text}&${q}`,
    resumePostUri: `${publicBase}/instances/${id}/resume?reason={text}&${q}`,
  });
  const binding = {
    taskHubName: 'hub',
    creationUrls: {
      createNewInstancePostUri: `${publicBase}/orchestrators/{functionName}[/{instanceId}]?code=SYS`,
      createAndWaitOnNewInstancePostUri: `${publicBase}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=SYS`,
    },
    managementUrls: links('INSTANCEID'),
    baseUrl: publicBase,
    requiredQueryStringParameters: 'code=SYS',
    rpcBaseUrl: `${origin}/durabletask/`,
  };
  const context = new InvocationContext({ options: { extraInputs: [df.input.durableClient()] } });
  const input = context.options.extraInputs[0];
  if (input) context.extraInputs.set(input, binding);
  const client = df.getClient(context);
  expect(useDurableClientHttp(client)).toBe(true);
  return { client, context };
}

const running = (name = 'runWorkflow', input: unknown = { topic: 't' }): Instance => ({
  name,
  status: 'Running',
  input,
  events: [],
});

describe('the DurableClient on the app transport, against the extension’s answers', () => {
  it('a duplicate start fails with the extension’s 500 and a message naming the existing instance', async () => {
    const { client } = appClient();
    expect(await client.startNew('runWorkflow', { instanceId: 'dup', input: { a: 1 } })).toBe('dup');
    const error = await client
      .startNew('runWorkflow', { instanceId: 'dup', input: { a: 1 } })
      .catch((e: Error) => e);
    // What runStarter's isConflict keys on (src/functions/runStarter.ts): "already exists".
    expect(String(error)).toMatch(/unexpected status code: 500.*already exists/);
  });

  it('pages getStatusBy across continuation tokens and stops at the empty one', async () => {
    const { client } = appClient();
    for (let i = 0; i < 5; i += 1) instances.set(`r${i}`, running());
    const all = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    expect(all.map((s) => s.instanceId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('hides 410 on terminate (what the app’s own operate call reports)', async () => {
    const { client } = appClient();
    instances.set('done', { ...running(), status: 'Completed' });
    await expect(client.terminate('done', 'late')).resolves.toBeUndefined();
    expect(seen.at(-1)?.url).toContain('/durabletask/instances/done/terminate?reason=late');
  });

  it('never calls the public webhook origin', () => {
    expect(seen.every((request) => !request.url.includes('app.invalid'))).toBe(true);
  });
});

describe('the app’s management calls against the extension’s answers', () => {
  it('reads one page by prefix and size, passes the token back, and ends on "" or "bnVsbA=="', async () => {
    const management = createDurableManagement(appClient().client);
    for (let i = 0; i < 5; i += 1) instances.set(`b:${i}`, running());
    instances.set('other', running());
    const first = await management.listInstances({ instanceIdPrefix: 'b:', top: 2, showInput: false });
    expect(first.instances.map((i) => [i.instanceId, i.input])).toEqual([
      ['b:0', null],
      ['b:1', null],
    ]);
    expect(first.continuationToken).toBe('2');
    const request = new URL(seen.at(-1)?.url ?? '', origin);
    expect(Object.fromEntries(request.searchParams)).toMatchObject({
      top: '2',
      showInput: 'false',
      instanceIdPrefix: 'b:',
    });
    const third = await management.listInstances({ instanceIdPrefix: 'b:', top: 2, continuationToken: '4' });
    expect(seen.at(-1)?.headers['x-ms-continuation-token']).toBe('4');
    expect(third.instances.map((i) => i.instanceId)).toEqual(['b:4']);
    expect(third.continuationToken).toBeUndefined();
    endToken = 'bnVsbA==';
    const last = await management.listInstances({ instanceIdPrefix: 'b:', top: 2, continuationToken: '4' });
    expect(last.continuationToken).toBeUndefined();
  });

  it('reads one instance: 404 is undefined, 202 while running, input left out when asked', async () => {
    const management = createDurableManagement(appClient().client);
    expect(await management.getInstance('missing')).toBeUndefined();
    instances.set('r', running('runWorkflow', { secret: 'input' }));
    expect(await management.getInstance('r')).toMatchObject({
      runtimeStatus: 'Running',
      input: { secret: 'input' },
    });
    expect((await management.getInstance('r', { input: false }))?.input).toBeNull();
    expect(seen.at(-1)?.url).toContain('showInput=false');
  });

  it('operates with the reason whole, and reports 410 and 404 instead of hiding them', async () => {
    const management = createDurableManagement(appClient().client);
    instances.set('r', running());
    const reason = 'stop & go #1 +2 100%';
    expect(await management.operate('r', 'suspend', reason)).toBe('accepted');
    expect(await management.operate('r', 'terminate', reason)).toBe('accepted');
    expect(instances.get('r')?.reason).toBe(reason);
    expect(await management.operate('r', 'terminate', 'again')).toBe('gone');
    expect(await management.operate('missing', 'resume', 'x')).toBe('notFound');
    instances.set('f', { ...running(), status: 'Failed' });
    expect(await management.operate('f', 'rewind', 'retry')).toBe('accepted');
  });

  it('raises events as application/json; a finished instance is gone', async () => {
    const management = createDurableManagement(appClient().client);
    instances.set('w', running());
    expect(await management.raiseEvent('w', 'review', { approved: true, by: 'ana' })).toBe('accepted');
    expect(instances.get('w')?.events).toEqual([{ name: 'review', data: { approved: true, by: 'ana' } }]);
    instances.set('x', { ...running(), status: 'Failed' });
    expect(await management.raiseEvent('x', 'review', { approved: true })).toBe('gone');
  });

  it('turns any other answer into a DurableManagementError naming the call, never the URL', async () => {
    const broken = createDurableManagement(appClient().client, {
      get: () => Promise.resolve({ status: 500, statusText: 'x', data: { Message: 'boom' }, headers: {} }),
      post: () => Promise.resolve({ status: 400, statusText: 'x', data: { Message: 'bad' }, headers: {} }),
    });
    await expect(broken.getInstance('r')).rejects.toThrow(DurableManagementError);
    await expect(broken.operate('r', 'terminate', 'x')).rejects.toThrow(
      /answered 400 to terminate of instance r: .*bad/,
    );
  });
});

describe('operator actions when the run changed under them', () => {
  const audit: AuditRecord[] = [];
  const act = async (id: string, action: string, management: ReturnType<typeof createDurableManagement>) => {
    const { client, context } = appClient();
    const handler = createRunAction({
      getClient: () => client,
      audit: {
        append: (record) => Promise.resolve(void audit.push(record)),
        list: () => Promise.resolve([]),
      },
      management: () => management,
    });
    const request = new HttpRequest({
      method: 'POST',
      url: `http://localhost/api/operator/runs/${id}/${action}`,
      params: { id, action },
      body: { string: '{}' },
      headers: { 'content-type': 'application/json' },
    });
    return handler(request, context);
  };

  /** The app's management, with `change` applied to the fake right after the operator's read. */
  const changedAfterRead = (change: (id: string) => void) => {
    const real = createDurableManagement(appClient().client);
    return {
      ...real,
      getInstance: async (id: string, options?: { history?: boolean; input?: boolean }) => {
        const read = await real.getInstance(id, options);
        change(id);
        return read;
      },
    };
  };

  it('answers 409 when the run finished between the read and the terminate, and records nothing', async () => {
    instances.set('r', running());
    // The read sees it running; by the time the terminate arrives the run has completed.
    const racing = changedAfterRead((id) => {
      const instance = instances.get(id);
      if (instance) instance.status = 'Completed';
    });
    const response = await act('r', 'terminate', racing);
    expect(response.status).toBe(409);
    expect((response as HttpResponseInit).body as string).toMatch(/finished before the terminate reached it/);
    expect(audit).toEqual([]);
  });

  it('answers 404 when the run was purged in between', async () => {
    instances.set('p', running());
    const racing = changedAfterRead((id) => instances.delete(id));
    expect((await act('p', 'suspend', racing)).status).toBe(404);
    expect(audit).toEqual([]);
  });
});
