import { HttpRequest, type HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { WorkflowDefinition } from '../../src/definitions/schema.js';
import { createGetRun } from '../../src/functions/getRun.js';
import {
  createStartWorkflow,
  isJsonContentType,
  parseWait,
  runUrlFor,
} from '../../src/functions/startWorkflow.js';
import { createRunStarter } from '../../src/functions/runStarter.js';
import { parseModelConfig } from '../../src/config/models.js';
import { unpricedProblem } from '../../src/models/unpriced.js';
import type { ToolDefinition } from '../../src/shared/modelTypes.js';
import { Names } from '../../src/shared/names.js';
import type { RunProgress, RunWorkflowInput, RunWorkflowOutput } from '../../src/shared/runTypes.js';
import { createWorkflowCatalog } from '../../src/shared/workflows.js';

/** The HTTP triggers as plain handlers, against the shipped definitions and a fake DurableClient. */
const shipped = loadWorkflowDirectory(path.resolve(__dirname, '../../workflows'));
const catalog = createWorkflowCatalog(shipped.definitions);
const researchReport = shipped.definitions.get('research-report') as WorkflowDefinition;

const tools: Record<string, ToolDefinition> = {
  web_search: { name: 'web_search', description: 'Search', inputSchema: { type: 'object' } },
};

const context = () => new InvocationContext({ functionName: 'test', logHandler: () => {} });
const usage = { inputTokens: 10, outputTokens: 5, cacheWriteTokens: 0, cacheReadTokens: 0 };
const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:00:05Z');

function status(
  fields: Omit<Partial<DurableOrchestrationStatus>, 'runtimeStatus'> & { runtimeStatus?: string },
): DurableOrchestrationStatus {
  return {
    name: Names.orchestrators.runWorkflow,
    instanceId: 'run-1',
    runtimeStatus: 'Running',
    customStatus: null,
    input: null,
    output: null,
    createdTime: T0,
    lastUpdatedTime: T1,
    ...fields,
  } as unknown as DurableOrchestrationStatus;
}

function fakeClient(statuses: DurableOrchestrationStatus[] = []) {
  const started: { name: string; input: unknown }[] = [];
  let polls = 0;
  const client = {
    startNew: (name: string, options?: { input?: unknown }) => {
      started.push({ name, input: options?.input });
      return Promise.resolve('run-1');
    },
    // The host's own address, as the durableClient binding gives it; answers use the caller's origin.
    createHttpManagementPayload: (id: string) => ({
      id,
      statusQueryGetUri: `http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/${id}?code=k`,
    }),
    getStatus: (id: string) => {
      const next = statuses[Math.min(polls++, statuses.length - 1)];
      return next
        ? Promise.resolve({ ...next, instanceId: id })
        : Promise.reject(new Error('Durable Functions extension replied with HTTP 404 response.'));
    },
  } as unknown as DurableClient;
  return { client, started, polls: () => polls };
}

function post(
  name: string,
  body: string,
  { contentType = 'application/json', query = '', headers = {} } = {},
) {
  return new HttpRequest({
    method: 'POST',
    url: `http://localhost/api/workflows/${name}${query}`,
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    params: { name },
    body: { string: body },
  });
}

function problemOf(response: HttpResponseInit) {
  expect(response.headers).toEqual({ 'content-type': 'application/problem+json' });
  return JSON.parse(response.body as string) as {
    status: number;
    type: string;
    detail?: string;
    errors?: { pointer?: string; parameter?: string; detail: string }[];
  };
}

const start = (
  client: DurableClient,
  options: { maxWaitSeconds?: number; maxBodyBytes?: number; returnDurableManagementUrls?: boolean } = {},
) =>
  createStartWorkflow({
    workflows: catalog,
    tools: () => tools,
    getClient: () => client,
    config: () => ({
      maxWaitSeconds: options.maxWaitSeconds ?? 60,
      returnDurableManagementUrls: options.returnDurableManagementUrls ?? false,
    }),
    pollIntervalMs: 5,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });

const topic = JSON.stringify({ topic: 'Durable execution for LLM agents' });

describe('POST /api/workflows/{name}', () => {
  it('starts runWorkflow with the definition, the input with defaults, and the tool specs; 202 with runUrl', async () => {
    const fake = fakeClient();
    const response = (await start(fake.client)(
      post('research-report', topic),
      context(),
    )) as HttpResponseInit;
    expect(response.status).toBe(202);
    expect(response.headers).toMatchObject({ location: 'http://localhost/api/runs/run-1' });
    // No Durable management URLs (they carry the system key) unless RETURN_DURABLE_MANAGEMENT_URLS=true.
    expect(response.jsonBody).toEqual({
      id: 'run-1',
      runUrl: 'http://localhost/api/runs/run-1',
      approveUrl: 'http://localhost/api/runs/run-1/approve',
      rejectUrl: 'http://localhost/api/runs/run-1/reject',
      cancelUrl: 'http://localhost/api/runs/run-1/cancel',
    });
    const optedIn = (await start(fakeClient().client, { returnDurableManagementUrls: true })(
      post('research-report', topic),
      context(),
    )) as HttpResponseInit;
    expect(optedIn.headers).toMatchObject({
      location: 'http://localhost/runtime/webhooks/durabletask/instances/run-1?code=k',
    });
    expect(optedIn.jsonBody).toEqual({
      id: 'run-1',
      statusQueryGetUri: 'http://localhost/runtime/webhooks/durabletask/instances/run-1?code=k',
      runUrl: 'http://localhost/api/runs/run-1',
      approveUrl: 'http://localhost/api/runs/run-1/approve',
      rejectUrl: 'http://localhost/api/runs/run-1/reject',
      cancelUrl: 'http://localhost/api/runs/run-1/cancel',
    });
    expect(fake.started).toHaveLength(1);
    const [run] = fake.started;
    expect(run?.name).toBe(Names.orchestrators.runWorkflow);
    const input = run?.input as RunWorkflowInput;
    expect(input.definition).toEqual(researchReport);
    expect(input.input).toEqual({
      topic: 'Durable execution for LLM agents',
      questions: 4,
      concurrency: 4,
      audience: 'an informed general reader',
      requireApproval: false,
    });
    expect(input.workflows).toEqual({});
    expect(input.tools).toEqual(tools);
  });

  it('404s an unknown workflow and names the known ones', async () => {
    const body = problemOf(await start(fakeClient().client)(post('nope', topic), context()));
    expect(body).toMatchObject({ status: 404, type: 'urn:durable-agents:problem:unknown-workflow' });
    expect(body.detail).toContain('research-report');
  });

  it('400s a workflow with a budget whose roles reach an unpriced deployment, naming it and MODEL_PRICES_JSON', async () => {
    const { client, started } = fakeClient();
    const models = parseModelConfig({ ANTHROPIC_API_KEY: 'k', MODEL_ROLE_PLANNER: 'anthropic:my-opus' });
    const handler = createStartWorkflow({
      workflows: catalog,
      tools: () => tools,
      getClient: () => client,
      config: () => ({ maxWaitSeconds: 60 }),
      starter: createRunStarter({
        workflows: catalog,
        tools: () => tools,
        callbacksEnabled: () => false,
        unpricedProblem: unpricedProblem(models),
      }),
    });
    const body = problemOf(await handler(post('research-report', topic), context()));
    expect(body).toMatchObject({ status: 400, type: 'urn:durable-agents:problem:unpriced-deployment' });
    expect(body.detail).toContain('role "planner" → anthropic:my-opus has no price');
    expect(body.detail).toContain('MODEL_PRICES_JSON');
    expect(started).toEqual([]);
  });

  it('415s a body that is not JSON by content type', async () => {
    const request = post('research-report', topic, { contentType: 'text/plain' });
    expect(problemOf(await start(fakeClient().client)(request, context()))).toMatchObject({ status: 415 });
  });

  it('413s a body over the limit, declared or streamed, starting nothing', async () => {
    const fake = fakeClient();
    const big = JSON.stringify({ topic: 'x'.repeat(200) });
    const streamed = problemOf(
      await start(fake.client, { maxBodyBytes: 100 })(post('research-report', big), context()),
    );
    expect(streamed).toMatchObject({ status: 413, type: 'urn:durable-agents:problem:body-too-large' });
    const declared = problemOf(
      await start(fake.client)(
        post('research-report', topic, { headers: { 'content-length': String(2 * 1024 * 1024) } }),
        context(),
      ),
    );
    expect(declared.status).toBe(413);
    expect(fake.started).toEqual([]);
  });

  it('400s malformed JSON, each schema violation with its path, and a bad wait, starting nothing', async () => {
    const fake = fakeClient();
    const handler = start(fake.client, { maxWaitSeconds: 10 });
    const malformed = problemOf(await handler(post('research-report', '{"topic":'), context()));
    expect(malformed).toMatchObject({ status: 400, type: 'urn:durable-agents:problem:invalid-json' });

    const invalid = problemOf(
      await handler(post('research-report', JSON.stringify({ questions: 99, colour: 'red' })), context()),
    );
    expect(invalid).toMatchObject({ status: 400, type: 'urn:durable-agents:problem:invalid-input' });
    expect(invalid.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/topic', detail: 'is required' },
        { pointer: '/colour', detail: 'is not allowed here' },
        { pointer: '/questions', detail: expect.stringContaining('16') as unknown },
      ]),
    );

    const badWait = problemOf(
      await handler(post('research-report', topic, { query: '?wait=11' }), context()),
    );
    expect(badWait).toMatchObject({ status: 400, errors: [{ parameter: 'wait' }] });
    expect(fake.started).toEqual([]);
  });

  it('?wait answers 200 with the run view when the run finishes in time', async () => {
    const output: RunWorkflowOutput = {
      outcome: 'completed',
      workflow: 'research-report',
      version: '1.0.0',
      output: { title: 'T', summary: 'S', sections: [] },
      ledger: { rows: [], totals: { calls: 0, usage, costUsd: 0 } },
    };
    const fake = fakeClient([status({}), status({ runtimeStatus: 'Completed', output })]);
    const response = (await start(fake.client)(
      post('research-report', topic, { query: '?wait=5' }),
      context(),
    )) as HttpResponseInit;
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({ location: 'http://localhost/api/runs/run-1' });
    expect(response.jsonBody).toMatchObject({
      id: 'run-1',
      status: 'Completed',
      outcome: 'completed',
      workflow: 'research-report',
      output: { title: 'T' },
    });
  });

  it('?wait falls back to the 202 check-status answer when the run is still going', async () => {
    const fake = fakeClient([status({})]);
    const response = (await start(fake.client)(
      post('research-report', topic, { query: '?wait=1' }),
      context(),
    )) as HttpResponseInit;
    expect(response.status).toBe(202);
    expect(response.jsonBody).toMatchObject({ runUrl: 'http://localhost/api/runs/run-1' });
    expect(fake.polls()).toBeGreaterThan(1);
  });

  it('recognizes JSON media types, wait values and run URLs', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/merge-patch+json')).toBe(true);
    expect(isJsonContentType('text/json')).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
    expect(parseWait(null, 60)).toBe(0);
    expect(parseWait('30', 60)).toBe(30);
    expect(parseWait('1.5', 60)).toEqual(expect.stringContaining('whole number'));
    expect(parseWait('-1', 60)).toEqual(expect.stringContaining('whole number'));
    expect(runUrlFor('https://app.example/api/workflows/x?code=secret&wait=3', 'a b')).toBe(
      'https://app.example/api/runs/a%20b',
    );
  });
});

describe('GET /api/runs/{id}', () => {
  const get = (id: string) =>
    new HttpRequest({ method: 'GET', url: `http://localhost/api/runs/${id}`, params: { id } });
  const view = async (s: DurableOrchestrationStatus) =>
    (
      (await createGetRun({ getClient: () => fakeClient([s]).client })(
        get('run-1'),
        context(),
      )) as HttpResponseInit
    ).jsonBody as Record<string, unknown>;

  it('shows a running run: workflow and version, progress, ledger totals so far', async () => {
    const progress: RunProgress = {
      workflow: 'research-report',
      version: '1.0.0',
      step: 'research',
      stepIndex: 1,
      stepCount: 4,
      map: { stepId: 'research', done: 2, total: 4 },
      usage,
      costUsd: 0.25,
    };
    expect(await view(status({ customStatus: progress }))).toEqual({
      id: 'run-1',
      orchestrator: Names.orchestrators.runWorkflow,
      workflow: 'research-report',
      version: '1.0.0',
      status: 'Running',
      outcome: null,
      progress,
      output: null,
      error: null,
      ledger: { totals: { usage, costUsd: 0.25, cacheHitRate: 0 } },
      artifacts: [],
      callback: null,
      createdTime: '2026-01-01T00:00:00.000Z',
      lastUpdatedTime: '2026-01-01T00:00:05.000Z',
    });
  });

  it('shows the prompt-cache hit rate per ledger row and for the run', async () => {
    const cached = { inputTokens: 200, outputTokens: 50, cacheWriteTokens: 100, cacheReadTokens: 700 };
    const rowOf = (stepId: string, rowUsage: typeof usage) => ({
      stepId,
      role: 'worker',
      provider: 'anthropic' as const,
      deployment: 'claude-haiku-4-5',
      calls: 1,
      usage: rowUsage,
      costUsd: 0.01,
      offline: true,
    });
    const totals = { inputTokens: 210, outputTokens: 55, cacheWriteTokens: 100, cacheReadTokens: 700 };
    const done: RunWorkflowOutput = {
      outcome: 'completed',
      workflow: 'research-report',
      version: '1.0.0',
      output: {},
      ledger: {
        rows: [rowOf('a', cached), rowOf('b', usage)],
        totals: { calls: 2, usage: totals, costUsd: 0.02 },
      },
    };
    const ledger = (await view(status({ runtimeStatus: 'Completed', output: done }))).ledger as {
      rows: { stepId: string; cacheHitRate: number | null }[];
      totals: { cacheHitRate: number | null };
    };
    // 700 ÷ (200 + 100 + 700); the run: 700 ÷ 1,010.
    expect(ledger.rows.map((row) => [row.stepId, row.cacheHitRate])).toEqual([
      ['a', 0.7],
      ['b', 0],
    ]);
    expect(ledger.totals.cacheHitRate).toBe(0.693);
    const empty = {
      ...done,
      ledger: { rows: [], totals: { calls: 0, usage: { ...usage, inputTokens: 0 }, costUsd: 0 } },
    };
    const none = (await view(status({ runtimeStatus: 'Completed', output: empty }))).ledger as {
      totals: { cacheHitRate: number | null };
    };
    expect(none.totals.cacheHitRate).toBeNull();
  });

  it('names the workflow of a run that has not reported progress yet, from its input', async () => {
    const input: RunWorkflowInput = { definition: researchReport, input: {}, workflows: {}, tools: {} };
    expect(await view(status({ runtimeStatus: 'Pending', input }))).toMatchObject({
      workflow: 'research-report',
      version: '1.0.0',
      status: 'Pending',
      progress: null,
      ledger: null,
    });
  });

  it('shows a finished run: output, outcome, the full ledger, and a stopped run’s error', async () => {
    const row = {
      stepId: 'plan',
      role: 'planner',
      provider: 'foundry' as const,
      deployment: 'claude-opus-4-8',
      calls: 1,
      usage,
      costUsd: 0.1,
      offline: true,
    };
    const ledger = { rows: [row], totals: { calls: 1, usage, costUsd: 0.1 } };
    const done: RunWorkflowOutput = {
      outcome: 'completed',
      workflow: 'research-report',
      version: '1.0.0',
      output: { title: 'T' },
      ledger,
    };
    expect(await view(status({ runtimeStatus: 'Completed', output: done }))).toMatchObject({
      status: 'Completed',
      outcome: 'completed',
      output: { title: 'T' },
      error: null,
      ledger,
    });

    const stopped: RunWorkflowOutput = {
      ...done,
      outcome: 'budget_exceeded',
      output: null,
      error: { stepId: 'research', kind: 'budget_exceeded', message: 'Spent $5.01 of $5' },
    };
    // As runs of earlier releases ended: Completed with the outcome in the output.
    expect(await view(status({ runtimeStatus: 'Completed', output: stopped }))).toMatchObject({
      outcome: 'budget_exceeded',
      output: null,
      error: { stepId: 'research', kind: 'budget_exceeded' },
      ledger,
    });
    // As runs end now: Failed, with the result in the last custom status.
    const final = { outcome: 'budget_exceeded', error: stopped.error, ledger, artifacts: [] };
    const progress = {
      workflow: 'research-report',
      version: '1.0.0',
      stepIndex: 1,
      stepCount: 3,
      usage,
      costUsd: 0.1,
    };
    expect(
      await view(
        status({
          runtimeStatus: 'Failed',
          customStatus: { ...progress, final },
          output:
            "Orchestrator function 'runWorkflow' failed: Run stopped [outcome=budget_exceeded kind=budget_exceeded step=research]: Spent $5.01 of $5",
        }),
      ),
    ).toMatchObject({
      status: 'Failed',
      outcome: 'budget_exceeded',
      output: null,
      error: { stepId: 'research', kind: 'budget_exceeded', message: 'Spent $5.01 of $5' },
      ledger,
      progress,
      callback: null,
    });

    expect(
      await view(status({ runtimeStatus: 'Failed', output: 'Orchestrator function failed: boom' })),
    ).toMatchObject({
      status: 'Failed',
      error: { kind: 'orchestration_failed', message: 'Orchestrator function failed: boom' },
    });
  });

  it("adds the running page's lanes to a batch's progress, item by item", async () => {
    const batch = {
      name: Names.orchestrators.runBatch,
      instanceId: 'batch-1',
      runtimeStatus: 'Running',
      createdTime: new Date('2026-01-01T00:00:00Z'),
      lastUpdatedTime: new Date('2026-01-01T00:01:00Z'),
      input: null,
      output: null,
      customStatus: {
        kind: 'batch',
        workflow: 'ticket-triage',
        total: 300,
        done: 128,
        succeeded: 126,
        failed: 2,
        costUsd: 1.28,
        outputBlob: 'out/results.jsonl',
        running: { page: 1, lanes: 3 },
      },
    } as unknown as DurableOrchestrationStatus;
    const lanes: Record<string, unknown> = {
      'batch-1:page1:lane0': { kind: 'batchLane', done: 5, failed: 1, costUsd: 0.05 },
      'batch-1:page1:lane1': { kind: 'batchLane', done: 4, failed: 0, costUsd: 0.04 },
      // lane2 has not started yet: the Durable API answers 404.
    };
    const asked: string[] = [];
    const client = {
      getStatus: (id: string) => {
        asked.push(id);
        if (id === 'batch-1') return Promise.resolve(batch);
        if (id in lanes) return Promise.resolve({ instanceId: id, customStatus: lanes[id] });
        return Promise.reject(new Error('Durable Functions extension replied with HTTP 404 response.'));
      },
    } as unknown as DurableClient;
    const response = (await createGetRun({ getClient: () => client })(
      get('batch-1'),
      context(),
    )) as HttpResponseInit;
    expect(asked.sort()).toEqual([
      'batch-1',
      'batch-1:page1:lane0',
      'batch-1:page1:lane1',
      'batch-1:page1:lane2',
    ]);
    expect(response.jsonBody).toMatchObject({
      kind: 'batch',
      status: 'Running',
      progress: { total: 300, done: 137, succeeded: 134, failed: 3 },
      ledger: { totals: { costUsd: expect.closeTo(1.37, 10) as unknown } },
    });
  });

  it('404s an unknown run and rethrows anything else', async () => {
    const response = await createGetRun({ getClient: () => fakeClient([]).client })(get('zzz'), context());
    expect(problemOf(response as HttpResponseInit)).toMatchObject({ status: 404 });

    const broken = {
      getStatus: () => Promise.reject(new Error('HTTP 500')),
    } as unknown as DurableClient;
    await expect(createGetRun({ getClient: () => broken })(get('zzz'), context())).rejects.toThrow(
      'HTTP 500',
    );
  });
});

describe('workflow catalog', () => {
  it('hands a run every definition it calls, transitively', () => {
    const make = (name: string, calls: string[]): WorkflowDefinition => ({
      ...researchReport,
      name,
      steps: [
        {
          id: 'fan',
          kind: 'parallel',
          branches: Object.fromEntries(
            calls.map((workflow, i) => [`b${i}`, { id: `b${i}`, kind: 'workflow', workflow, input: {} }]),
          ),
        },
      ],
    });
    const nested = createWorkflowCatalog(
      new Map([
        ['a', make('a', ['b'])],
        ['b', make('b', ['c', 'c'])],
        ['c', researchReport],
        ['d', researchReport],
      ]),
    );
    expect(Object.keys(nested.referencedBy('a')).sort()).toEqual(['b', 'c']);
    expect(nested.referencedBy('c')).toEqual({});
    expect(nested.names()).toEqual(['a', 'b', 'c', 'd']);
  });
});
