import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src/shared/operatorTypes.js';
import { eventually, operatorApi } from '../operator/operatorClient.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * The business callers' own action routes on the built app on the local host: the 202 names them, they take
 * the function key (not the system or master key), act on workflow runs only, and every action is in the
 * audit log with the caller.
 */
const appDir = path.resolve(__dirname, '../..');
const TOPIC = { topic: 'Durable execution for agents', questions: 2, requireApproval: true };

let host: TestHost;
let api: ReturnType<typeof operatorApi>;

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
  api = operatorApi(host);
});

afterAll(async () => {
  await host?.stop();
});

interface Accepted {
  id: string;
  runUrl: string;
  approveUrl: string;
  rejectUrl: string;
  cancelUrl: string;
}

async function startReview(): Promise<Accepted> {
  const response = await fetch(`${host.host.url}/api/workflows/research-report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(TOPIC),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  const accepted = (await response.json()) as Accepted;
  await eventually(async () => {
    const run = await api.json<RunDetail>(`runs/${accepted.id}`);
    return run.waitingFor ? run : undefined;
  }, `run ${accepted.id} to wait for approval`);
  return accepted;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}, key?: string | null) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { 'x-functions-key': key ?? host.host.keys.functionKey }),
      ...headers,
    },
    body: JSON.stringify(body),
  });

const finished = (id: string) =>
  eventually(async () => {
    const run = await api.json<RunDetail>(`runs/${id}`);
    return ['Completed', 'Failed', 'Terminated'].includes(run.status) ? run : undefined;
  }, `run ${id} to finish`);

describe('POST /api/runs/{id}/approve|reject|cancel (function key)', () => {
  it('approve: the run completes, the decision and the audit name the caller (its key scope), via business', async () => {
    const run = await startReview();
    const response = await post(run.approveUrl, { comment: 'fine by finance' });
    expect(response.status, await response.clone().text()).toBe(202);
    expect(await response.json()).toEqual({ id: run.id, action: 'approve' });
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: 'Completed', outcome: 'completed' });
    const by = done.approvals[0]?.by ?? '';
    expect(by).toMatch(/^key:[0-9a-f]{16}$/);
    expect(by).not.toContain(host.host.keys.functionKey);
    expect(done.actions).toMatchObject([
      { runId: run.id, action: 'approve', by, via: 'business', comment: 'fine by finance', event: 'review' },
    ]);
    expect((await post(run.approveUrl, {})).status).toBe(409);
  });

  it('reject names the App Service principal; cancel terminates and is recorded with its reason', async () => {
    const rejected = await startReview();
    const response = await post(
      rejected.rejectUrl,
      { comment: 'not this quarter' },
      { 'x-ms-client-principal-name': 'erp@contoso.com' },
    );
    expect(response.status, await response.clone().text()).toBe(202);
    const failed = await finished(rejected.id);
    expect(failed).toMatchObject({
      status: 'Failed',
      outcome: 'rejected',
      error: { kind: 'approval_rejected' },
    });
    expect(failed.actions).toMatchObject([{ action: 'reject', by: 'erp@contoso.com', via: 'business' }]);

    const canceled = await startReview();
    const cancel = await post(canceled.cancelUrl, { reason: 'order withdrawn' });
    expect(cancel.status, await cancel.clone().text()).toBe(202);
    expect(await cancel.json()).toEqual({ id: canceled.id, action: 'terminate' });
    const terminated = await finished(canceled.id);
    expect(terminated.status).toBe('Terminated');
    expect(terminated.actions).toMatchObject([
      { action: 'terminate', reason: 'order withdrawn', via: 'business' },
    ]);
  });

  it('needs the function key, knows only its three actions, and acts on workflow runs only', async () => {
    const run = await startReview();
    expect((await post(run.cancelUrl, {}, {}, null)).status).toBe(401);
    const unknown = await post(`${run.runUrl}/rewind`, {});
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toBe(
      'No action "rewind" on runs; use approve, reject, cancel.',
    );
    const child = await post(
      `${host.host.url}/api/runs/${encodeURIComponent(`${run.id}:research:0`)}/cancel`,
      {},
    );
    expect(child.status).toBe(404);
    const badBody = await post(run.approveUrl, { comment: 7 });
    expect(badBody.status).toBe(400);
    expect((await post(run.cancelUrl, {})).status).toBe(202);
    await finished(run.id);
  });
});
