import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OrchestrationContext } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { parseRunExport, type RunExport } from '../../src/replay/exportFile.js';
import { describeDivergence } from '../../src/replay/replayer.js';
import { orchestratorsOf, replayRunExport } from '../../src/replay/replayRun.js';
import { agentLoopOrchestrator } from '../../src/orchestrators/agentLoop.js';
import { orchestratorRegistrations } from '../../src/orchestrators/registrations.js';
import { runWorkflowOrchestrator } from '../../src/orchestrators/runWorkflow.js';

/** Changed orchestrators replayed against the recorded fixtures: each must be reported where it diverges. */
const fixture = (name: string): RunExport => {
  const file = path.resolve(__dirname, '../fixtures/replay', `${name}.json`);
  return parseRunExport(readFileSync(file, 'utf8'), file);
};

describe('the replayer reports a changed orchestrator', () => {
  it('names the step and the event when a step is inserted into the definition a run replays with', async () => {
    const exported = fixture('data-analysis');
    const root = exported.instances[0];
    if (!root) throw new Error('fixture without instances');
    const input = JSON.parse(root.input ?? 'null') as { definition: { steps: { id: string }[] } };
    const plan = input.definition.steps.find((step) => step.id === 'plan');
    // A second llm step before the agent step: the run recorded saveArtifact (the agent's transcript) as task 1.
    input.definition.steps.splice(1, 0, { ...plan, id: 'inserted' });
    const changed: RunExport = {
      ...exported,
      instances: [{ ...root, input: JSON.stringify(input) }, ...exported.instances.slice(1)],
    };
    const result = await replayRunExport(changed);
    expect(result.divergence).toMatchObject({
      kind: 'other-name',
      instanceId: root.instanceId,
      orchestrator: 'runWorkflow',
      step: 'inserted',
      episode: 2,
      expected: 'TaskScheduled #1 "saveArtifact"',
      actual: 'activity #1 "callModel"',
    });
    const index = result.divergence?.eventIndex ?? -1;
    expect(root.history.events[index]).toMatchObject({ EventType: 4, EventId: 1, Name: 'saveArtifact' });
    expect(describeDivergence(result.divergence!)).toContain('step "inserted"');
  });

  it('finds an activity scheduled before the recorded first one', async () => {
    const exported = fixture('ticket-triage');
    function* auditedFirst(context: OrchestrationContext) {
      yield context.df.callActivity('auditStart', null);
      return yield* runWorkflowOrchestrator(context);
    }
    const result = await replayRunExport(
      exported,
      orchestratorsOf({ ...orchestratorRegistrations, runWorkflow: auditedFirst }),
    );
    expect(result.divergence).toMatchObject({
      kind: 'other-name',
      episode: 1,
      eventIndex: 2,
      expected: 'TaskScheduled #0 "callModel"',
      actual: 'activity #0 "auditStart"',
    });
  });

  it('names the step of a sub-orchestration that diverges', async () => {
    const exported = fixture('research-report');
    function* timerFirst(context: OrchestrationContext) {
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
      return yield* agentLoopOrchestrator(context);
    }
    const result = await replayRunExport(
      exported,
      orchestratorsOf({ ...orchestratorRegistrations, agentLoop: timerFirst }),
    );
    expect(result.divergence).toMatchObject({
      kind: 'other-kind',
      orchestrator: 'agentLoop',
      instanceId: `${exported.run.instanceId}:research:0`,
      step: 'research',
      expected: 'TaskScheduled #0 "callModel"',
      actual: 'timer #0',
    });
  });

  it('reports a run that this build would not finish where the recorded one did', async () => {
    const exported = fixture('ticket-triage');
    function* oneMore(context: OrchestrationContext) {
      const output: unknown = yield* runWorkflowOrchestrator(context);
      yield context.df.callActivity('notify', output);
      return output;
    }
    const result = await replayRunExport(
      exported,
      orchestratorsOf({ ...orchestratorRegistrations, runWorkflow: oneMore }),
    );
    expect(result.divergence).toMatchObject({
      kind: 'not-completed',
      expected: 'ExecutionCompleted (Completed)',
      actual: 'still running',
    });
  });

  it('reports an orchestrator this build no longer registers', async () => {
    const exported = fixture('ticket-triage');
    const result = await replayRunExport(exported, orchestratorsOf({}));
    expect(result.divergence).toMatchObject({ kind: 'unknown-orchestrator', orchestrator: 'runWorkflow' });
  });
});

describe('run export files', () => {
  it('refuses another version and names the problems of a malformed file', () => {
    const text = readFileSync(path.resolve(__dirname, '../fixtures/replay/ticket-triage.json'), 'utf8');
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(() => parseRunExport(JSON.stringify({ ...json, version: 2 }), 'x.json')).toThrow(
      'x.json is run export version 2; this build reads version 1.',
    );
    expect(() => parseRunExport(JSON.stringify({ ...json, instances: [] }), 'y.json')).toThrow(
      /y\.json is not a valid run export:\n {2}- instances: /,
    );
    expect(() => parseRunExport('{"a":1}', 'z.json')).toThrow('z.json is not a run export');
  });
});
