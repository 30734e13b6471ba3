import { describe, expect, it } from 'vitest';
import { runWorkflowOrchestrator } from '../../../src/orchestrators/runWorkflow.js';
import type { RunWorkflowInput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, drive } from '../../fakes/orchestrationContext.js';
import { NOW, answer, runtime, scripted, structured, usage } from './scriptedRuntime.js';
import { definition, realChildren, runInput, runWorkflow } from './workflowFixtures.js';

const llm = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'llm',
  role: 'worker',
  prompt,
  ...extra,
});

describe('runWorkflow: llm steps, when and output', () => {
  it('renders templates, calls the model once per step and returns the output step', () => {
    const def = definition([
      llm('plan', 'Plan {{ input.topic }}', {
        role: 'planner',
        system: 'You plan {{ input.topic }}.',
        outputSchema: { type: 'object' },
        maxTokens: 500,
      }),
      llm('write', 'Write about {{ steps.plan.output.title }}'),
    ]);
    const { output, observed } = runWorkflow(runInput(def, { topic: 'tides' }), {
      model: scripted([structured({ title: 'Tides' }), answer('Tides rise.')]),
    });

    expect(output).toMatchObject({ outcome: 'completed', workflow: 'test-flow', version: '1.0.0' });
    expect(output.output).toBe('Tides rise.');
    expect(observed.models).toEqual([
      {
        role: 'planner',
        system: 'You plan tides.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Plan tides' }] }],
        outputSchema: { type: 'object' },
        maxTokens: 500,
        runId: 'run-1',
        stepId: 'plan',
        attempt: 0,
      },
      expect.objectContaining({
        role: 'worker',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Write about Tides' }] }],
        stepId: 'write',
      }),
    ]);
    expect(output.ledger.totals.calls).toBe(2);
    expect(output.ledger.rows.map((r) => [r.stepId, r.role])).toEqual([
      ['plan', 'planner'],
      ['write', 'worker'],
    ]);
  });

  it('skips a step whose when is false and leaves it out of scope', () => {
    const def = definition(
      [llm('draft', 'Draft'), llm('polish', 'Polish {{ steps.draft.output }}', { when: 'input.polish' })],
      { output: 'has(steps.polish) ? steps.polish.output : "raw: " + steps.draft.output' },
    );
    const skipped = runWorkflow(runInput(def, { polish: false }), { model: scripted([answer('d')]) });
    expect(skipped.output.output).toBe('raw: d');
    expect(skipped.observed.models).toHaveLength(1);

    const ran = runWorkflow(runInput(def, { polish: true }), { model: scripted([answer('d'), answer('p')]) });
    expect(ran.output.output).toBe('p');
  });

  it('applies a workflow role alias, and routes a provider:deployment override through callModel', () => {
    const aliased = runWorkflow(runInput(definition([llm('a', 'x')], { roles: { worker: 'writer' } })), {
      model: scripted([answer('ok')]),
    });
    expect(aliased.observed.models[0]?.role).toBe('writer');
    expect(aliased.observed.models[0]?.route).toBeUndefined();

    const pinned = runWorkflow(runInput(definition([llm('a', 'x')], { roles: { worker: 'openai:gpt-5' } })), {
      model: scripted([answer('ok')]),
    });
    expect(pinned.output).toMatchObject({ outcome: 'completed', output: 'ok' });
    expect(pinned.observed.models[0]).toMatchObject({
      role: 'worker',
      route: { provider: 'openai', deployment: 'gpt-5' },
    });
  });

  it('fails with a typed error when an expression cannot be evaluated', () => {
    const def = definition([llm('a', 'Hello {{ input.missing.field }}')]);
    const { output } = runWorkflow(runInput(def, {}), {});
    expect(output).toMatchObject({
      outcome: 'failed',
      output: null,
      error: { stepId: 'a', kind: 'expression_error' },
    });
  });

  it('rejects a bad input before scheduling anything', () => {
    const context = new FakeOrchestrationContext({ definition: { name: 'x' } }, NOW);
    expect(() => drive(runWorkflowOrchestrator, context, runtime({}))).toThrow(
      /Invalid runWorkflow input: definition\./,
    );
    expect(context.calls).toEqual([]);
  });

  it('reports progress: current step, position, usage, cost and the step timeline', () => {
    const def = definition([llm('a', 'x'), llm('b', 'y')]);
    const { context, output } = runWorkflow(runInput(def), { model: scripted([answer('1'), answer('2')]) });
    const at = NOW.toISOString();
    const tokens = (input: number, outputTokens: number) => ({
      input,
      output: outputTokens,
      cacheWrite: 0,
      cacheRead: 0,
    });
    const running = (stepId: string) => ({
      stepId,
      kind: 'llm',
      status: 'running',
      role: 'worker',
      startedAt: at,
      tokens: tokens(0, 0),
      costUsd: 0,
      toolCalls: 0,
    });
    const completed = (stepId: string) => ({
      ...running(stepId),
      status: 'completed',
      endedAt: at,
      tokens: tokens(100, 50),
      costUsd: 0.01,
      deployments: ['claude-haiku'],
    });
    expect(context.customStatuses).toEqual([
      {
        workflow: 'test-flow',
        version: '1.0.0',
        step: 'a',
        stepIndex: 0,
        stepCount: 2,
        usage: usage(0, 0),
        costUsd: 0,
        timeline: [running('a')],
      },
      {
        workflow: 'test-flow',
        version: '1.0.0',
        step: 'b',
        stepIndex: 1,
        stepCount: 2,
        usage: usage(),
        costUsd: 0.01,
        timeline: [completed('a'), running('b')],
      },
      {
        workflow: 'test-flow',
        version: '1.0.0',
        stepIndex: 2,
        stepCount: 2,
        usage: usage(200, 100),
        costUsd: 0.02,
        timeline: [completed('a'), completed('b')],
      },
    ]);
    expect(output.timeline).toEqual([completed('a'), completed('b')]);
  });

  it('records skipped and failed steps in the timeline, with the error cut short', () => {
    const def = definition(
      [llm('draft', 'Draft', { when: 'false' }), llm('write', 'Write {{ input.missing.field }}')],
      { output: 'steps.write.output' },
    );
    const { output } = runWorkflow(runInput(def, {}), {});
    expect(output.timeline?.map((r) => [r.stepId, r.status])).toEqual([
      ['draft', 'skipped'],
      ['write', 'failed'],
    ]);
    expect(output.timeline?.[1]?.error).toMatch(/missing/);
    expect(output.timeline?.[1]?.endedAt).toBe(NOW.toISOString());
  });
});

describe('runWorkflow: budget', () => {
  it('stops cleanly with budget_exceeded, the error and the ledger so far', () => {
    const def = definition([llm('a', 'x'), llm('b', 'y')], { budget: { maxCostUsd: 0.05 } });
    const { output, observed } = runWorkflow(runInput(def), {
      model: scripted([answer('big', { costUsd: 0.06 })]),
    });
    expect(output.outcome).toBe('budget_exceeded');
    expect(output.error).toEqual({
      stepId: 'a',
      kind: 'BudgetExceeded',
      message: 'spent $0.0600 of $0.0500 budget (stopped after a)',
    });
    expect(output.ledger.rows).toHaveLength(1);
    expect(observed.models).toHaveLength(1);
  });

  it('takes the tighter of its own budget and the one it inherited', () => {
    const def = definition([llm('a', 'x'), llm('b', 'y')], { budget: { maxTokens: 10_000 } });
    const { output } = runWorkflow(runInput(def, {}, { inheritedBudget: { maxTokens: 200 } }), {
      model: scripted([answer('1'), answer('2')]),
    });
    expect(output).toMatchObject({ outcome: 'budget_exceeded', error: { stepId: 'b' } });
    expect(output.error?.message).toMatch(/^used 300 of 200 budgeted tokens/);
  });
});

describe('runWorkflow: workflow steps', () => {
  const child = definition([llm('summary', 'Summarize {{ input.text }}')], { name: 'summarize' });
  const parent = definition(
    [
      llm('draft', 'Draft'),
      { id: 'short', kind: 'workflow', workflow: 'summarize', input: { text: '{{ steps.draft.output }}' } },
    ],
    { budget: { maxCostUsd: 2 } },
  );

  it('runs the named definition as a child run with rendered input and the remaining budget', () => {
    const script = { model: scripted([answer('long draft'), answer('short')]) };
    const { output, context } = runWorkflow(runInput(parent, {}, { workflows: { summarize: child } }), {
      ...script,
      child: realChildren(script),
    });
    const call = context.calls.find((c) => c.kind === 'subOrchestration');
    expect(call).toMatchObject({ name: 'runWorkflow', instanceId: 'run-1:short' });
    expect(call?.input).toMatchObject({
      input: { text: 'long draft' },
      inheritedBudget: { maxCostUsd: 1.99 },
      rootRunId: 'run-1',
    } satisfies Partial<RunWorkflowInput>);
    expect(output).toMatchObject({ outcome: 'completed', output: 'short' });
    expect(output.ledger.rows.map((r) => r.stepId)).toEqual(['draft', 'short/summary']);
  });

  it('fails with the child error, located inside the child', () => {
    const { output } = runWorkflow(runInput(parent, {}, { workflows: { summarize: child } }), {
      model: scripted([answer('draft')]),
      child: () => ({
        outcome: 'failed',
        workflow: 'summarize',
        version: '1.0.0',
        output: null,
        error: { stepId: 'summary', kind: 'bad_request', message: 'prompt too long' },
        ledger: { rows: [], totals: { calls: 0, usage: usage(0, 0), costUsd: 0 } },
      }),
    });
    expect(output.error).toEqual({
      stepId: 'short/summary',
      kind: 'bad_request',
      message: 'workflow "summarize": prompt too long',
    });
  });

  it('fails clearly when the workflow was not passed in', () => {
    const { output } = runWorkflow(runInput(parent), { model: scripted([answer('draft')]) });
    expect(output.error).toMatchObject({ stepId: 'short', kind: 'unknown_workflow' });
  });
});

describe('runWorkflow: parallel steps', () => {
  it('runs the branches in one round and keys the output by branch, leaving out skipped ones', () => {
    const def = definition([
      {
        id: 'compare',
        kind: 'parallel',
        branches: {
          pros: llm('pros', 'Pros of {{ input.x }}'),
          cons: llm('cons', 'Cons of {{ input.x }}'),
          extra: llm('extra', 'More', { when: 'false' }),
        },
      },
    ]);
    const { output, observed } = runWorkflow(runInput(def, { x: 'tea' }), {
      model: (input) =>
        answer(`answer to ${(input.messages as { content: { text: string }[] }[])[0]?.content[0]?.text}`),
    });
    expect(observed.rounds.map((round) => round.length)).toEqual([2]);
    expect(output.output).toEqual({ pros: 'answer to Pros of tea', cons: 'answer to Cons of tea' });
    expect(observed.models.map((m) => m.stepId)).toEqual(['compare.pros', 'compare.cons']);
    expect(output.ledger.rows.map((r) => r.stepId)).toEqual(['compare.pros', 'compare.cons']);
  });
});

describe('runWorkflow: a map inside a parallel branch', () => {
  it('nests the map rounds inside the parallel round and books both under their branch', () => {
    const def = definition([
      {
        id: 'views',
        kind: 'parallel',
        branches: {
          each: {
            id: 'each',
            kind: 'map',
            over: 'input.xs',
            concurrency: 2,
            step: { id: 'one', kind: 'llm', role: 'worker', prompt: 'item {{ item }}' },
          },
          summary: llm('summary', 'all {{ input.xs }}'),
        },
      },
    ]);
    const { output, observed } = runWorkflow(runInput(def, { xs: ['a', 'b', 'c'] }), {
      model: (input) => answer(input.stepId),
    });
    expect(observed.rounds.map((round) => round.map((t) => t.kind))).toEqual([
      ['all', 'activity'],
      ['activity', 'activity'],
      ['all'],
      ['activity'],
    ]);
    expect(output.output).toEqual({
      each: ['views.each:0', 'views.each:1', 'views.each:2'],
      summary: 'views.summary',
    });
    expect(output.ledger.rows.map((r) => [r.stepId, r.calls])).toEqual([
      ['views.each', 3],
      ['views.summary', 1],
    ]);
  });
});
