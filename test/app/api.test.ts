import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/** The real app (dist/src, built by `npm test`) on the local host, driven over HTTP like a business system. */
const appDir = path.resolve(__dirname, '../..');
const sample = readFileSync(path.join(appDir, 'scripts/samples/research-report.json'), 'utf8');

let host: TestHost;

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
});

function post(name: string, body: string, { query = '', headers = {} } = {}) {
  return fetch(`${host.host.url}/api/workflows/${name}${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-functions-key': host.host.keys.functionKey,
      ...headers,
    },
    body,
  });
}

const getRun = (url: string) => fetch(url, { headers: { 'x-functions-key': host.host.keys.functionKey } });

async function followRun(url: string, timeoutMs = 30_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await getRun(url);
    expect(response.status).toBe(200);
    const run = (await response.json()) as RunView;
    if (['Completed', 'Failed', 'Terminated'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run did not finish: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('POST /api/workflows/{name} and GET /api/runs/{id} on the local host', () => {
  it('runs research-report on the offline model: 202 with runUrl, progress, report and ledger', async () => {
    const response = await post('research-report', sample);
    expect(response.status, await response.clone().text()).toBe(202);
    const accepted = (await response.json()) as { id: string; runUrl: string };
    expect(accepted.runUrl).toBe(`${host.host.url}/api/runs/${accepted.id}`);
    expect(response.headers.get('location')).toBe(accepted.runUrl);

    const run = await followRun(accepted.runUrl);
    expect(run).toMatchObject({
      id: accepted.id,
      orchestrator: 'runWorkflow',
      workflow: 'research-report',
      version: '1.0.0',
      status: 'Completed',
      outcome: 'completed',
      error: null,
      progress: { workflow: 'research-report', stepIndex: 4, stepCount: 4 },
    });
    expect(run.output).toMatchObject({
      title: expect.any(String) as unknown,
      sections: expect.any(Array) as unknown,
    });
    const rows = run.ledger?.rows ?? [];
    expect(rows.map((r) => r.stepId)).toEqual(['plan', 'research', 'report']);
    expect(rows.every((r) => r.offline)).toBe(true);
    // Each planned question is an agent that searches once and then answers: two calls each. How many
    // questions the offline planner plans (1 to 16) follows from the request bytes.
    const researchCalls = rows.find((r) => r.stepId === 'research')?.calls ?? 0;
    expect(researchCalls).toBeGreaterThanOrEqual(2);
    expect(researchCalls % 2).toBe(0);
    expect(run.ledger?.totals.calls).toBe(researchCalls + 2);
    expect(run.ledger?.totals.costUsd).toBeGreaterThan(0);
  });

  it('shows a run waiting for approval in its progress, and completes it when the event arrives', async () => {
    const body = JSON.stringify({ topic: 'Approval flows', questions: 1, requireApproval: true });
    const response = await post('research-report', body);
    expect(response.status).toBe(202);
    const check = (await response.json()) as { runUrl: string; approveUrl: string };
    const deadline = Date.now() + 30_000;
    let waiting: RunView;
    for (;;) {
      waiting = (await (await getRun(check.runUrl)).json()) as RunView;
      if (waiting.progress?.waitingFor || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(waiting).toMatchObject({
      status: 'Running',
      progress: { step: 'review', waitingFor: { event: 'review' } },
      ledger: { totals: { costUsd: expect.any(Number) as unknown } },
    });
    expect(waiting.ledger?.rows).toBeUndefined();
    // The caller's own approve route from the 202 (function key), not the Durable sendEventPostUri.
    const raised = await fetch(check.approveUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify({ comment: 'ok' }),
    });
    expect(raised.status, await raised.clone().text()).toBe(202);
    expect(await followRun(check.runUrl)).toMatchObject({ status: 'Completed', outcome: 'completed' });
  });

  it('answers ?wait with the finished run view', async () => {
    const response = await post(
      'ticket-triage',
      JSON.stringify({ subject: 'Refund', body: 'Charged twice.' }),
      {
        query: '?wait=30',
      },
    );
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    expect(run).toMatchObject({ workflow: 'ticket-triage', status: 'Completed', outcome: 'completed' });
    expect(response.headers.get('location')).toBe(`${host.host.url}/api/runs/${run.id}`);
  });

  it('rejects bad requests with problem details before starting anything', async () => {
    const invalid = await post(
      'research-report',
      JSON.stringify({ topic: 'ab', questions: 0, colour: 'red' }),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await invalid.json()) as { errors: { pointer: string; detail: string }[] };
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(['/colour', '/questions', '/topic']);

    expect(
      (await post('research-report', sample, { headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    const tooBig = await post('research-report', JSON.stringify({ topic: 'x'.repeat(1024 * 1024 + 10) }));
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { type: string }).type).toBe(
      'urn:durable-agents:problem:body-too-large',
    );

    const unknown = await post('nope', sample);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain(
      'data-analysis, document-intake, research-report, ticket-triage',
    );

    expect((await getRun(`${host.host.url}/api/runs/does-not-exist`)).status).toBe(404);
  });

  it('requires the function key', async () => {
    const response = await fetch(`${host.host.url}/api/workflows/research-report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sample,
    });
    expect(response.status).toBe(401);
  });
});
