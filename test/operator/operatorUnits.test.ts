import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import {
  callbackText,
  duration,
  progressBar,
  progressFraction,
  runDetailText,
  table,
} from '../../src/cli/format.js';
import { parseAuditLines } from '../../src/operator/auditStore.js';
import type { DurableInstance, DurableManagement } from '../../src/operator/durableManagement.js';
import { instancesUrl } from '../../src/operator/durableManagement.js';
import { decodePosition, encodePosition, listRuns, parseRunListQuery } from '../../src/operator/listQuery.js';
import { PurgeBody } from '../../src/shared/operatorTypes.js';
import { isSecretKey, redactSecrets } from '../../src/operator/redact.js';
import { buildTimeline, countFailedAttempts, stepOfChild } from '../../src/operator/timeline.js';
import type { RunDetail, RunSummary } from '../../src/shared/operatorTypes.js';
import type { StepRecord } from '../../src/shared/runTypes.js';

describe('redaction', () => {
  it('masks values of secret-looking keys at any depth and leaves the rest', () => {
    const input = {
      topic: 'tides',
      apiKey: 'sk-123',
      nested: { password: 'hunter2', items: [{ access_token: 'abc', count: 2 }] },
      headers: { Authorization: 'Bearer xyz', 'X-Api-Key': 'k' },
      connectionString: 'DefaultEndpointsProtocol=https;AccountKey=abc==;',
      keywords: ['a'],
      inputTokens: 10,
      monkey: 'banana',
      note: 'call with ?code=supersecret&x=1 and Bearer tok.en',
    };
    expect(redactSecrets(input)).toEqual({
      topic: 'tides',
      apiKey: '[redacted]',
      nested: { password: '[redacted]', items: [{ access_token: '[redacted]', count: 2 }] },
      headers: { Authorization: '[redacted]', 'X-Api-Key': '[redacted]' },
      connectionString: '[redacted]',
      keywords: ['a'],
      inputTokens: 10,
      monkey: 'banana',
      note: 'call with ?code=[redacted]&x=1 and Bearer [redacted]',
    });
    expect(input.apiKey).toBe('sk-123');
  });

  it.each([
    ['client_secret', true],
    ['privateKey', true],
    ['sasToken', true],
    ['idempotencyKey', true],
    ['author', false],
    ['tokens', false],
    ['keyPoints', false],
  ])('%s looks secret: %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });
});

describe('list query', () => {
  it('parses every filter', () => {
    const parsed = parseRunListQuery(
      new URLSearchParams(
        'status=running,FAILED&workflow=w&createdFrom=2026-01-01&createdTo=2026-01-02T00:00:00Z&idPrefix=ab&pageSize=5&all=true&code=k',
      ),
    );
    expect(parsed).toEqual({
      ok: true,
      query: {
        statuses: ['Running', 'Failed'],
        workflow: 'w',
        createdFrom: new Date('2026-01-01'),
        createdTo: new Date('2026-01-02T00:00:00Z'),
        idPrefix: 'ab',
        pageSize: 5,
        all: true,
      },
    });
  });

  it('takes status as a comma-separated list, repeated, or both, in any case; purge takes the same forms', () => {
    for (const query of [
      'status=failed,Terminated',
      'status=Failed&status=terminated',
      'status=FAILED&status=, terminated',
    ]) {
      const parsed = parseRunListQuery(new URLSearchParams(query));
      expect(parsed, query).toMatchObject({ ok: true, query: { statuses: ['Failed', 'Terminated'] } });
    }
    expect(parseRunListQuery(new URLSearchParams('workflow=a&workflow=b'))).toMatchObject({ ok: false });
    for (const status of ['failed,Terminated', ['Failed', 'terminated'], ' FAILED , terminated ']) {
      expect(PurgeBody.parse({ status }), JSON.stringify(status)).toEqual({
        status: ['Failed', 'Terminated'],
      });
    }
    expect(PurgeBody.safeParse({ status: 'Running' }).success).toBe(false);
    expect(PurgeBody.safeParse({ status: '' }).success).toBe(false);
    expect(PurgeBody.safeParse({ status: 7 }).success).toBe(false);
  });

  it('round-trips its continuation tokens and refuses foreign ones', () => {
    const position = { before: '2026-01-01T00:00:00.000Z', seen: ['a', 'b'] };
    expect(decodePosition(encodePosition(position))).toEqual(position);
    expect(decodePosition('bm90IGpzb24')).toBeUndefined();
    expect(decodePosition(Buffer.from('{"t":0,"s":1}').toString('base64url'))).toBeUndefined();
    expect(decodePosition(Buffer.from('{"b":"yesterday","s":[]}').toString('base64url'))).toBeUndefined();
  });

  /** `exact` is when it was created; the Durable API shows whole seconds but filters on the exact time. */
  const exactTimes = new Map<string, number>();
  const instance = (id: string, exact: string, name = 'runWorkflow', workflow = 'w'): DurableInstance => {
    exactTimes.set(id, Date.parse(exact));
    const createdTime = `${new Date(exact).toISOString().slice(0, 19)}Z`;
    return {
      name,
      instanceId: id,
      runtimeStatus: 'Completed',
      input: null,
      customStatus: { workflow, version: 1, stepIndex: 1, stepCount: 1, usage: usage(), costUsd: 0 },
      output: null,
      createdTime,
      lastUpdatedTime: createdTime,
    };
  };
  const usage = () => ({ inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 });

  /** Lists like the Durable API: creation filters inclusive, store order (oldest first), 2 per page. */
  const fakeManagement = (
    all: DurableInstance[],
    calls: { from?: Date; to?: Date }[] = [],
  ): DurableManagement => ({
    listInstances: (request) => {
      calls.push({
        ...(request.createdTimeFrom ? { from: request.createdTimeFrom } : {}),
        ...(request.createdTimeTo ? { to: request.createdTimeTo } : {}),
      });
      const matching = all.filter((i) => {
        const at = exactTimes.get(i.instanceId) ?? Date.parse(i.createdTime);
        return (
          (!request.createdTimeFrom || at >= request.createdTimeFrom.getTime()) &&
          (!request.createdTimeTo || at <= request.createdTimeTo.getTime())
        );
      });
      const start = Number(request.continuationToken ?? 0);
      const end = start + Math.min(request.top, 2);
      return Promise.resolve({
        instances: matching.slice(start, end),
        ...(end < matching.length ? { continuationToken: String(end) } : {}),
      });
    },
    getInstance: () => Promise.resolve(undefined),
    operate: () => Promise.reject(new Error('not used')),
    raiseEvent: () => Promise.reject(new Error('not used')),
  });

  it('lists newest first across windows and pages, skips children and other workflows, and resumes at ties', async () => {
    const all = [
      instance('old', '2025-06-01T00:00:00Z'),
      instance('a', '2026-01-01T00:00:00Z'),
      instance('a:plan', '2026-01-01T00:00:00Z', 'agentLoop'),
      instance('b', '2026-01-01T00:00:01Z', 'runWorkflow', 'other'),
      instance('c', '2026-01-01T00:00:02.300Z'),
      instance('d', '2026-01-01T00:00:02.700Z'),
      instance('e', '2026-01-01T00:30:00.500Z'),
    ];
    const calls: { from?: Date; to?: Date }[] = [];
    const management = fakeManagement(all, calls);
    const now = () => new Date('2026-01-01T01:00:00Z');
    const base = { pageSize: 2, all: false, workflow: 'w' };
    const first = await listRuns(management, base, now);
    expect(first.runs.map((r: RunSummary) => r.id)).toEqual(['e', 'd']);
    // The first window is the last hour, to the end of the second a minute from now: the old run was never read.
    expect(calls[0]?.to?.toISOString()).toBe('2026-01-01T01:01:00.999Z');
    const second = await listRuns(
      management,
      { ...base, position: decodePosition(first.continuationToken ?? '') },
      now,
    );
    expect(second.runs.map((r) => r.id)).toEqual(['c', 'a']);
    const third = await listRuns(
      management,
      { ...base, position: decodePosition(second.continuationToken ?? '') },
      now,
    );
    expect(third.runs.map((r) => r.id)).toEqual(['old']);
    expect(third.continuationToken).toBeUndefined();
    const everything = await listRuns(management, { pageSize: 50, all: true }, now);
    expect(everything.runs.map((r) => r.id)).toEqual(['e', 'd', 'c', 'b', 'a:plan', 'a', 'old']);
    expect(everything.continuationToken).toBeUndefined();
  });
});

describe('timeline', () => {
  const record = (
    stepId: string,
    startedAt: string,
    endedAt?: string,
    status: StepRecord['status'] = 'completed',
  ): StepRecord => ({
    stepId,
    kind: 'llm',
    status,
    startedAt,
    ...(endedAt ? { endedAt } : {}),
    tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
    costUsd: 0,
    toolCalls: 0,
  });

  it('places failed attempts by time in the run and by instance id in its children', () => {
    const records = [
      record('plan', '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z'),
      record('research', '2026-01-01T00:00:10Z', undefined, 'running'),
    ];
    const failed = {
      EventType: 'TaskCompleted',
      FunctionName: 'callModel',
      Result: { ok: false },
      Timestamp: '2026-01-01T00:00:05Z',
    };
    const history = [
      failed,
      { ...failed, Result: JSON.stringify({ ok: false }), Timestamp: '2026-01-01T00:00:06Z' },
      {
        EventType: 'TaskCompleted',
        FunctionName: 'callModel',
        Result: { ok: true },
        Timestamp: '2026-01-01T00:00:07Z',
      },
      { EventType: 'TaskFailed', Timestamp: '2026-01-01T00:00:20Z' },
    ];
    const children = new Map([
      ['run:research:3', [{ EventType: 'TaskFailed' }, { EventType: 'TimerFired' }]],
    ]);
    expect(countFailedAttempts('run', records, history, children)).toEqual(
      new Map([
        ['plan', 2],
        ['research', 2],
      ]),
    );
    expect(stepOfChild('run', 'run:par.left:2')).toBe('par');
    expect(stepOfChild('run', 'other:plan')).toBeUndefined();
  });

  it('shows a step cut off by termination as failed, and a failed step’s last attempt as its failure', () => {
    const records = [
      record('plan', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'failed'),
      record('wait', '2026-01-01T00:00:01Z', undefined, 'waiting'),
    ];
    const timeline = buildTimeline(
      records,
      { runtimeStatus: 'Terminated', lastUpdatedTime: '2026-01-01T01:00:00Z' },
      new Map([['plan', 3]]),
    );
    expect(timeline.map((e) => [e.stepId, e.status, e.retries, e.endedAt, e.error])).toEqual([
      ['plan', 'failed', 2, '2026-01-01T00:00:01Z', undefined],
      ['wait', 'failed', 0, '2026-01-01T01:00:00Z', 'the run was terminated'],
    ]);
  });
});

describe('prompt-cache hit rate', () => {
  it('is on every timeline step and in runs show: per step and for the run', () => {
    const step = (stepId: string, tokens: StepRecord['tokens']): StepRecord => ({
      stepId,
      kind: 'agent',
      status: 'completed',
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: '2026-01-01T00:00:05Z',
      tokens,
      costUsd: 0.01,
      toolCalls: 3,
    });
    const timeline = buildTimeline(
      [
        step('research', { input: 250, output: 40, cacheWrite: 150, cacheRead: 600 }),
        step('plan', { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 }),
      ],
      { runtimeStatus: 'Completed', lastUpdatedTime: '2026-01-01T00:00:05Z' },
    );
    expect(timeline.map((entry) => [entry.stepId, entry.cacheHitRate])).toEqual([
      ['research', 0.6],
      ['plan', null],
    ]);
    const detail = {
      id: 'run-1',
      workflow: 'research-report',
      version: '1.0.0',
      status: 'Completed',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:05Z',
      costUsd: 0.02,
      input: {},
      output: {},
      ledger: { totals: { cacheHitRate: 0.6 } },
      timeline,
      approvals: [],
      actions: [],
    } as unknown as RunDetail;
    const text = runDetailText(detail);
    expect(text).toContain('cache hit 60.0 % of prompt tokens read from cache');
    expect(text).toMatch(/TOKENS IN\/OUT\s+CACHE HIT\s+COST/);
    expect(text).toMatch(/research\s+agent\s+completed.*1000\/40\s+60\.0 %/);
    expect(text).toMatch(/plan\s+agent\s+completed.*0\/0\s+–/);
  });
});

describe('audit lines and management URLs', () => {
  it('skips a torn or foreign line and keeps the rest of the trail', () => {
    const good = JSON.stringify({ runId: 'r', action: 'terminate', by: 'ana', at: '2026-01-01T00:00:00Z' });
    expect(parseAuditLines(`${good}\n{"runId":"r","act\n{"x":1}\n${good}\n`)).toHaveLength(2);
  });

  it('derives the instance list URL from the client’s local RPC endpoint, never the public webhook origin', () => {
    const client = {
      clientData: { rpcBaseUrl: 'http://127.0.0.1:17071/durabletask/' },
      createHttpManagementPayload: (id: string) => ({
        statusQueryGetUri: `https://app.example/runtime/webhooks/durabletask/instances/${id}?taskHub=hub&connection=Storage&code=sys`,
      }),
    } as never;
    expect(instancesUrl(client).href).toBe('http://127.0.0.1:17071/durabletask/instances');
    expect(() => instancesUrl({ clientData: {} } as never)).toThrow(/no rpcBaseUrl/);
  });
});

describe('CLI rendering', () => {
  it('shows a failed run with its outcome, and where its completion callback stands', () => {
    const failed = callbackText({
      state: 'failed',
      attempts: 8,
      lastError: 'gave up after 8 attempts: ECONNREFUSED',
    });
    expect(failed).toBe('failed (8 attempts): gave up after 8 attempts: ECONNREFUSED');
    expect(callbackText({ state: 'delivered', attempts: 1, status: 204 })).toBe(
      'delivered (HTTP 204, 1 attempt)',
    );
    expect(callbackText({ state: 'waiting', attempts: 0 })).toBe('waiting for the run to finish');
    const text = runDetailText({
      id: 'r1',
      kind: 'run',
      workflow: 'w',
      version: 1,
      status: 'Failed',
      outcome: 'rejected',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      costUsd: 0.5,
      input: {},
      output: null,
      error: { kind: 'approval_rejected', stepId: 'review', message: 'no' },
      ledger: null,
      timeline: [],
      approvals: [],
      actions: [],
      waterfall: [],
      children: [],
      callback: {
        state: 'pending',
        attempts: 2,
        lastError: 'HTTP 503',
        nextAttemptAt: '2026-01-01T00:01:00Z',
      },
    });
    expect(text).toContain('  status    Failed (rejected)');
    expect(text).toContain('  error     approval_rejected at review: no');
    expect(text).toContain('  callback  pending: attempt 2 failed: HTTP 503; next at 2026-01-01T00:01:00Z');
  });

  it('aligns tables and renders durations and progress', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
    expect(duration('2026-01-01T00:00:00Z', '2026-01-01T00:00:01.500Z')).toBe('1.5s');
    expect(duration('2026-01-01T00:00:00Z', '2026-01-01T00:02:03Z')).toBe('2m3s');
    expect(progressBar(0.5, 10)).toBe('[#####.....]  50%');
    const run = {
      status: 'Running',
      progress: { step: 'r', stepIndex: 1, stepCount: 4, map: { stepId: 'r', done: 1, total: 2 } },
    };
    expect(progressFraction(run as RunSummary)).toBeCloseTo(1.5 / 4);
  });

  it('redraws one progress line on a terminal and ends it when the run finishes', async () => {
    const states = ['Running', 'Running', 'Completed'];
    let call = 0;
    const fakeFetch = (() => {
      const status = states[Math.min(call++, states.length - 1)] ?? 'Completed';
      const body = {
        id: 'r1',
        workflow: 'w',
        version: 1,
        status,
        ...(status === 'Completed' ? { outcome: 'completed' } : {}),
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
        progress:
          status === 'Completed'
            ? { stepIndex: 2, stepCount: 2 }
            : { step: 'plan', stepIndex: call - 1, stepCount: 2 },
        costUsd: 0.5,
        timeline: [],
        actions: [],
        approvals: [],
      };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    }) as typeof fetch;
    let stdout = '';
    const code = await runCli(['runs', 'watch', 'r1', '--interval', '50'], {
      env: { DURABLE_AGENTS_ADMIN_KEY: 'k' },
      stdout: (text) => (stdout += text),
      stderr: () => undefined,
      isTTY: true,
      fetch: fakeFetch,
    });
    expect(code).toBe(0);
    expect(stdout.split('\r\x1b[2K').filter(Boolean)).toEqual([
      '[........................]   0%  Running  plan [1/2]  $0.5000',
      '[############............]  50%  Running  plan [2/2]  $0.5000',
      '[########################] 100%  Completed  2/2 steps  $0.5000\n',
    ]);
  });
});
