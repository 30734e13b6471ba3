import { beforeAll, describe, expect, it } from 'vitest';
import { spanFigures, waterfallText, logLines, bar } from '../../src/cli/waterfallText.js';
import type { DurableInstance, DurableManagement } from '../../src/operator/durableManagement.js';
import { failedBatchItems, withEventApprovals } from '../../src/operator/runSources.js';
import { outcomeOf, summaryOf } from '../../src/operator/runViews.js';
import {
  buildWaterfall,
  childTree,
  instanceSpans,
  parentOf,
  type InstanceHistory,
} from '../../src/operator/waterfall.js';
import { formatUsd, roundUsd } from '../../src/shared/money.js';
import type { AuditRecord, WaterfallSpan } from '../../src/shared/operatorTypes.js';

/** The dashboard's own module (plain ES without types; its formatters need no DOM). */
const DOM_MODULE = '../../src/dashboard/dom.mjs';

interface DashboardDom {
  formatCost: (usd: number) => string;
  stepProgressText: (run: {
    status: string;
    progress: { stepIndex: number; stepCount: number; step?: string };
  }) => string;
}
let formatCost: DashboardDom['formatCost'];
let stepProgressText: DashboardDom['stepProgressText'];
beforeAll(async () => {
  ({ formatCost, stepProgressText } = (await import(DOM_MODULE)) as DashboardDom);
});

describe('money', () => {
  it('drops float noise from sums and formats one way in the API, CLI and dashboard', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(roundUsd(0.1 + 0.2)).toBe(0.3);
    expect(roundUsd(0.0047989999999999994)).toBe(0.004799);
    const cases: [number, string][] = [
      [0, '$0.00'],
      [0.0047989999999999994, '$0.0048'],
      [0.00001, '<$0.0001'],
      [0.25, '$0.2500'],
      [1, '$1.00'],
      [12.345, '$12.35'],
    ];
    for (const [usd, text] of cases) {
      expect(formatUsd(usd)).toBe(text);
      expect(formatCost(usd)).toBe(text);
    }
  });

  it('reads progress as the step the run is on, counted from 1, and all steps once through', () => {
    const progress = (stepIndex: number, step?: string) => ({
      stepIndex,
      stepCount: 4,
      ...(step ? { step } : {}),
    });
    expect(stepProgressText({ status: 'Running', progress: progress(3, 'review') })).toBe(
      'Step 4 of 4: review',
    );
    expect(stepProgressText({ status: 'Completed', progress: progress(4) })).toBe('4 of 4 steps');
    expect(stepProgressText({ status: 'Completed', progress: progress(1, 'research') })).toBe(
      'Stopped at step 2 of 4: research',
    );
  });
});

describe('outcome column', () => {
  const view = (
    status: string,
    outcome: 'completed' | 'failed' | 'budget_exceeded' | null,
    kind?: string,
  ) => ({
    status,
    outcome,
    error: kind ? { kind, message: `"review" was rejected by rita: no` } : null,
  });
  it('names a rejection "rejected" whether the run ended Completed with an outcome or Failed', () => {
    expect(outcomeOf(view('Completed', 'failed', 'approval_rejected'))).toBe('rejected');
    expect(outcomeOf(view('Failed', 'failed', 'approval_rejected'))).toBe('rejected');
    expect(outcomeOf(view('Failed', null, 'approval_rejected'))).toBe('rejected');
    expect(outcomeOf(view('Failed', null, 'orchestration_failed'))).toBe('failed');
    expect(outcomeOf(view('Completed', 'failed', 'step_failed'))).toBe('failed');
    expect(outcomeOf(view('Completed', 'budget_exceeded', 'BudgetExceeded'))).toBe('budget_exceeded');
    expect(outcomeOf(view('Completed', 'completed'))).toBe('completed');
    expect(outcomeOf(view('Terminated', null))).toBe('terminated');
    expect(outcomeOf(view('Running', null))).toBeUndefined();
  });
});

const base = (over: Partial<DurableInstance>): DurableInstance => ({
  name: 'runWorkflow',
  instanceId: 'r',
  runtimeStatus: 'Completed',
  input: null,
  customStatus: null,
  output: null,
  createdTime: '2026-01-01T00:00:00Z',
  lastUpdatedTime: '2026-01-01T00:01:00Z',
  ...over,
});

describe('batch runs', () => {
  it('show their workflow, item counts and cost from the custom status while running and the output after', () => {
    const running = summaryOf(
      base({
        name: 'runBatch',
        runtimeStatus: 'Running',
        customStatus: {
          kind: 'batch',
          workflow: 'ticket-triage',
          total: 10,
          done: 4,
          succeeded: 3,
          failed: 1,
          costUsd: 0.0012000000000000001,
          outputBlob: 'c/out.jsonl',
        },
      }),
    );
    expect(running).toMatchObject({
      kind: 'batch',
      workflow: 'ticket-triage',
      costUsd: 0.0012,
      batch: { total: 10, done: 4, succeeded: 3, failed: 1 },
    });
    const done = summaryOf(
      base({
        name: 'runBatch',
        output: {
          kind: 'batch',
          workflow: 'ticket-triage',
          version: '1.0.0',
          itemsBlob: 'c/in.jsonl',
          outputBlob: 'c/out.jsonl',
          summaryBlob: 'c/out.summary.json',
          total: 10,
          succeeded: 8,
          failed: 2,
          costUsd: 0.004,
          startedAt: '2026-01-01T00:00:00Z',
          finishedAt: '2026-01-01T00:01:00Z',
        },
      }),
    );
    expect(done).toMatchObject({
      workflow: 'ticket-triage',
      version: '1.0.0',
      batch: { done: 10, failed: 2 },
    });
  });

  it('list their failed items with errors, lowest lines first, skipping lanes and successes', async () => {
    const item = (line: number, outcome: 'completed' | 'failed', runtimeStatus = 'Completed') =>
      base({
        instanceId: `b:${line}`,
        runtimeStatus,
        output:
          runtimeStatus === 'Completed'
            ? {
                outcome,
                workflow: 'w',
                version: 1,
                output: null,
                ledger: {
                  rows: [],
                  totals: {
                    calls: 0,
                    usage: { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 },
                    costUsd: 0,
                  },
                },
                ...(outcome === 'failed'
                  ? { error: { kind: 'step_failed', message: 'boom', stepId: 's' } }
                  : {}),
              }
            : 'crashed',
      });
    const instances = [
      item(12, 'failed'),
      item(3, 'completed'),
      base({ instanceId: 'b:lane:0:1', name: 'runBatchLane' }),
      item(7, 'failed', 'Failed'),
    ];
    const management = {
      listInstances: (request: { instanceIdPrefix?: string }) => {
        expect(request.instanceIdPrefix).toBe('b:');
        return Promise.resolve({ instances });
      },
    } as unknown as DurableManagement;
    const failed = await failedBatchItems(management, 'b');
    expect(failed.map((f) => [f.line, f.status, f.error?.kind])).toEqual([
      [7, 'failed', 'orchestration_failed'],
      [12, 'failed', 'step_failed'],
    ]);
  });
});

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();
const modelResult = (ok: boolean) =>
  ok
    ? {
        ok: true,
        message: { role: 'assistant', content: [{ type: 'text', text: 'hi' }] },
        stopReason: 'end_turn',
        usage: { inputTokens: 100, outputTokens: 10, cacheWriteTokens: 0, cacheReadTokens: 300 },
        costUsd: 0.0047989999999999994,
        priced: true,
        provider: 'anthropic',
        deployment: 'claude-haiku-4-5',
        model: 'claude-haiku-4-5-20251001',
        offline: false,
        latencyMs: 812,
      }
    : {
        ok: false,
        retryable: true,
        kind: 'rate_limited',
        message: 'slow down',
        provider: 'anthropic',
        deployment: 'claude-haiku-4-5',
        fallbackAvailable: false,
      };

const history = (
  events: Record<string, unknown>[],
  over: Partial<InstanceHistory> = {},
): InstanceHistory => ({
  instanceId: 'r',
  name: 'runWorkflow',
  runtimeStatus: 'Completed',
  createdTime: at(0),
  lastUpdatedTime: at(60),
  historyEvents: events,
  ...over,
});

describe('waterfall', () => {
  // The Durable HTTP API's shape (DurableClient.cs GetDurableOrchestrationStatusAsync): no EventId or
  // TaskScheduledId; a finished call's scheduling event folded into its completion; a finished child's
  // creation event (and its id) gone; TimerFired without TimerId.
  const events = [
    { EventType: 'ExecutionStarted', FunctionName: 'runWorkflow', Timestamp: at(0) },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'callModel',
      ScheduledTime: at(1),
      Timestamp: at(2),
      Result: modelResult(false),
    },
    { EventType: 'TimerCreated', FireAt: at(5), Timestamp: at(2) },
    { EventType: 'TimerFired', FireAt: at(5), Timestamp: at(5) },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'callModel',
      ScheduledTime: at(5),
      Timestamp: at(6),
      Result: JSON.stringify(modelResult(true)),
    },
    {
      EventType: 'TaskFailed',
      FunctionName: 'tool_web_search',
      ScheduledTime: at(6),
      Timestamp: at(7),
      Reason: 'Bearer abc.def broke\nstack',
    },
    {
      EventType: 'SubOrchestrationInstanceCompleted',
      FunctionName: 'agentLoop',
      ScheduledTime: at(7),
      Timestamp: at(20),
    },
    { EventType: 'TimerCreated', FireAt: at(86_400), Timestamp: at(21) },
    { EventType: 'EventRaised', Name: 'review', Timestamp: at(30) },
    { EventType: 'TaskCompleted', FunctionName: 'sendCallback', ScheduledTime: at(31), Timestamp: at(32) },
    // Still pending: keeps its scheduling event, with Name.
    { EventType: 'TaskScheduled', Name: 'saveArtifact', Timestamp: at(33) },
  ];
  const steps = [
    {
      stepId: 'plan',
      kind: 'llm',
      status: 'completed' as const,
      startedAt: at(0),
      endedAt: at(6),
      tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
      costUsd: 0,
      toolCalls: 0,
      retries: 1,
    },
    {
      stepId: 'review',
      kind: 'approval',
      status: 'completed' as const,
      startedAt: at(21),
      endedAt: at(30),
      tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
      costUsd: 0,
      toolCalls: 0,
      retries: 0,
    },
  ];

  it('pairs events into spans: model figures, retry waits, failures, child runs, approvals', () => {
    const spans = instanceSpans(history(events, { runtimeStatus: 'Terminated' }), {
      depth: 0,
      stepFor: () => undefined,
    });
    const byId = new Map(spans.map((s) => [s.id, s]));
    expect(byId.get('r#1')).toMatchObject({
      kind: 'model',
      status: 'failed',
      error: 'rate_limited: slow down',
      start: at(1),
      end: at(2),
    });
    // Calls are numbered by their completions; a timer by its position, its firing matched by FireAt.
    expect(byId.get('r#-3')).toMatchObject({ kind: 'retry_wait', start: at(2), end: at(5) });
    expect(byId.get('r#2')?.model).toEqual({
      provider: 'anthropic',
      deployment: 'claude-haiku-4-5',
      model: 'claude-haiku-4-5-20251001',
      inputTokens: 100,
      outputTokens: 10,
      cacheReadTokens: 300,
      cacheWriteTokens: 0,
      cacheHitRate: 0.75,
      costUsd: 0.004799,
      latencyMs: 812,
      stopReason: 'end_turn',
    });
    expect(byId.get('r#3')).toMatchObject({
      kind: 'tool',
      tool: 'web_search',
      status: 'failed',
      error: 'Bearer [redacted] broke',
      detail: true,
      eventId: 3,
    });
    // A finished child no instance was found for: drawn from its completion, without an id.
    expect(byId.get('r#4')).toMatchObject({ kind: 'child', name: 'agentLoop', start: at(7), end: at(20) });
    expect(byId.get('r#4')?.childId).toBeUndefined();
    // The approval wait runs from its deadline timer to the event; the cancelled timer is not shown.
    const approval = spans.find((s) => s.kind === 'approval');
    expect(approval).toMatchObject({ name: 'review', start: at(21), end: at(30), detail: false });
    expect(byId.has('r#-8')).toBe(false);
    expect(byId.get('r#5')).toMatchObject({
      kind: 'activity',
      name: 'sendCallback',
      start: at(31),
      end: at(32),
    });
    // Still open when the run was terminated: failed at the run's last update, nothing to drill into.
    expect(byId.get('r#-11')).toMatchObject({ status: 'failed', end: at(60), error: 'the run stopped' });
    expect(byId.get('r#-11')).toMatchObject({ detail: false });
    expect(byId.get('r#-11')?.eventId).toBeUndefined();
  });

  it('places steps first, then events by start, each child run’s events after its bar, one level deeper', () => {
    const child = history(
      [
        {
          EventType: 'TaskCompleted',
          FunctionName: 'callModel',
          ScheduledTime: at(8),
          Timestamp: at(9),
          Result: modelResult(true),
        },
      ],
      { instanceId: 'r:research:0', name: 'agentLoop', createdTime: at(7), lastUpdatedTime: at(20) },
    );
    const spans = buildWaterfall(history(events), steps, new Map([[child.instanceId, child]]));
    expect(spans.slice(0, 2).map((s) => s.id)).toEqual(['step:plan', 'step:review']);
    // The child found by id prefix takes the place of its completion event, drawn from the instance itself.
    expect(spans.some((s) => s.id === 'r#4')).toBe(false);
    const childIndex = spans.findIndex((s) => s.id === 'r>r:research:0');
    expect(spans[childIndex]).toMatchObject({
      kind: 'child',
      name: 'agentLoop research:0',
      childId: 'r:research:0',
      start: at(7),
      end: at(20),
      status: 'completed',
    });
    expect(spans[childIndex + 1]).toMatchObject({ id: 'r:research:0#1', depth: 1, stepId: 'research' });
    expect(spans.find((s) => s.id === 'r#2')?.stepId).toBe('plan');
    expect(childTree('r', new Map([[child.instanceId, child]]))).toEqual([
      {
        id: 'r:research:0',
        orchestrator: 'agentLoop',
        stepId: 'research',
        status: 'Completed',
        createdAt: at(7),
        updatedAt: at(20),
        children: [],
      },
    ]);
    // In text: one bar per span on the same axis.
    const text = waterfallText(spans, Date.parse(at(60)));
    expect(text.split('\n')).toHaveLength(spans.length + 2);
    expect(bar(0, 10, 0, 10, 10)).toBe('|██████████|');
    expect(bar(5, 6, 0, 10, 10)).toBe('|     █    |');
    expect(spanFigures(spans.find((s) => s.id === 'r#2') as WaterfallSpan)).toBe(
      'claude-haiku-4-5-20251001  400/10 tok  cache 75.0 %  $0.0048',
    );
  });

  it("finds each descendant's parent by id, labels with colons included", () => {
    const known = new Set(['r:research:0', 'r:sub', 'r:sub:analyze', 'r:sub:analyze:1']);
    expect(parentOf('r', 'r:research:0', known)).toBe('r');
    expect(parentOf('r', 'r:sub:analyze', known)).toBe('r:sub');
    expect(parentOf('r', 'r:sub:analyze:1', known)).toBe('r:sub:analyze');
    expect(parentOf('r', 'q:1', known)).toBeUndefined();
    const at7 = { createdTime: at(7), lastUpdatedTime: at(9) };
    const tree = childTree(
      'r',
      new Map(
        ['r:sub', 'r:sub:analyze', 'r:research:0'].map((instanceId) => [
          instanceId,
          history([], { instanceId, name: instanceId === 'r:sub' ? 'runWorkflow' : 'agentLoop', ...at7 }),
        ]),
      ),
    );
    expect(tree.map((child) => [child.id, child.children.map((grandchild) => grandchild.id)])).toEqual([
      ['r:research:0', []],
      ['r:sub', ['r:sub:analyze']],
    ]);
  });

  it('audits approvals the history shows and no call recorded, without doubling recorded ones', () => {
    const spans = buildWaterfall(history(events), steps, new Map());
    const unrecorded = withEventApprovals('r', [], spans, null);
    expect(unrecorded).toEqual([
      { runId: 'r', action: 'approve', by: 'unknown', at: at(30), event: 'review', via: 'event' },
    ]);
    const recorded: AuditRecord = { runId: 'r', action: 'approve', by: 'ana', at: at(31), event: 'review' };
    expect(withEventApprovals('r', [recorded], spans, null)).toEqual([recorded]);
    const rejected = withEventApprovals('r', [], spans, {
      kind: 'approval_rejected',
      message: '"review" was rejected by rita: too thin',
      stepId: 'review',
    });
    expect(rejected).toMatchObject([{ action: 'reject', by: 'rita', via: 'event' }]);
    // Log lines come out oldest first, the action among the spans.
    const lines = logLines({ waterfall: spans, actions: unrecorded }).map((l) => l.text);
    expect(lines.some((l) => l.endsWith('operator approve "review" by unknown via event'))).toBe(true);
    expect(lines.map((l) => l.slice(0, 24))).toEqual(lines.map((l) => l.slice(0, 24)).sort());
  });
});
