import { HttpRequest, HttpResponse, type HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus, WaitForCompletionOptions } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { createGetRun } from '../../src/functions/getRun.js';
import { createStartWorkflow, isJsonContentType, parseWait } from '../../src/functions/startWorkflow.js';
import { Names } from '../../src/shared/names.js';
import { workflows } from '../../src/shared/workflows.js';

const context = () => new InvocationContext({ functionName: 'test', logHandler: () => {} });

function fakeClient(overrides: Partial<DurableClient> = {}) {
  const started: { name: string; input: unknown }[] = [];
  const waits: WaitForCompletionOptions[] = [];
  const client = {
    startNew: (name: string, options?: { input?: unknown }) => {
      started.push({ name, input: options?.input });
      return Promise.resolve('instance-1');
    },
    createCheckStatusResponse: (_request: HttpRequest, id: string) =>
      new HttpResponse({ status: 202, jsonBody: { id, statusQueryGetUri: `http://host/status/${id}` } }),
    waitForCompletionOrCreateCheckStatusResponse: (
      _request: HttpRequest,
      id: string,
      options?: WaitForCompletionOptions,
    ) => {
      waits.push(options ?? {});
      return Promise.resolve(new HttpResponse({ status: 200, jsonBody: { id, done: true } }));
    },
    ...overrides,
  } as unknown as DurableClient;
  return { client, started, waits };
}

function post(name: string, body: string, { contentType = 'application/json', query = '' } = {}) {
  return new HttpRequest({
    method: 'POST',
    url: `http://localhost/api/workflows/${name}${query}`,
    headers: contentType ? { 'content-type': contentType } : {},
    params: { name },
    body: { string: body },
  });
}

function problemOf(response: HttpResponseInit) {
  expect(response.headers).toEqual({ 'content-type': 'application/problem+json' });
  return JSON.parse(response.body as string) as { status: number; type: string; errors?: unknown[] };
}

const document = JSON.stringify({ title: 'Doc', paragraphs: ['First. Second.'] });

describe('POST /api/workflows/{name}', () => {
  const start = (client: DurableClient, maxWaitSeconds = 60) =>
    createStartWorkflow({ workflows, getClient: () => client, config: () => ({ maxWaitSeconds }) });

  it('starts the orchestration with the validated input and answers with the check-status response', async () => {
    const fake = fakeClient();
    const response = await start(fake.client)(post('document-digest', document), context());
    expect(response).toBeInstanceOf(HttpResponse);
    expect((response as HttpResponse).status).toBe(202);
    expect(fake.started).toEqual([
      { name: Names.orchestrators.documentDigest, input: { title: 'Doc', paragraphs: ['First. Second.'] } },
    ]);
  });

  it('waits for completion when asked', async () => {
    const fake = fakeClient();
    const response = await start(fake.client)(
      post('document-digest', document, { query: '?wait=5' }),
      context(),
    );
    expect((response as HttpResponse).status).toBe(200);
    expect(fake.waits).toEqual([{ timeoutInMilliseconds: 5_000, retryIntervalInMilliseconds: 250 }]);
  });

  it('404s an unknown workflow and names the known ones', async () => {
    const body = problemOf(await start(fakeClient().client)(post('nope', document), context()));
    expect(body).toMatchObject({ status: 404, type: 'urn:durable-agents:problem:unknown-workflow' });
    expect(JSON.stringify(body)).toContain('document-digest');
  });

  it('415s a body that is not JSON by content type', async () => {
    const request = post('document-digest', document, { contentType: 'text/plain' });
    expect(problemOf(await start(fakeClient().client)(request, context()))).toMatchObject({
      status: 415,
    });
  });

  it('400s malformed JSON, invalid input and a bad wait, starting nothing', async () => {
    const fake = fakeClient();
    const handler = start(fake.client, 10);
    const malformed = problemOf(await handler(post('document-digest', '{"title":'), context()));
    expect(malformed).toMatchObject({ status: 400, type: 'urn:durable-agents:problem:invalid-json' });

    const invalid = problemOf(
      await handler(post('document-digest', JSON.stringify({ title: 'x', paragraphs: [1] })), context()),
    );
    expect(invalid).toMatchObject({ status: 400, errors: [{ pointer: '/paragraphs/0' }] });

    const badWait = problemOf(
      await handler(post('document-digest', document, { query: '?wait=11' }), context()),
    );
    expect(badWait).toMatchObject({ status: 400, errors: [{ parameter: 'wait' }] });
    expect(fake.started).toEqual([]);
  });

  it('recognizes JSON media types and wait values', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/merge-patch+json')).toBe(true);
    expect(isJsonContentType('text/json')).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
    expect(parseWait(null, 60)).toBe(0);
    expect(parseWait('30', 60)).toBe(30);
    expect(parseWait('1.5', 60)).toEqual(expect.stringContaining('whole number'));
    expect(parseWait('-1', 60)).toEqual(expect.stringContaining('whole number'));
  });
});

describe('GET /api/runs/{id}', () => {
  const get = (id: string) =>
    new HttpRequest({ method: 'GET', url: `http://localhost/api/runs/${id}`, params: { id } });

  it('returns the run status with progress and output', async () => {
    const status = {
      instanceId: 'abc',
      name: Names.orchestrators.documentDigest,
      runtimeStatus: 'Running',
      customStatus: { step: 'summarizing', done: 1, total: 3 },
      output: null,
      createdTime: new Date('2026-01-01T00:00:00Z'),
      lastUpdatedTime: new Date('2026-01-01T00:00:05Z'),
    } as unknown as DurableOrchestrationStatus;
    const { client } = fakeClient({ getStatus: () => Promise.resolve(status) });
    const response = await createGetRun({ getClient: () => client })(get('abc'), context());
    expect(response).toEqual({
      status: 200,
      jsonBody: {
        instanceId: 'abc',
        name: Names.orchestrators.documentDigest,
        runtimeStatus: 'Running',
        customStatus: { step: 'summarizing', done: 1, total: 3 },
        output: null,
        createdTime: '2026-01-01T00:00:00.000Z',
        lastUpdatedTime: '2026-01-01T00:00:05.000Z',
      },
    });
  });

  it('404s an unknown run and rethrows anything else', async () => {
    const notFound = fakeClient({
      getStatus: () =>
        Promise.reject(
          new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.'),
        ),
    });
    const response = await createGetRun({ getClient: () => notFound.client })(get('zzz'), context());
    expect(problemOf(response as HttpResponseInit)).toMatchObject({ status: 404 });

    const broken = fakeClient({ getStatus: () => Promise.reject(new Error('HTTP 500')) });
    await expect(createGetRun({ getClient: () => broken.client })(get('zzz'), context())).rejects.toThrow(
      'HTTP 500',
    );
  });
});
