import { describe, expect, it } from 'vitest';
import { runWorkflowOrchestrator } from '../../../src/orchestrators/runWorkflow.js';
import { Names } from '../../../src/shared/names.js';
import { RunFailed } from '../../../src/orchestrators/runStopped.js';
import type { RunWorkflowOutput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, drive } from '../../fakes/orchestrationContext.js';
import { NOW, answer, failure, runtime, scripted, type Observed, type Script } from './scriptedRuntime.js';
import { definition, runInput } from './workflowFixtures.js';

/**
 * The callback change is gated by version (ORCHESTRATION_VERSIONS.callbackFirst): runs at 2.0 start the
 * `runCallback` orchestration first; runs started before versioning deliver the callback at the end with
 * `sendCallback`, as they did, so their histories replay (test/fixtures/replay/ticket-triage+callback.json).
 */
const URL = 'https://hooks.example.com/done';
const steps = [{ id: 'answer', kind: 'llm', role: 'worker', prompt: 'Say hi.' }];

function run(
  version: string,
  script: Script,
): { output?: RunWorkflowOutput; thrown?: unknown; context: FakeOrchestrationContext } {
  const context = new FakeOrchestrationContext(
    runInput(definition(steps), {}, { callback: { url: URL } }),
    NOW,
    'run-1',
    undefined,
    version,
  );
  const observed: Observed = { rounds: [], races: [], models: [], saves: [] };
  try {
    return { output: drive(runWorkflowOrchestrator, context, runtime(script, observed)), context };
  } catch (thrown) {
    return { thrown, context };
  }
}

const activities = (context: FakeOrchestrationContext) =>
  context.calls.filter((c) => c.kind === 'activity').map((c) => c.name);

describe('completion callback by orchestration version', () => {
  const delivered = { delivered: true, status: 200 };

  it('a 2.0 run starts its callback orchestration first and sends nothing itself', () => {
    const { output, context } = run('2.0', {
      model: scripted([answer('hi')]),
      activity: (name) => (name === Names.activities.startCallback ? { started: true } : undefined),
    });
    expect(activities(context)).toEqual([Names.activities.startCallback, Names.activities.callModel]);
    expect(context.calls[0]?.input).toEqual({ runId: 'run-1', url: URL });
    expect(output?.callback).toBeUndefined();
  });

  it('an unversioned run sends its callback at the end, as runs before versioning did', () => {
    const sent: unknown[] = [];
    const { output, context } = run('', {
      model: scripted([answer('hi')]),
      activity: (name, input) =>
        name === Names.activities.sendCallback ? (sent.push(input), delivered) : undefined,
    });
    expect(activities(context)).toEqual([Names.activities.callModel, Names.activities.sendCallback]);
    expect(sent).toEqual([
      expect.objectContaining({
        url: URL,
        runId: 'run-1',
        body: expect.objectContaining({
          id: 'run-1',
          status: 'Completed',
          outcome: 'completed',
          output: 'hi',
        }) as unknown,
      }),
    ]);
    expect(output).toMatchObject({ outcome: 'completed', callback: delivered });
  });

  it('an unversioned run that fails still completes with its outcome after the callback, as it did', () => {
    const { output, thrown, context } = run('', {
      model: () => failure({ kind: 'bad_request', retryable: false, status: 400, message: 'no' }),
      activity: (name) => (name === Names.activities.sendCallback ? delivered : undefined),
    });
    expect(thrown).toBeUndefined();
    expect(activities(context).at(-1)).toBe(Names.activities.sendCallback);
    expect(output).toMatchObject({ outcome: 'failed', callback: delivered });
  });

  it('a 2.0 run that fails throws RunFailed (runtime status Failed)', () => {
    const { thrown } = run('2.0', {
      model: () => failure({ kind: 'bad_request', retryable: false, status: 400, message: 'no' }),
      activity: (name) => (name === Names.activities.startCallback ? { started: true } : undefined),
    });
    expect(thrown).toBeInstanceOf(RunFailed);
  });
});
