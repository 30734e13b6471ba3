/**
 * A top-level run that does not complete its work fails (runtime status Failed) with its outcome and error
 * in the failure message, and leaves its result in its last custom status (`final`) for the run views.
 */
import type { DurableOrchestrationStatus } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { callbackViewOf, toRunView } from '../../src/functions/runView.js';
import { fitCustomStatus, MAX_CUSTOM_STATUS_CHARS } from '../../src/orchestrators/customStatus.js';
import { RunFailed } from '../../src/orchestrators/runStopped.js';
import { summaryOf } from '../../src/operator/runViews.js';
import type { DurableInstance } from '../../src/operator/durableManagement.js';
import { Names } from '../../src/shared/names.js';
import { parseRunFailure, runFailureMessage } from '../../src/shared/runFailure.js';
import { RunProgress, type LedgerRow, type RunFinal } from '../../src/shared/runTypes.js';
import { answer, failure, scripted, TIMEOUT, usage } from './orchestrators/scriptedRuntime.js';
import { definition, runInput, runWorkflow } from './orchestrators/workflowFixtures.js';

const llm = (id: string, prompt: string) => ({ id, kind: 'llm', role: 'worker', prompt });

describe('runWorkflow: a top-level run that stops fails', () => {
  it('throws RunFailed naming the outcome, kind and step, after nothing else is scheduled', () => {
    const def = definition([llm('a', 'x'), llm('b', 'y')], { budget: { maxCostUsd: 0.05 } });
    const run = runWorkflow(runInput(def), { model: scripted([answer('big', { costUsd: 0.06 })]) });
    expect(run.failed).toBe(true);
    expect(run.output).toMatchObject({
      outcome: 'budget_exceeded',
      error: { stepId: 'a', kind: 'BudgetExceeded' },
    });
    const error = new RunFailed({ ...run.output, outcome: 'budget_exceeded', error: run.output.error! });
    expect(error.message).toBe(
      'Run stopped [outcome=budget_exceeded kind=BudgetExceeded step=a]: spent $0.0600 of $0.0500 budget (stopped after a)',
    );
    // The model call that overspent is the last thing the run asked for.
    expect(run.context.calls.map((c) => c.name)).toEqual([Names.activities.callModel]);
  });

  it('leaves outcome, error, ledger and timeline in its last custom status', () => {
    const def = definition([llm('a', 'x'), llm('b', 'y')]);
    const run = runWorkflow(runInput(def), {
      model: scripted([answer('1'), failure({ retryable: false, kind: 'bad_request', message: 'no' })]),
    });
    expect(run.failed).toBe(true);
    const last = RunProgress.parse(run.context.customStatuses.at(-1));
    expect(last.final).toMatchObject({
      outcome: 'failed',
      error: { stepId: 'b', kind: 'bad_request' },
      ledger: { totals: { calls: 1 } },
      artifacts: [],
    });
    expect(last.final?.ledger.rows.map((r) => r.stepId)).toEqual(['a']);
    expect(last.timeline?.map((r) => [r.stepId, r.status])).toEqual([
      ['a', 'completed'],
      ['b', 'failed'],
    ]);
  });

  it('fails on a rejected approval', () => {
    const def = definition([{ id: 'ok', kind: 'approval', message: 'Ship?', timeout: 'PT1H' }]);
    const rejected = runWorkflow(runInput(def), { event: () => ({ approved: false, by: 'bo' }) });
    expect(rejected).toMatchObject({ failed: true, output: { error: { kind: 'approval_rejected' } } });
    const timedOut = runWorkflow(runInput(def), { event: () => TIMEOUT });
    expect(timedOut).toMatchObject({ failed: true, output: { error: { kind: 'approval_timeout' } } });
  });

  it('a child run (a workflow step, a batch item) returns its outcome to its parent instead', () => {
    const def = definition([llm('a', 'x')]);
    const model = scripted([failure({ retryable: false, kind: 'bad_request', message: 'no' })]);
    const child = runWorkflow(runInput(def), { model }, 'parent:child', 'parent');
    expect(child).toMatchObject({
      failed: false,
      output: { outcome: 'failed', error: { kind: 'bad_request' } },
    });
    expect(RunProgress.parse(child.context.customStatuses.at(-1)).final).toBeUndefined();
  });

  it('starts its completion callback first, as its own orchestration, and never sends it itself', () => {
    const def = definition([llm('a', 'x')]);
    const started: unknown[] = [];
    const run = runWorkflow(runInput(def, {}, { callback: { url: 'https://example.com/hook' } }), {
      model: scripted([answer('done')]),
      activity: (name, input) => (name === Names.activities.startCallback ? started.push(input) : undefined),
    });
    expect(run).toMatchObject({ failed: false, output: { outcome: 'completed', output: 'done' } });
    expect(started).toEqual([{ runId: 'run-1', url: 'https://example.com/hook' }]);
    expect(run.context.calls.map((c) => c.name)).toEqual([
      Names.activities.startCallback,
      Names.activities.callModel,
    ]);
  });
});

describe('the failure message', () => {
  it('round-trips outcome, kind, step and message, whatever the message holds', () => {
    const error = { stepId: 'research:3', kind: 'model_error', message: 'line one\nline two: [x]' };
    const text = `Orchestrator function 'runWorkflow' failed: ${runFailureMessage('failed', error)}`;
    expect(parseRunFailure(text)).toEqual({ outcome: 'failed', error });
    expect(
      parseRunFailure(runFailureMessage('budget_exceeded', { kind: 'BudgetExceeded', message: 'm' })),
    ).toEqual({
      outcome: 'budget_exceeded',
      error: { kind: 'BudgetExceeded', message: 'm' },
    });
    expect(parseRunFailure("Orchestrator function 'runWorkflow' failed: boom")).toBeUndefined();
    expect(parseRunFailure(42)).toBeUndefined();
  });

  it('writes spaces and brackets in kinds and step ids as _, and cuts a very long message', () => {
    const text = runFailureMessage('failed', { stepId: 'a b', kind: 'x]y', message: 'm'.repeat(5_000) });
    const parsed = parseRunFailure(text);
    expect(parsed?.error).toMatchObject({ stepId: 'a_b', kind: 'x_y' });
    expect(parsed?.error.message).toHaveLength(2_000);
  });
});

const row = (stepId: string): LedgerRow => ({
  stepId,
  role: 'worker',
  provider: 'anthropic',
  deployment: 'claude-haiku-4-5',
  calls: 1,
  usage: usage(100, 50),
  costUsd: 0.01,
  offline: true,
});

const final = (rows: LedgerRow[]): RunFinal => ({
  outcome: 'failed',
  error: { stepId: 'b', kind: 'approval_rejected', message: '"b" was rejected by bo' },
  ledger: {
    rows,
    totals: {
      calls: rows.length,
      usage: usage(100 * rows.length, 50 * rows.length),
      costUsd: 0.01 * rows.length,
    },
  },
  artifacts: [
    { name: 'chart.png', blobRef: 'agent-artifacts/r1/chart.png', contentType: 'image/png', bytes: 10 },
  ],
});

const progress = (extra: Partial<RunProgress> = {}): RunProgress => ({
  workflow: 'research-report',
  version: '1.0.0',
  stepIndex: 1,
  stepCount: 2,
  usage: usage(100, 50),
  costUsd: 0.01,
  timeline: [
    {
      stepId: 'a',
      kind: 'llm',
      status: 'completed',
      tokens: { input: 100, output: 50, cacheWrite: 0, cacheRead: 0 },
      costUsd: 0.01,
      toolCalls: 0,
    },
  ],
  ...extra,
});

const failedStatus = (customStatus: unknown, output: unknown): DurableOrchestrationStatus =>
  ({
    name: 'runWorkflow',
    instanceId: 'r1',
    runtimeStatus: 'Failed',
    input: null,
    customStatus,
    output,
    createdTime: new Date('2026-01-01T00:00:00Z'),
    lastUpdatedTime: new Date('2026-01-01T00:01:00Z'),
  }) as unknown as DurableOrchestrationStatus;

describe('the run views of a failed run', () => {
  const message = `Orchestrator function 'runWorkflow' failed: ${runFailureMessage('failed', final([]).error)}`;

  it('show the outcome, error, ledger and artifacts from the last custom status, and the progress without them', () => {
    const view = toRunView(failedStatus(progress({ final: final([row('a'), row('b')]) }), message));
    expect(view).toMatchObject({
      status: 'Failed',
      outcome: 'failed',
      workflow: 'research-report',
      output: null,
      error: { stepId: 'b', kind: 'approval_rejected', message: '"b" was rejected by bo' },
      ledger: { totals: { calls: 2, costUsd: 0.02 } },
      artifacts: [{ name: 'chart.png' }],
    });
    expect(view.ledger?.rows?.map((r) => r.stepId)).toEqual(['a', 'b']);
    expect(view.progress).not.toHaveProperty('final');
    expect(view.progress?.timeline).toHaveLength(1);
    const instance = {
      ...failedStatus(progress({ final: final([]) }), message),
      createdTime: '2026-01-01T00:00:00Z',
      lastUpdatedTime: '2026-01-01T00:01:00Z',
    } as unknown as DurableInstance;
    // An approval rejection reads as the `rejected` outcome in the operator's list (runViews.ts outcomeOf).
    expect(summaryOf(instance)).toMatchObject({ status: 'Failed', outcome: 'rejected' });
  });

  it('fall back to the failure message when the status has no result', () => {
    const view = toRunView(failedStatus(progress(), message));
    expect(view).toMatchObject({
      status: 'Failed',
      outcome: 'failed',
      error: { stepId: 'b', kind: 'approval_rejected' },
      ledger: { totals: { costUsd: 0.01 } },
    });
    const crashed = toRunView(failedStatus(null, "Orchestrator function 'runWorkflow' failed: boom"));
    expect(crashed).toMatchObject({ outcome: null, error: { kind: 'orchestration_failed' } });
  });
});

describe('fitCustomStatus with a stopped run', () => {
  it('keeps the outcome and error and counts the rows and artifacts it leaves out', () => {
    const rows = Array.from({ length: 200 }, (_, i) => row(`step-${i}`));
    const fitted = fitCustomStatus(progress({ final: final(rows) }));
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_CHARS);
    expect(fitted.final).toMatchObject({
      outcome: 'failed',
      error: { kind: 'approval_rejected' },
      ledger: { rows: [], totals: { calls: 200 } },
      ledgerRowsOmitted: 200,
      artifactsOmitted: 1,
    });
    const small = progress({ final: final([row('a')]) });
    expect(fitCustomStatus(small)).toEqual(small);
  });
});

describe('callbackViewOf', () => {
  it('reads the callback orchestration: not started, running, finished, crashed', () => {
    expect(callbackViewOf(undefined)).toEqual({ state: 'waiting', attempts: 0 });
    const pending = { state: 'pending', attempts: 2, lastError: 'ECONNREFUSED', nextAttemptAt: 'x' };
    expect(callbackViewOf({ runtimeStatus: 'Running', customStatus: pending, output: null })).toEqual(
      pending,
    );
    const done = { state: 'delivered', attempts: 1, status: 200, finishedAt: 'y' };
    expect(callbackViewOf({ runtimeStatus: 'Completed', customStatus: done, output: done })).toEqual(done);
    expect(callbackViewOf({ runtimeStatus: 'Failed', customStatus: null, output: 'boom' })).toEqual({
      state: 'failed',
      attempts: 0,
      lastError: 'boom',
    });
  });
});
