import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import {
  errorResponse,
  startScriptedModel,
  structuredResponse,
  type RecordedModelRequest,
  type ScriptedModel,
} from '../support/scriptedModel.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * Model faults end to end: retryable failures (429 with retry-after, 529, 500, a stall past the SDK
 * timeout, malformed bodies) are waited out on durable timers and retried; a 400 is not retried; an
 * exhausted primary falls back to the next deployment. skipIdleTime makes the durable waits instant.
 */
const appDir = path.resolve(__dirname, '../..');
let host: TestHost;
let model: ScriptedModel;
let faultsOn = false;
let requestNumber = 0;

const mentions = (text: string) => (request: RecordedModelRequest) =>
  JSON.stringify(request.body).includes(text);

beforeAll(async () => {
  // Requests while faults are on are numbered; the numbered ones get one fault of each kind, the
  // rest are malformed with probability 0.2 (seeded, so a failure replays).
  const scheduled = {
    2: 'rate_limited',
    4: 'overloaded',
    6: 'server_error',
    8: 'timeout',
    10: 'missing_fields',
  } as const;
  const at = (n: keyof typeof scheduled) => () => faultsOn && requestNumber === n;
  model = await startScriptedModel({
    ordered: false,
    unexpected: 'offline',
    faults: [
      { fault: 'malformed', match: () => (faultsOn && (requestNumber += 1), false) },
      { fault: scheduled[2], everyNth: 1, retryAfterSeconds: 20, match: at(2) },
      { fault: scheduled[4], everyNth: 1, match: at(4) },
      { fault: scheduled[6], everyNth: 1, match: at(6) },
      { fault: scheduled[8], everyNth: 1, stallMs: 3_000, match: at(8) },
      { fault: scheduled[10], everyNth: 1, match: at(10) },
      {
        fault: 'malformed',
        probability: 0.2,
        seed: 7,
        match: () => faultsOn && !(requestNumber in scheduled),
      },
    ],
  });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    FOUNDRY_BASE_URL: model.foundryBaseUrl,
    FOUNDRY_API_KEY: 'test-foundry-key',
    AZURE_OPENAI_ENDPOINT: model.url,
    AZURE_OPENAI_API_KEY: 'test-azure-openai-key',
    MODEL_TIMEOUT_SECONDS: '1',
    MODEL_ROLE_WORKER_FALLBACK: 'planner',
  });
  host = await startTestHost({ appDir, skipIdleTime: true });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
});

async function start(name: string, input: unknown): Promise<string> {
  const response = await fetch(`${host.host.url}/api/workflows/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(input),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function finished(id: string, timeoutMs = 60_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${host.host.url}/api/runs/${id}`, {
      headers: { 'x-functions-key': host.host.keys.functionKey },
    });
    const run = (await response.json()) as RunView;
    if (['Completed', 'Failed', 'Terminated'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('model faults on the local host', () => {
  it('completes every run through 429s, 529s, 500s, stalls and 20% malformed bodies', async () => {
    faultsOn = true;
    const before = model.requests.length;
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        start('ticket-triage', { subject: `Ticket ${i}`, body: `Something about case ${i} is not working.` }),
      ),
    );
    const runs = await Promise.all(ids.map((id) => finished(id)));
    faultsOn = false;
    for (const run of runs)
      expect(run, JSON.stringify(run.error)).toMatchObject({ status: 'Completed', outcome: 'completed' });
    const calls = runs.reduce((sum, run) => sum + (run.ledger?.totals.calls ?? 0), 0);
    expect(requestNumber).toBeGreaterThan(10);
    expect(model.faultsInjected).toBeGreaterThanOrEqual(6);
    // Every injected fault cost a request that the ledger does not count as a call.
    expect(model.requests.length - before).toBeGreaterThan(calls);
  });

  it('does not retry a 400 and fails the step with the typed error', async () => {
    model.expect({
      name: 'classify gets 400',
      match: mentions('BAD-REQUEST-TICKET'),
      respond: errorResponse(400, { message: 'messages: text content blocks must be non-empty' }),
    });
    const id = await start('ticket-triage', { subject: 'BAD-REQUEST-TICKET', body: 'x' });
    const run = await finished(id);
    model.assertDone();
    expect(run).toMatchObject({
      status: 'Failed',
      outcome: 'failed',
      error: { stepId: 'classify', kind: 'bad_request' },
    });
    expect(model.requests.filter(mentions('BAD-REQUEST-TICKET'))).toHaveLength(1);
  });

  it('falls back to the next deployment when the primary stays overloaded', async () => {
    const overloaded = {
      match: (r: RecordedModelRequest) =>
        r.view?.model === 'claude-opus-4-8' && mentions('FALLBACK-TICKET')(r),
      respond: errorResponse(529, { retryAfterSeconds: 5, message: 'Overloaded' }),
    };
    const escalated = { category: 'outage', priority: 'urgent', confidence: 0.9, summary: 'Down.' };
    model.expect(
      {
        name: 'classify, unsure',
        match: (r) => r.view?.model === 'claude-haiku-4-5' && mentions('FALLBACK-TICKET')(r),
        respond: structuredResponse({
          category: 'bug',
          priority: 'normal',
          confidence: 0.3,
          summary: 'Unclear.',
        }),
      },
      { name: 'planner 529 #1', ...overloaded },
      { name: 'planner 529 #2', ...overloaded },
      { name: 'planner 529 #3', ...overloaded },
      { name: 'planner 529 #4', ...overloaded },
      {
        name: 'writer takes over',
        match: (r) => r.view?.model === 'gpt-5.4' && mentions('FALLBACK-TICKET')(r),
        respond: structuredResponse(escalated),
      },
    );
    const id = await start('ticket-triage', { subject: 'FALLBACK-TICKET', body: 'Everything is down.' });
    const run = await finished(id);
    model.assertDone();
    expect(run).toMatchObject({ outcome: 'completed', output: { triage: escalated, escalated: true } });
    expect(run.ledger?.rows?.find((r) => r.stepId === 'escalate')).toMatchObject({
      provider: 'azure-openai',
      deployment: 'gpt-5.4',
      calls: 1,
    });
  });

  it('times out a one-day approval in well under a second of real time', async () => {
    const started = performance.now();
    const id = await start('research-report', { topic: 'Approvals', questions: 1, requireApproval: true });
    const run = await finished(id);
    const elapsedMs = performance.now() - started;
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed' });
    expect(elapsedMs).toBeLessThan(1_000);
    // The run really waited out a durable timer one day past its start.
    const status = (await (
      await fetch(`${host.host.url}/durabletask/instances/${id}?showHistory=true`)
    ).json()) as {
      createdTime: string;
      historyEvents: { EventType: string; FireAt?: string }[];
    };
    const fired = status.historyEvents.filter((e) => e.EventType === 'TimerFired');
    const longest = Math.max(
      ...fired.map((e) => Date.parse(e.FireAt ?? '') - Date.parse(status.createdTime)),
    );
    expect(longest).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
  });
});
