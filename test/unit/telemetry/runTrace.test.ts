import { describe, expect, it } from 'vitest';
import { runBatchLaneOrchestrator } from '../../../src/orchestrators/batchJobLane.js';
import type { BatchLaneInput } from '../../../src/shared/batchJobTypes.js';
import { FakeOrchestrationContext, drive, type FakeTask } from '../../fakes/orchestrationContext.js';
import type { CallModelInput } from '../../../src/shared/modelTypes.js';
import type { ToolCallInput } from '../../../src/shared/toolTypes.js';
import type { RunTrace } from '../../../src/shared/traceTypes.js';
import { RunTrace as RunTraceSchema } from '../../../src/shared/traceTypes.js';
import { answer, scripted, toolUse } from '../orchestrators/scriptedRuntime.js';
import { definition, realChildren, runInput, runWorkflow } from '../orchestrators/workflowFixtures.js';

/**
 * The run's trace context travels from the runWorkflow input into every model and tool call, through
 * agent loops and child workflow runs, unchanged but for the run's id and workflow (which the top-level
 * run adds and children keep). Orchestrators only copy it; the replay test in runWorkflow.test.ts keeps
 * them deterministic.
 */
const STARTER: RunTrace = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=1',
};

const child = definition([{ id: 'summary', kind: 'llm', role: 'worker', prompt: 'Sum {{ input.text }}' }], {
  name: 'summarize',
});
const parent = definition([
  { id: 'draft', kind: 'llm', role: 'worker', prompt: 'Draft' },
  { id: 'look', kind: 'agent', role: 'worker', prompt: 'Look it up', tools: ['web_search'], maxTurns: 3 },
  { id: 'short', kind: 'workflow', workflow: 'summarize', input: { text: '{{ steps.draft.output }}' } },
]);

function traced(trace: RunTrace | undefined) {
  const models: CallModelInput[] = [];
  const tools: ToolCallInput[] = [];
  const model = scripted([
    answer('long draft'),
    toolUse([{ id: 'toolu_1', name: 'web_search', input: { query: 'tides' } }]),
    answer('found'),
    answer('short'),
  ]);
  const script = {
    model: (input: CallModelInput) => {
      models.push(input);
      return model(input);
    },
    tool: (input: ToolCallInput) => {
      tools.push(input);
      return { toolUseId: input.toolUseId, name: input.name, isError: false, content: 'ok', durationMs: 1 };
    },
  };
  const extra = { workflows: { summarize: child }, ...(trace === undefined ? {} : { trace }) };
  const { output, context } = runWorkflow(runInput(parent, {}, extra), {
    ...script,
    child: realChildren(script),
  });
  return { output, context, models, tools };
}

describe('the run trace in orchestration and activity inputs', () => {
  it('reaches every model and tool call, in agent loops and child runs, with the run id and workflow', () => {
    const { output, context, models, tools } = traced(STARTER);
    expect(output.outcome).toBe('completed');
    const expected = { ...STARTER, runId: 'run-1', workflow: 'test-flow' };
    expect(models.map((m) => m.stepId)).toEqual(['draft', 'look', 'look', 'summary']);
    for (const input of models) expect(input.trace, input.stepId).toEqual(expected);
    expect(tools).toHaveLength(1);
    expect(tools[0]?.trace).toEqual(expected);
    const children = context.calls.filter((call) => call.kind === 'subOrchestration');
    expect(children.map((call) => call.name)).toEqual(['agentLoop', 'runWorkflow']);
    for (const call of children) expect((call.input as { trace?: unknown }).trace).toEqual(expected);
  });

  it('adds nothing when the run is not traced', () => {
    const { models, tools, context } = traced(undefined);
    for (const input of [...models, ...tools]) expect('trace' in input).toBe(false);
    for (const call of context.calls) expect(call.input).not.toHaveProperty('trace');
  });

  it('accepts only a W3C traceparent, naming the format', () => {
    for (const traceparent of [
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    ]) {
      const parsed = RunTraceSchema.safeParse({ traceparent });
      expect(parsed.success, traceparent).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/W3C trace context header/);
    }
  });
});

describe('the batch job trace', () => {
  it('goes with the template into every item run of a lane', () => {
    const lane: BatchLaneInput = {
      run: {
        definition: child as BatchLaneInput['run']['definition'],
        workflows: {},
        tools: {},
        trace: STARTER,
      },
      batchId: 'batch-1',
      items: [
        { line: 1, input: { text: 'a' } },
        { line: 2, input: { text: 'b' } },
      ],
    };
    const context = new FakeOrchestrationContext(lane, undefined, 'batch-1:lane0');
    const summary = { outcome: 'completed', ledger: { totals: { costUsd: 0 } } };
    drive(runBatchLaneOrchestrator, context, (task: FakeTask) => ({
      value: task.kind === 'subOrchestration' ? summary : undefined,
    }));
    const items = context.calls.filter((call) => call.kind === 'subOrchestration');
    expect(items).toHaveLength(2);
    for (const item of items) expect((item.input as { trace?: unknown }).trace).toEqual(STARTER);
  });
});
