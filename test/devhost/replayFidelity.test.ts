import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OrchestrationHandler } from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableEngine } from '../../devhost/durable/engine.js';
import { loadFunctionsApp } from '../../devhost/functions/appLoader.js';
import { exportRunFromStore } from '../../scripts/lib/storeExport.js';
import type { RunExport } from '../../src/replay/exportFile.js';
import { EventType, eventTypeName, type HistoryEvent } from '../../src/replay/history.js';
import { replayInstance } from '../../src/replay/replayer.js';
import { orchestratorsOf, replayRunExport } from '../../src/replay/replayRun.js';

/**
 * Fidelity of devhost's engine to durable-functions 3.5 (issue 16, 9a), without the library's own test
 * histories: devhost runs one orchestrator of each shape (test/fixtures/fidelity-app), and the history it
 * recorded is replayed through the library's orchestration handler (`createOrchestrator`, what
 * `df.app.orchestration` registers; lib/src/orchestrations/Orchestrator.js and TaskOrchestrationExecutor.js).
 * Each episode must schedule, under the sequence numbers devhost wrote into TaskScheduled / TimerCreated /
 * SubOrchestrationInstanceCreated, what the SDK itself numbers that way (TaskOrchestrationExecutor.trackOpenTask,
 * RetryableTask.js, LongTimerTask.js), end as devhost recorded, and return the output devhost stored.
 * Where the order of events is fixed, the history is also compared with the one written here by hand
 * from those library files.
 */
const appDir = path.resolve(__dirname, '../fixtures/fidelity-app');
/** The fixture's generators, required after devhost loaded the app (it must see the core module first). */
let orchestrators: Record<string, OrchestrationHandler> = {};

interface Case {
  readonly name: string;
  readonly input?: unknown;
  readonly drive?: (engine: DurableEngine, id: string) => Promise<void>;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const CASES: Case[] = [
  { name: 'sequence' },
  { name: 'fanOutFanIn' },
  { name: 'timers' },
  {
    name: 'externalEvents',
    drive: async (engine, id) => {
      await until(() => engine.getStatus(id)?.customStatus === 'waiting');
      engine.raiseEvent(id, 'early', { first: true });
      engine.raiseEvent(id, 'decision', { approved: 'ada' });
    },
  },
  { name: 'subOrchestrations' },
  { name: 'retries' },
  { name: 'continueAsNew', input: 0 },
  { name: 'failures' },
];

let stateDir: string;
const exports = new Map<string, RunExport>();
const outputs = new Map<string, { status: string; output: unknown }>();

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'replay-fidelity-'));
  const invoker = await loadFunctionsApp(appDir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the fixture app is plain CommonJS
  ({ orchestrators } = require(path.join(appDir, 'index.js')) as {
    orchestrators: Record<string, OrchestrationHandler>;
  });
  const engine = DurableEngine.open({ stateDir, invoker, taskHubName: 'FidelityHub' });
  engine.start();
  const ids = new Map<string, string>();
  try {
    for (const c of CASES) {
      const outcome = engine.start({ orchestratorName: c.name, input: c.input ?? null });
      if (!outcome || outcome.kind !== 'started') throw new Error(`could not start ${c.name}`);
      ids.set(c.name, outcome.instanceId);
      await c.drive?.(engine, outcome.instanceId);
      const status = await engine.waitForCompletion(outcome.instanceId);
      outputs.set(c.name, { status: status.runtimeStatus, output: status.output });
    }
  } finally {
    await engine.stop();
  }
  for (const [name, id] of ids)
    exports.set(name, await exportRunFromStore({ stateDir, instanceId: id, fullInputs: true }));
});

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const historyOf = (name: string, index = 0): HistoryEvent[] => {
  const history = exports.get(name)?.instances[index]?.history;
  if (history?.shape !== 'orchestration') throw new Error(`no history for ${name}`);
  return history.events;
};

/** The events that are not episode markers, as `Type#id "name"` (scheduling) or `Type(id)` (completions). */
function skeleton(events: readonly HistoryEvent[]): string[] {
  return events
    .filter(
      (e) => e.EventType !== EventType.OrchestratorStarted && e.EventType !== EventType.OrchestratorCompleted,
    )
    .map((e) => {
      const type = eventTypeName(e.EventType);
      if (e.EventId >= 0) return `${type}#${e.EventId}${e.Name !== undefined ? ` ${e.Name}` : ''}`;
      const ref = e.TaskScheduledId ?? e.TimerId;
      if (ref !== undefined) return `${type}(${ref})`;
      if (e.EventType === EventType.EventRaised) return `${type} ${e.Name ?? ''}`;
      if (e.OrchestrationStatus !== undefined) return `${type} ${e.OrchestrationStatus}`;
      return type;
    });
}

describe('devhost histories replayed through the durable-functions 3.5 handler', () => {
  it.each(CASES.map((c) => c.name))(
    '%s: same actions under the same numbers, same end, same output',
    async (name) => {
      const exported = exports.get(name);
      if (!exported) throw new Error(`${name} did not run`);
      const result = await replayRunExport(exported, orchestratorsOf(orchestrators));
      expect(result.divergence).toBeUndefined();
      expect(result.instances).toHaveLength(exported.instances.length);
      const root = result.instances[0];
      const recorded = outputs.get(name);
      if (recorded?.status === 'Failed') {
        expect(root?.lastAnswer?.error).toBeDefined();
        expect(String(recorded.output)).toContain(root?.lastAnswer?.error ?? '?');
      } else {
        expect(recorded?.status).toBe('Completed');
        expect(root?.lastAnswer?.isDone).toBe(true);
        expect(root?.lastAnswer?.output).toEqual(recorded?.output);
      }
    },
  );
});

describe('devhost histories against histories written from the library sources', () => {
  it('sequence: one number per activity in yield order', () => {
    expect(skeleton(historyOf('sequence'))).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0 echo',
      'TaskCompleted(0)',
      'TaskScheduled#1 echo',
      'TaskCompleted(1)',
      'TaskScheduled#2 echo',
      'TaskCompleted(2)',
      'ExecutionCompleted Completed',
    ]);
  });

  it('fan-out/fan-in: Task.all numbers its members in order, the next activity follows', () => {
    const events = skeleton(historyOf('fanOutFanIn'));
    expect(events.filter((e) => e.startsWith('TaskScheduled'))).toEqual([
      'TaskScheduled#0 echo',
      'TaskScheduled#1 echo',
      'TaskScheduled#2 echo',
      'TaskScheduled#3 echo',
    ]);
    expect(events.indexOf('TaskScheduled#3 echo')).toBeGreaterThan(
      Math.max(...['TaskCompleted(0)', 'TaskCompleted(1)', 'TaskCompleted(2)'].map((e) => events.indexOf(e))),
    );
  });

  it('timers: a fired timer, then a race whose losing timer is canceled and never fires', () => {
    expect(skeleton(historyOf('timers'))).toEqual([
      'ExecutionStarted',
      'TimerCreated#0',
      'TimerFired(0)',
      'TaskScheduled#1 echo',
      'TimerCreated#2',
      'TaskCompleted(1)',
      'ExecutionCompleted Completed',
    ]);
  });

  it('retries: RetryableTask takes a number at each failure (the retry timer) and at each retry (the attempt)', () => {
    // lib/src/task/RetryableTask.js: a failed attempt tracks a NoOpTask (the timer's number) and waits for
    // it to fire; a fired timer tracks the next attempt's NoOpTask, or, past maxNumberOfAttempts, fails.
    expect(skeleton(historyOf('retries'))).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0 flaky',
      'TaskFailed(0)',
      'TimerCreated#1',
      'TimerFired(1)',
      'TaskScheduled#2 flaky',
      'TaskFailed(2)',
      'TimerCreated#3',
      'TimerFired(3)',
      'TaskScheduled#4 flaky',
      'TaskCompleted(4)',
      'TaskScheduled#5 flaky',
      'TaskFailed(5)',
      'TimerCreated#6',
      'TimerFired(6)',
      'TaskScheduled#7 flaky',
      'TaskFailed(7)',
      'TimerCreated#8',
      'TimerFired(8)',
      'ExecutionCompleted Completed',
    ]);
  });

  it('sub-orchestrations: given and generated ids, and a retried child that keeps failing', () => {
    const events = historyOf('subOrchestrations');
    const scheduling = skeleton(events).filter((e) => e.includes('#'));
    expect(scheduling).toEqual([
      'SubOrchestrationInstanceCreated#0 child',
      'SubOrchestrationInstanceCreated#1 child',
      'SubOrchestrationInstanceCreated#2 child',
      'SubOrchestrationInstanceCreated#3 child',
      'TimerCreated#4',
      'SubOrchestrationInstanceCreated#5 child',
      'TimerCreated#6',
    ]);
    const id = exports.get('subOrchestrations')?.run.instanceId ?? '';
    expect(events.find((e) => e.EventId === 0)?.InstanceId).toBe(`${id}-named`);
    // Every child's own history replays too (checked above); each is a separate instance of the export.
    expect(exports.get('subOrchestrations')?.instances.map((i) => i.parentInstanceId)).toEqual([
      null,
      id,
      id,
      id,
      id,
      id,
    ]);
  });

  it('failures: a caught activity failure, then an uncaught one fails the orchestration', () => {
    expect(skeleton(historyOf('failures'))).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0 fails',
      'TaskFailed(0)',
      'TaskScheduled#1 fails',
      'TaskFailed(1)',
      'ExecutionCompleted Failed',
    ]);
  });

  it('external events: buffered and raced events end as the handler ends them', () => {
    const events = skeleton(historyOf('externalEvents'));
    expect(events.filter((e) => e.startsWith('EventRaised')).sort()).toEqual([
      'EventRaised decision',
      'EventRaised early',
    ]);
    expect(events.filter((e) => e.startsWith('TimerCreated') || e.startsWith('TimerFired'))).toEqual([
      'TimerCreated#0',
    ]);
    expect(outputs.get('externalEvents')?.output).toEqual({
      decision: { approved: 'ada' },
      early: { first: true },
    });
  });
});

describe('hand-written histories through the durable-functions 3.5 handler', () => {
  const ts = (ms: number) => new Date(Date.UTC(2026, 11, 1) + ms).toISOString();
  const ev = (type: number, ms: number, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({
    EventType: type,
    EventId: -1,
    Timestamp: ts(ms),
    ...fields,
  });
  // One execution of continueAsNew(0): an activity, then continueAsNew(1) (lib/src/actions/ContinueAsNewAction.js).
  const firstExecution = [
    ev(EventType.OrchestratorStarted, 0),
    ev(EventType.ExecutionStarted, 0, { Name: 'continueAsNew', Input: '0' }),
    ev(EventType.TaskScheduled, 0, { EventId: 0, Name: 'echo' }),
    ev(EventType.OrchestratorCompleted, 0),
    ev(EventType.OrchestratorStarted, 10),
    ev(EventType.TaskCompleted, 5, { TaskScheduledId: 0, Result: '0' }),
    ev(EventType.ContinueAsNew, 10, { Result: '1' }),
    ev(EventType.OrchestratorCompleted, 10),
  ];
  const orchestrator = (name: string) => orchestratorsOf(orchestrators)(name);

  it('continues as new where the history did', async () => {
    const result = await replayInstance(
      { instanceId: 'can-0', name: 'continueAsNew', input: '0', history: firstExecution },
      { orchestrator },
    );
    expect(result.divergence).toBeUndefined();
    expect(result.episodes).toBe(2);
    expect(JSON.stringify(result.lastAnswer?.actions)).toContain('"actionType":4');
  });

  it('reports an execution that completes where the history continued as new', async () => {
    const result = await replayInstance(
      { instanceId: 'can-2', name: 'continueAsNew', input: '2', history: firstExecution },
      { orchestrator },
    );
    expect(result.divergence).toMatchObject({ kind: 'no-continue-as-new', episode: 2, actual: 'completed' });
  });

  it('reports a timer where the history scheduled an activity', async () => {
    const history = [
      ev(EventType.OrchestratorStarted, 0),
      ev(EventType.ExecutionStarted, 0, { Name: 'timers', Input: 'null' }),
      ev(EventType.TaskScheduled, 0, { EventId: 0, Name: 'echo' }),
      ev(EventType.OrchestratorCompleted, 0),
    ];
    const result = await replayInstance(
      { instanceId: 't', name: 'timers', input: 'null', history },
      { orchestrator },
    );
    expect(result.divergence).toMatchObject({
      kind: 'other-kind',
      eventIndex: 2,
      expected: 'TaskScheduled #0 "echo"',
      actual: 'timer #0',
    });
  });
});
