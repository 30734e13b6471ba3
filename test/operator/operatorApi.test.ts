import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionAccepted, RunDetail, RunList, RunSummary } from '../../src/shared/operatorTypes.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { eventually, operatorApi, startWorkflow, type OperatorCall } from './operatorClient.js';

/** The operator API of the built app on the local host, with the offline model. */
const appDir = path.resolve(__dirname, '../..');
const TOPIC = { topic: 'Durable execution for agents', questions: 2 };

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

const detail = (id: string, query = '') => api.json<RunDetail>(`runs/${encodeURIComponent(id)}${query}`);
const act = (id: string, action: string, body: unknown = {}, headers: Record<string, string> = {}) =>
  api.call(`runs/${encodeURIComponent(id)}/${action}`, { body, headers });

async function finished(id: string): Promise<RunDetail> {
  return eventually(async () => {
    const run = await detail(id);
    return ['Completed', 'Failed', 'Terminated'].includes(run.status) ? run : undefined;
  }, `run ${id} to finish`);
}

async function waitingForApproval(id: string): Promise<RunDetail> {
  return eventually(async () => {
    const run = await detail(id);
    return run.waitingFor ? run : undefined;
  }, `run ${id} to wait for approval`);
}

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as {
    status: number;
    detail?: string;
    errors?: { parameter?: string; pointer?: string }[];
  };
}

describe('operator API: listing and run detail', () => {
  let triage: string;
  let review: string;

  beforeAll(async () => {
    triage = await startWorkflow(host, 'ticket-triage', { subject: 'Refund', body: 'Charged twice.' });
    review = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await finished(triage);
    await waitingForApproval(review);
  });

  it('lists top-level runs with workflow, status, progress, cost and what they wait for', async () => {
    const { runs } = await api.json<RunList>('runs');
    expect(runs.every((run) => !run.id.includes(':'))).toBe(true);
    const byId = new Map(runs.map((run) => [run.id, run]));
    expect(byId.get(triage)).toMatchObject({
      workflow: 'ticket-triage',
      version: '1.0.0',
      status: 'Completed',
      outcome: 'completed',
    });
    expect(byId.get(triage)?.costUsd).toBeGreaterThan(0);
    expect(byId.get(review)).toMatchObject({
      workflow: 'research-report',
      status: 'Running',
      progress: { step: 'review', stepIndex: 3, stepCount: 4 },
      waitingFor: { event: 'review' },
    });
    expect(byId.get(review)?.waitingFor?.message).toContain('ready for review');
  });

  it('filters by workflow, status and id prefix, and includes sub-orchestrations only with all=true', async () => {
    const triageOnly = await api.json<RunList>('runs?workflow=ticket-triage');
    expect(triageOnly.runs.map((r) => r.workflow)).not.toContain('research-report');
    expect(triageOnly.runs.map((r) => r.id)).toContain(triage);

    const running = await api.json<RunList>('runs?status=running,Suspended');
    expect(running.runs.map((r) => r.id)).toContain(review);
    expect(running.runs.map((r) => r.id)).not.toContain(triage);

    const byPrefix = await api.json<RunList>(`runs?idPrefix=${review.slice(0, 12)}`);
    expect(byPrefix.runs.map((r) => r.id)).toEqual([review]);

    const everything = await api.json<RunList>(`runs?idPrefix=${review.slice(0, 12)}&all=true`);
    expect(everything.runs.map((r) => r.id)).toContain(`${review}:research:0`);
  });

  it('pages with a continuation token: every run once, in pages of the asked size', async () => {
    const all = (await api.json<RunList>('runs?pageSize=200')).runs.map((r) => r.id);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = `runs?pageSize=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`;
      const page = await api.json<RunList>(query);
      expect(page.runs.length).toBeLessThanOrEqual(1);
      seen.push(...page.runs.map((r: RunSummary) => r.id));
      token = page.continuationToken;
      pages += 1;
    } while (token && pages < 50);
    expect(seen).toEqual(all);
  });

  it('shows a run with its step timeline, ledger and redacted input', async () => {
    const run = await detail(review);
    expect(run).toMatchObject({ id: review, workflow: 'research-report', status: 'Running', input: TOPIC });
    expect(run.input).toMatchObject({ requireApproval: true });
    expect(run.timeline.map((step) => [step.stepId, step.kind, step.status])).toEqual([
      ['plan', 'llm', 'completed'],
      ['research', 'map', 'completed'],
      ['report', 'llm', 'completed'],
      ['review', 'approval', 'waiting'],
    ]);
    const [plan, research] = run.timeline;
    expect(plan).toMatchObject({ role: 'planner', retries: 0, toolCalls: 0 });
    expect(plan?.tokens.input).toBeGreaterThan(0);
    const planPrompt =
      (plan?.tokens.input ?? 0) + (plan?.tokens.cacheWrite ?? 0) + (plan?.tokens.cacheRead ?? 0);
    expect(plan?.cacheHitRate).toBe(Math.round(((plan?.tokens.cacheRead ?? 0) / planPrompt) * 1000) / 1000);
    expect(plan?.costUsd).toBeGreaterThan(0);
    expect(plan?.deployments?.length).toBe(1);
    expect(Date.parse(plan?.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(plan?.startedAt ?? ''));
    // The offline worker calls one tool per question, and the offline planner picks how many questions.
    const all = await api.json<RunList>(`runs?idPrefix=${review.slice(0, 12)}&all=true`);
    const researchRuns = all.runs.filter((r) => r.id.startsWith(`${review}:research:`));
    expect(researchRuns.length).toBeGreaterThan(0);
    expect(research).toMatchObject({ role: 'worker', toolCalls: researchRuns.length });
    expect(run.history).toBeUndefined();

    const withHistory = await detail(review, '?history=true');
    expect(
      withHistory.history?.some((e) => (e as { EventType: string }).EventType === 'ExecutionStarted'),
    ).toBe(true);

    const done = await detail(triage);
    expect(done.output).toMatchObject({ triage: { category: expect.any(String) as unknown } });
    expect(done.timeline.every((step) => ['completed', 'skipped'].includes(step.status))).toBe(true);
    const doneLedger = done.ledger as {
      rows: { cacheHitRate: number | null }[];
      totals: { cacheHitRate: number | null };
    };
    expect(doneLedger.rows.length).toBeGreaterThan(0);
    expect(doneLedger.rows.every((row) => typeof row.cacheHitRate === 'number')).toBe(true);
    expect(doneLedger.totals.cacheHitRate).toBeGreaterThanOrEqual(0);
    expect(doneLedger.totals.cacheHitRate).toBeLessThanOrEqual(1);
  });

  it('approves a pending approval: the decision carries who and why, the run completes, the audit shows it', async () => {
    const response = await act(review, 'approve', { comment: 'reads well' }, { 'x-operator-id': 'ana' });
    expect(response.status, await response.clone().text()).toBe(202);
    expect(await response.json()).toEqual({ id: review, action: 'approve' });

    const run = await finished(review);
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed' });
    expect(run.timeline.at(-1)).toMatchObject({ stepId: 'review', status: 'completed' });
    expect(run.approvals).toEqual([
      {
        event: 'review',
        approved: true,
        by: 'ana',
        at: expect.any(String) as unknown,
        comment: 'reads well',
      },
    ]);
    expect(run.actions).toMatchObject([
      { runId: review, action: 'approve', by: 'ana', comment: 'reads well' },
    ]);

    const again = await act(review, 'approve');
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(/not waiting for an approval/);
  });
});

describe('operator API: actions', () => {
  it('rejects a pending approval: the run fails with the reason and who', async () => {
    const id = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await waitingForApproval(id);
    const response = await act(
      id,
      'reject',
      { comment: 'sources too thin' },
      { 'x-ms-client-principal-name': 'bo@contoso.com' },
    );
    expect(response.status).toBe(202);
    const run = await finished(id);
    expect(run).toMatchObject({
      status: 'Failed',
      outcome: 'rejected',
      error: { kind: 'approval_rejected', stepId: 'review' },
    });
    // The timeline and ledger so far stay readable from the run's last custom status.
    expect(run.timeline.map((step) => [step.stepId, step.status])).toContainEqual(['review', 'failed']);
    expect(run.ledger).toMatchObject({ totals: { costUsd: expect.any(Number) as unknown } });
    expect(run.error?.message).toContain('bo@contoso.com');
    expect(run.approvals).toMatchObject([
      { approved: false, by: 'bo@contoso.com', comment: 'sources too thin' },
    ]);
    expect(run.timeline.at(-1)).toMatchObject({ stepId: 'review', status: 'failed' });
  });

  it('suspends, resumes and terminates a run, recording each with its reason', async () => {
    const id = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await waitingForApproval(id);

    expect((await act(id, 'resume')).status).toBe(409);
    expect((await act(id, 'suspend', { reason: 'checking budget' }, { 'x-operator-id': 'cy' })).status).toBe(
      202,
    );
    await eventually(async () => ((await detail(id)).status === 'Suspended' ? true : undefined), 'suspended');
    expect((await act(id, 'resume', {}, { 'x-operator-id': 'cy' })).status).toBe(202);
    await eventually(async () => ((await detail(id)).status === 'Running' ? true : undefined), 'resumed');
    // The client library puts the reason into ?reason= unencoded; the operator API encodes it first.
    const reason = 'not needed & done #1 +2 100%';
    expect((await act(id, 'terminate', { reason })).status).toBe(202);

    const run = await finished(id);
    expect(run.status).toBe('Terminated');
    expect(run.timeline.at(-1)).toMatchObject({
      stepId: 'review',
      status: 'failed',
      error: 'the run was terminated',
    });
    expect(run.actions.map((a) => [a.action, a.by, a.reason])).toEqual([
      ['suspend', 'cy', 'checking budget'],
      ['resume', 'cy', undefined],
      ['terminate', 'anonymous', reason],
    ]);
    // What the Durable runtime recorded as the termination reason, whole (read on the listener).
    const durable = await fetch(
      `${host.host.url}/runtime/webhooks/durabletask/instances/${id}?code=${host.host.keys.systemKey}`,
    );
    expect(((await durable.json()) as { output: unknown }).output).toBe(reason);
    const again = await act(id, 'terminate');
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(/already finished \(Terminated\)/);
  });

  it('restarts a run as a new run from the same input, linked both ways', async () => {
    const original = await startWorkflow(host, 'ticket-triage', {
      subject: 'Login',
      body: 'Cannot sign in.',
    });
    await finished(original);
    const response = await act(original, 'restart', { reason: 'model updated' }, { 'x-operator-id': 'dee' });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as ActionAccepted;
    expect(accepted).toMatchObject({
      id: original,
      action: 'restart',
      newRunId: expect.any(String) as unknown,
    });
    const restarted = await finished(accepted.newRunId ?? '');
    expect(restarted).toMatchObject({ workflow: 'ticket-triage', outcome: 'completed' });
    expect(restarted.input).toEqual({ subject: 'Login', body: 'Cannot sign in.', customerTier: 'standard' });
    expect(restarted.actions).toMatchObject([{ action: 'restart', by: 'dee', restartedFrom: original }]);
    expect((await detail(original)).actions).toMatchObject([
      { action: 'restart', by: 'dee', reason: 'model updated', newRunId: accepted.newRunId },
    ]);
  });

  it('rewinds a failed run: the Durable rewind is accepted, and a rejection replays to the same failure', async () => {
    const id = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await waitingForApproval(id);
    expect((await act(id, 'reject', { comment: 'no' })).status).toBe(202);
    const failed = await finished(id);
    expect(failed).toMatchObject({ status: 'Failed', outcome: 'rejected' });
    const response = await act(id, 'rewind', { reason: 'try again' });
    expect(response.status, await response.clone().text()).toBe(202);
    const replayed = await eventually(async () => {
      const run = await detail(id);
      return run.status === 'Failed' && run.actions.some((a) => a.action === 'rewind') ? run : undefined;
    }, `run ${id} to fail again after the rewind`);
    expect(replayed).toMatchObject({ outcome: 'rejected', error: failed.error });
    expect(replayed.actions.map((a) => a.action)).toEqual(['reject', 'rewind']);
  });

  it('refuses to rewind a run whose orchestration did not fail', async () => {
    const id = await startWorkflow(host, 'ticket-triage', { subject: 'x', body: 'y' });
    await finished(id);
    const response = await act(id, 'rewind');
    expect(response.status).toBe(409);
    expect((await problemOf(response)).detail).toMatch(/only a run whose orchestration failed/i);
  });

  it('purges finished runs by filter and keeps the rest', async () => {
    const doomed = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await waitingForApproval(doomed);
    await act(doomed, 'terminate', { reason: 'to purge' });
    await finished(doomed);
    const kept = await startWorkflow(host, 'research-report', { ...TOPIC, requireApproval: true });
    await waitingForApproval(kept);

    const purged = await api.json<{ instancesDeleted: number }>('purge', {
      body: { status: ['Terminated'], createdFrom: new Date(Date.now() - 3_600_000).toISOString() },
      headers: { 'x-operator-id': 'eve' },
    });
    expect(purged.instancesDeleted).toBeGreaterThanOrEqual(1);
    expect((await api.call(`runs/${doomed}`)).status).toBe(404);
    expect((await detail(kept)).status).toBe('Running');
    await act(kept, 'terminate');
  });
});

describe('operator API: no self-calls', () => {
  it('works while the app’s own public (webhook) origin is unreachable, as behind Azure’s front end', async () => {
    // devhost advertises a .invalid origin in the client binding: a call the app made to it would fail.
    expect(host.host.webhookOrigin).toMatch(/^https:\/\/devhost-\d+\.invalid$/);
    await expect(
      fetch(`${host.host.webhookOrigin}/runtime/webhooks/durabletask/instances`),
    ).rejects.toThrow();
    const id = await startWorkflow(host, 'ticket-triage', { subject: 'Self', body: 'No self-calls.' });
    await finished(id);
    // The list (one page, by id prefix), the detail with its history and an action all reach the runtime.
    const { runs } = await api.json<RunList>(`runs?idPrefix=${encodeURIComponent(id)}&pageSize=1`);
    expect(runs.map((run) => run.id)).toEqual([id]);
    const run = await detail(id, '?history=true');
    expect(run.status).toBe('Completed');
    expect(run.history?.length).toBeGreaterThan(0);
    expect(host.logs.join('\n')).not.toMatch(/durable-api-failed|Could not reach the Durable management API/);
  });
});

describe('operator API: refusals', () => {
  let completed: string;
  beforeAll(async () => {
    completed = await startWorkflow(host, 'ticket-triage', { subject: 'a', body: 'b' });
    await finished(completed);
  });

  it('needs the admin (master) key: none or a function key is 401', async () => {
    expect((await api.call('runs', { key: null })).status).toBe(401);
    expect((await api.call('runs', { key: host.host.keys.functionKey })).status).toBe(401);
    expect((await api.call(`runs/${completed}`, { key: host.host.keys.functionKey })).status).toBe(401);
    expect(
      (await api.call(`runs/${completed}/terminate`, { key: host.host.keys.functionKey, body: {} })).status,
    ).toBe(401);
    expect((await api.call('purge', { key: null, body: {} })).status).toBe(401);
  });

  const badFilters: [string, string, RegExp][] = [
    ['status=Bogus', 'status', /unknown status "Bogus"/],
    ['createdFrom=yesterday', 'createdFrom', /ISO 8601/],
    ['createdTo=2026-13-45T00:00:00Z', 'createdTo', /ISO 8601/],
    [
      'createdFrom=2026-02-01T00:00:00Z&createdTo=2026-01-01T00:00:00Z',
      'createdFrom',
      /not be after createdTo/,
    ],
    ['pageSize=0', 'pageSize', /1 to 200/],
    ['pageSize=201', 'pageSize', /1 to 200/],
    ['pageSize=ten', 'pageSize', /whole number/],
    ['all=yes', 'all', /true or false/],
    ['continuationToken=not-a-token', 'continuationToken', /not a token this API issued/],
    ['colour=blue', 'colour', /unknown parameter/],
    [`idPrefix=${'x'.repeat(257)}`, 'idPrefix', /at most 256 characters/],
  ];
  it.each(badFilters)('lists with %s → 400 naming %s', async (query, parameter, message) => {
    const response = await api.call(`runs?${query}`);
    expect(response.status).toBe(400);
    const body = await problemOf(response);
    const item = body.errors?.find((e) => e.parameter === parameter) as { detail: string } | undefined;
    expect(item?.detail).toMatch(message);
  });

  it('answers 404 for an unknown run or action, 400 for a bad history flag', async () => {
    expect((await api.call('runs/no-such-run')).status).toBe(404);
    expect((await problemOf(await api.call('runs/no-such-run'))).detail).toBe(
      'No run with id "no-such-run".',
    );
    expect((await act('no-such-run', 'terminate')).status).toBe(404);
    expect((await act('no-such-run', 'approve')).status).toBe(404);
    const unknownAction = await act(completed, 'explode');
    expect(unknownAction.status).toBe(404);
    expect((await problemOf(unknownAction)).detail).toMatch(/No action "explode"; use terminate, suspend/);
    expect((await api.call(`runs/${completed}?history=maybe`)).status).toBe(400);
  });

  const badBodies: [string, string, number, OperatorCall, RegExp][] = [
    [
      'approve',
      'a non-JSON body',
      415,
      { text: 'yes', headers: { 'content-type': 'text/plain' } },
      /application\/json/,
    ],
    ['approve', 'malformed JSON', 400, { text: '{"comment":' }, /JSON/],
    [
      'approve',
      'an unknown field',
      400,
      { body: { comment: 'ok', approved: true } },
      /approved|Unrecognized/,
    ],
    ['approve', 'a comment over 2,000 characters', 400, { body: { comment: 'x'.repeat(2_001) } }, /2000/],
    ['terminate', 'a reason that is not text', 400, { body: { reason: 42 } }, /string/],
    [
      'terminate',
      'an identity over 200 characters',
      400,
      { body: {}, headers: { 'x-operator-id': 'x'.repeat(201) } },
      /x-operator-id/,
    ],
  ];
  it.each(badBodies)('%s with %s → %i', async (action, _what, status, request, message) => {
    const response = await api.call(`runs/${completed}/${action}`, request);
    expect(response.status).toBe(status);
    expect(JSON.stringify(await problemOf(response))).toMatch(message);
  });

  it('refuses approve, reject, suspend and resume on a finished run with 409', async () => {
    for (const action of ['approve', 'reject', 'suspend', 'resume', 'terminate']) {
      const response = await act(completed, action);
      expect(response.status, action).toBe(409);
    }
  });

  const badPurges: [string, unknown, RegExp][] = [
    ['a running status', { status: ['Running'] }, /status/],
    ['a date that is not ISO', { createdFrom: 'last week' }, /createdFrom/],
    [
      'createdFrom after createdTo',
      { createdFrom: '2026-02-01T00:00:00Z', createdTo: '2026-01-01T00:00:00Z' },
      /not be after/,
    ],
    ['an empty status list', { status: [] }, /status/],
    ['an unknown field', { before: '2026-01-01T00:00:00Z' }, /before|Unrecognized/],
  ];
  it.each(badPurges)('purge with %s → 400', async (_what, body, message) => {
    const response = await api.call('purge', { body });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await problemOf(response))).toMatch(message);
  });
});
