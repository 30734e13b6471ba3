import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { credentialFingerprint } from '../../src/offline/offlineModelServer.js';
import {
  batchResponse,
  errorResponse,
  startScriptedModel,
  structuredResponse,
  unprocessedResponse,
  type RecordedModelRequest,
  type ScriptStep,
  type ScriptedModel,
} from '../support/scriptedModel.js';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

/**
 * `batch: true` map steps end to end on the local host: the real SDK clients submit one provider
 * batch to the scripted model (Message Batches on the Claude API, Files + Batch on Azure OpenAI),
 * the run waits on durable timers (skipIdleTime makes them instant) and maps the results back.
 */
const appDir = path.resolve(__dirname, '../..');
const workflowsDir = fixtureApp('model-batch-workflows');
const ANTHROPIC_KEY = 'sk-ant-e2e-batch-key-0123456789';
const AZURE_KEY = 'aoai-e2e-batch-key-0123456789';
const CATEGORIES = ['billing', 'bug', 'other'] as const;
const USAGE = { inputTokens: 500, outputTokens: 40 };

let host: TestHost;
let model: ScriptedModel;

beforeAll(async () => {
  model = await startScriptedModel({ ordered: false });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    WORKFLOWS_DIR: workflowsDir,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
    AZURE_OPENAI_ENDPOINT: model.url,
    AZURE_OPENAI_API_KEY: AZURE_KEY,
    // Global Batch deployments take only batch jobs, so batch steps get a role of their own.
    MODEL_ROLE_BULK: 'azure-openai:gpt-5-mini-batch',
    MODEL_PRICES_JSON: JSON.stringify({ 'gpt-5-mini-batch': { input: 0.25, output: 2 } }),
  });
  host = await startTestHost({ appDir, skipIdleTime: true });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
});

async function run(workflow: string, tickets: string[]): Promise<RunView> {
  const response = await fetch(`${host.host.url}/api/workflows/${workflow}?wait=60`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify({ tickets }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as RunView;
}

interface InstanceStatus {
  input: { options?: unknown };
  historyEvents: { EventType: string; Name?: string }[];
}

async function instance(id: string): Promise<InstanceStatus> {
  const response = await fetch(
    `${host.host.url}/durabletask/instances/${id}?showHistory=true&showInput=true`,
  );
  return (await response.json()) as InstanceStatus;
}

const ticketsFor = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix} ticket ${i}: ${CATEGORIES[i % 3]} trouble`);

/** One script step per ticket, answering its own index, so a mix-up of custom ids shows in the output. */
function itemSteps(tickets: string[], respond?: (index: number) => ScriptStep['respond'] | undefined) {
  return tickets.map((ticket, index): ScriptStep => ({
    name: `item ${index}`,
    match: { inBatch: true, lastUserText: `Ticket ${index}: ${ticket}` },
    respond:
      respond?.(index) ?? structuredResponse({ ticket: index, category: CATEGORIES[index % 3] }, USAGE),
  }));
}

const expectedOutput = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ ticket: i, category: CATEGORIES[i % 3] }));
const since = (start: number) => model.requests.slice(start);
const directCalls = (requests: readonly RecordedModelRequest[]) =>
  requests.filter((r) => /\/(messages|chat\/completions)$/.test(r.path));

describe('batch: true map steps on the local host', () => {
  it('classifies 40 tickets in one Message Batch, polled on durable timers, at half price', async () => {
    const tickets = ticketsFor('anthropic', 40);
    const start = model.requests.length;
    model.expect(
      { name: 'create', match: { path: '/v1/messages/batches' }, respond: batchResponse(2) },
      ...itemSteps(tickets),
    );
    const view = await run('classify-tickets', tickets);
    model.assertDone();
    expect(view).toMatchObject({ status: 'Completed', outcome: 'completed' });
    expect(view.output).toEqual(expectedOutput(40));

    const requests = since(start);
    expect(requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches')).toHaveLength(1);
    expect(directCalls(requests)).toEqual([]);
    const create = requests.find((r) => r.path === '/v1/messages/batches');
    expect(create?.credential?.fingerprint).toBe(credentialFingerprint(ANTHROPIC_KEY));
    expect((create?.body as { requests: { custom_id: string }[] }).requests.map((r) => r.custom_id)).toEqual(
      tickets.map((_, i) => `classify-${i}`),
    );
    // Two in-progress polls and the one that saw it end, each after a durable timer.
    const polls = requests.filter(
      (r) => r.method === 'GET' && /^\/v1\/messages\/batches\/[^/]+$/.test(r.path),
    );
    expect(polls.length).toBeGreaterThanOrEqual(3);
    const { input, historyEvents: history } = await instance(view.id);
    expect(history.filter((e) => e.EventType === 'TimerFired').length).toBeGreaterThanOrEqual(3);
    expect(history.filter((e) => e.EventType === 'TaskScheduled' && e.Name === 'callModel')).toEqual([]);
    // The polling settings (here the defaults) travel in the run's input.
    expect(input.options).toEqual({
      modelBatch: { initialPollMs: 30_000, maxPollMs: 600_000, maxWaitMs: 86_400_000 },
    });

    // Haiku 4.5 is $1 / $5 per million tokens; the batch bills half.
    const standardUsd = 40 * ((USAGE.inputTokens * 1 + USAGE.outputTokens * 5) / 1_000_000);
    expect(view.ledger?.rows).toEqual([
      {
        stepId: 'classify',
        role: 'worker',
        provider: 'anthropic',
        deployment: 'claude-haiku-4-5',
        calls: 40,
        usage: { inputTokens: 40 * 500, outputTokens: 40 * 40, cacheWriteTokens: 0, cacheReadTokens: 0 },
        costUsd: expect.closeTo(standardUsd / 2, 10) as number,
        offline: false,
        batch: true,
        cacheHitRate: 0,
      },
    ]);
    expect(view.ledger?.totals.costUsd).toBeCloseTo(standardUsd / 2, 10);
  });

  it('sends the batch to the Azure OpenAI Global Batch deployment as an uploaded JSONL file', async () => {
    const tickets = ticketsFor('azure', 40);
    const start = model.requests.length;
    const firstItem = model.batchItems.length;
    model.expect(
      { name: 'create', match: { path: '/openai/v1/batches' }, respond: batchResponse(1) },
      ...itemSteps(tickets),
    );
    const view = await run('classify-tickets-azure', tickets);
    model.assertDone();
    expect(view).toMatchObject({ status: 'Completed', outcome: 'completed', output: expectedOutput(40) });

    const requests = since(start);
    expect(directCalls(requests)).toEqual([]);
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      '/openai/v1/files',
      '/openai/v1/batches',
    ]);
    expect(requests.find((r) => r.path === '/openai/v1/batches')?.body).toMatchObject({
      endpoint: '/chat/completions',
      completion_window: '24h',
    });
    expect(requests.some((r) => /^\/openai\/v1\/files\/[^/]+\/content$/.test(r.path))).toBe(true);
    // Collected, then the input and output files are deleted (no error file: nothing failed).
    const inputFile = (
      requests.find((r) => r.path === '/openai/v1/batches')?.body as { input_file_id: string }
    ).input_file_id;
    const deleted = requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deleted).toEqual([
      `/openai/v1/files/${inputFile}`,
      expect.stringMatching(/^\/openai\/v1\/files\//),
    ]);
    for (const request of requests) {
      expect(request.credential?.fingerprint).toBe(credentialFingerprint(AZURE_KEY));
      expect(JSON.stringify(request.headers)).not.toContain(AZURE_KEY);
    }
    // Every JSONL line targets the Global Batch deployment with the Chat Completions body.
    const items = model.batchItems.slice(firstItem);
    expect(items).toHaveLength(40);
    expect(new Set(items.map((item) => `${item.path} ${item.view?.model}`))).toEqual(
      new Set(['/chat/completions gpt-5-mini-batch']),
    );
    expect((items[0]?.body as { max_completion_tokens?: number }).max_completion_tokens).toBe(200);

    const standardUsd = 40 * ((USAGE.inputTokens * 0.25 + USAGE.outputTokens * 2) / 1_000_000);
    expect(view.ledger?.rows).toEqual([
      expect.objectContaining({
        stepId: 'classify',
        role: 'bulk',
        provider: 'azure-openai',
        deployment: 'gpt-5-mini-batch',
        calls: 40,
        batch: true,
      }),
    ]);
    expect(view.ledger?.totals.costUsd).toBeCloseTo(standardUsd / 2, 10);
    const { historyEvents: history } = await instance(view.id);
    expect(history.filter((e) => e.EventType === 'TimerFired').length).toBeGreaterThanOrEqual(2);
  });

  it('shows the waiting batch in the run’s progress', async () => {
    const tickets = ticketsFor('progress', 3);
    model.expect(
      { name: 'create', match: { path: '/v1/messages/batches' }, respond: batchResponse(40) },
      ...itemSteps(tickets),
    );
    const started = await fetch(`${host.host.url}/api/workflows/classify-tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify({ tickets }),
    });
    const { id } = (await started.json()) as { id: string };
    const seen: NonNullable<RunView['progress']>['batch'][] = [];
    for (let view: RunView | undefined; view?.status !== 'Completed';) {
      const response = await fetch(`${host.host.url}/api/runs/${id}`, {
        headers: { 'x-functions-key': host.host.keys.functionKey },
      });
      view = (await response.json()) as RunView;
      if (view.progress?.batch) seen.push(view.progress.batch);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    model.assertDone();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({
      stepId: 'classify',
      provider: 'anthropic',
      batchIds: [expect.stringMatching(/^msgbatch_offline_/)],
      total: 3,
      processing: 3,
    });
  });

  it('re-sends rate-limited and expired requests as a follow-up batch and completes', async () => {
    const tickets = ticketsFor('resent', 4);
    model.expect(
      { name: 'create', match: { path: '/v1/messages/batches' }, respond: batchResponse(0) },
      ...itemSteps(tickets, (index) =>
        index === 1
          ? errorResponse(429, { message: 'rate limited' })
          : index === 2
            ? unprocessedResponse('expired')
            : undefined,
      ),
      { name: 'follow-up', match: { path: '/v1/messages/batches' }, respond: batchResponse(0) },
      ...itemSteps(tickets).filter((_, index) => index === 1 || index === 2),
    );
    const firstItem = model.batchItems.length;
    const view = await run('classify-tickets', tickets);
    model.assertDone();
    expect(view).toMatchObject({ status: 'Completed', outcome: 'completed', output: expectedOutput(4) });
    const batches = model.batchItems.slice(firstItem).map((item) => item.batch);
    const sent = new Map<string, string[]>();
    for (const batch of batches)
      sent.set(batch?.id ?? '', [...(sent.get(batch?.id ?? '') ?? []), batch?.customId ?? '']);
    expect([...sent.values()]).toEqual([
      ['classify-0', 'classify-1', 'classify-2', 'classify-3'],
      ['classify-1', 'classify-2'],
    ]);
    // Four answers, each booked once at the batch price.
    expect(view.ledger?.rows).toEqual([
      expect.objectContaining({ stepId: 'classify', calls: 4, batch: true }),
    ]);
  });

  it('fails the run on an errored request as a failed map item would, with the answers still booked', async () => {
    const tickets = ticketsFor('errored', 5);
    model.expect(
      { name: 'create', match: { path: '/v1/messages/batches' }, respond: batchResponse(0) },
      ...itemSteps(tickets, (index) =>
        index === 3 ? errorResponse(400, { message: 'prompt contains an invalid image' }) : undefined,
      ),
    );
    const view = await run('classify-tickets', tickets);
    model.assertDone();
    expect(view).toMatchObject({
      status: 'Failed',
      outcome: 'failed',
      error: {
        stepId: 'classify:3',
        kind: 'bad_request',
        message: 'anthropic/claude-haiku-4-5: prompt contains an invalid image',
      },
    });
    expect(view.ledger?.rows).toEqual([
      expect.objectContaining({ stepId: 'classify', calls: 4, batch: true }),
    ]);
  });
});

describe('npm start with batch: true steps on Microsoft Foundry', () => {
  it('refuses to start, naming each file:line, the step and that Foundry has no batch API', () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AzureWebJobsStorage: process.env.AzureWebJobsStorage,
      WORKFLOWS_DIR: workflowsDir,
      FOUNDRY_BASE_URL: 'http://127.0.0.1:9/anthropic/',
      FOUNDRY_API_KEY: 'foundry-key-never-printed-0123',
      MODEL_ROLE_BULK: 'foundry:claude-haiku-4-5',
      DEVHOST_LOG_LEVEL: 'error',
    };
    const result = spawnSync(
      process.execPath,
      [
        path.join(appDir, 'dist/devhost/cli.js'),
        'start',
        '--app',
        appDir,
        '--port',
        '0',
        '--no-azurite',
        '--state',
        path.join(host.stateDir, 'foundry-start'),
      ],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('have 2 errors; the app will not start until they are fixed');
    for (const [file, role] of [
      ['classify-tickets', 'worker'],
      ['classify-tickets-azure', 'bulk'],
    ] as const) {
      expect(result.stderr).toMatch(
        new RegExp(
          `/${file}\\.yaml:\\d+:\\d+ steps\\[0\\]\\.step\\.batch: step "one" has batch: true, but role "${role}" ` +
            'runs on foundry:claude-haiku-4-5, and Microsoft Foundry has no batch API',
        ),
      );
    }
    expect(result.stderr).not.toContain('foundry-key-never-printed');
  });
});
