import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckStatusPayload, OrchestrationStatus } from '../support/hostClient.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/** The real app (dist/src, built by `npm test`) on the local host, driven over HTTP like a business system. */
const appDir = join(__dirname, '../..');
const sample = readFileSync(join(appDir, 'scripts/samples/document-digest.json'), 'utf8');

async function startWorkflow(host: TestHost, body: string, query = '', headers: Record<string, string> = {}) {
  return fetch(`${host.host.url}/api/workflows/document-digest${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-functions-key': host.host.keys.functionKey,
      ...headers,
    },
    body,
  });
}

async function accepted(response: Response): Promise<CheckStatusPayload> {
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as CheckStatusPayload;
}

const step = (s: OrchestrationStatus) => (s.customStatus as { step?: string } | null)?.step;

describe('document-digest on the local host', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ appDir });
  });

  afterAll(async () => {
    await host?.stop();
  });

  it('runs a document to a digest and reports progress', async () => {
    const check = await accepted(await startWorkflow(host, sample));
    const status = await host.client.waitFor(check);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.customStatus).toEqual({ step: 'done', done: 4, total: 4 });
    expect(status.output).toMatchObject({
      digest: { title: 'Why durable workflows', paragraphCount: 4, outline: expect.any(Array) as unknown },
      approval: { status: 'not-required' },
    });

    const run = await fetch(`${host.host.url}/api/runs/${check.id}`, {
      headers: { 'x-functions-key': host.host.keys.functionKey },
    });
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ instanceId: check.id, runtimeStatus: 'Completed' });
  });

  it('answers with the output when ?wait is long enough', async () => {
    const response = await startWorkflow(host, sample, '?wait=20');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ digest: { paragraphCount: 4 } });
  });

  it('waits for approval and completes when it arrives', async () => {
    const body = JSON.stringify({
      title: 'Memo',
      paragraphs: ['Ship it.'],
      approval: { required: true, timeout: 'P1D' },
    });
    const check = await accepted(await startWorkflow(host, body));
    await host.client.waitFor(check, (s) => step(s) === 'awaiting-approval');
    const raised = await host.client.raiseEvent(check, 'approval', { approved: true, by: 'ana' });
    expect(raised.status).toBeLessThan(300);
    const status = await host.client.waitFor(check);
    expect(status.output).toMatchObject({ approval: { status: 'approved', by: 'ana' } });
  });

  it('times out an approval nobody gives', async () => {
    // Its own host, which jumps durable time to the next timer whenever nothing else can run.
    const idleSkipping = await startTestHost({ appDir, skipIdleTime: true });
    try {
      const body = JSON.stringify({
        title: 'Memo',
        paragraphs: ['Wait.'],
        approval: { required: true, timeout: 'P7D' },
      });
      const status = await idleSkipping.client.waitFor(
        await accepted(await startWorkflow(idleSkipping, body)),
      );
      expect(status.output).toMatchObject({ approval: { status: 'timed-out' } });
    } finally {
      await idleSkipping.stop();
    }
  });

  it('rejects bad requests with problem details before starting anything', async () => {
    const invalid = await startWorkflow(host, JSON.stringify({ title: 'x', paragraphs: [] }));
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    expect(await invalid.json()).toMatchObject({ errors: [{ pointer: '/paragraphs' }] });

    const wrongType = await startWorkflow(host, sample, '', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);

    const unknown = await fetch(`${host.host.url}/api/workflows/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: sample,
    });
    expect(unknown.status).toBe(404);

    const missingRun = await fetch(`${host.host.url}/api/runs/does-not-exist`, {
      headers: { 'x-functions-key': host.host.keys.functionKey },
    });
    expect(missingRun.status).toBe(404);
  });

  it('requires the function key', async () => {
    const response = await fetch(`${host.host.url}/api/workflows/document-digest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sample,
    });
    expect(response.status).toBe(401);
  });
});
