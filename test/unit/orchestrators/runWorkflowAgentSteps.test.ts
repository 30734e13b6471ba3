import { describe, expect, it } from 'vitest';
import type { AgentLoopInput, AgentLoopOutput } from '../../../src/shared/runTypes.js';
import { usage } from './scriptedRuntime.js';
import { definition, runInput, runWorkflow } from './workflowFixtures.js';

describe('runWorkflow: agent steps', () => {
  const agentDef = definition(
    [
      {
        id: 'research',
        kind: 'agent',
        role: 'worker',
        system: 'Research carefully.',
        prompt: 'Find out about {{ input.topic }}',
        tools: ['web_search'],
        maxTurns: 5,
      },
    ],
    { budget: { maxCostUsd: 1 } },
  );
  const agentResult = (fields: Partial<AgentLoopOutput> = {}): AgentLoopOutput => ({
    outcome: 'completed',
    output: 'found it',
    text: 'found it',
    turns: 2,
    toolCalls: 1,
    artifacts: [],
    ledger: {
      rows: [
        {
          stepId: 'research',
          role: 'worker',
          provider: 'foundry',
          deployment: 'claude-haiku',
          calls: 2,
          usage: usage(),
          costUsd: 0.1,
          offline: true,
        },
      ],
      totals: { calls: 2, usage: usage(), costUsd: 0.1 },
    },
    ...fields,
  });

  it("hands the loop the workflow's worker for compaction only when its roles re-point it", () => {
    const agentOn = (roles?: Record<string, string>) => {
      const def = definition(
        [{ id: 'plan', kind: 'agent', role: 'planner', prompt: 'Plan', tools: ['web_search'], maxTurns: 3 }],
        roles ? { roles } : {},
      );
      const { context } = runWorkflow(runInput(def, {}), { child: () => agentResult() });
      return context.calls.find((c) => c.kind === 'subOrchestration')?.input as AgentLoopInput;
    };
    expect(agentOn()).not.toHaveProperty('compaction');
    expect(agentOn({ planner: 'writer' })).not.toHaveProperty('compaction');
    expect(agentOn({ worker: 'openai:gpt-5-mini' }).compaction).toEqual({
      role: 'worker',
      route: { provider: 'openai', deployment: 'gpt-5-mini' },
    });
    expect(agentOn({ worker: 'writer' }).compaction).toEqual({ role: 'writer' });
  });

  it("saves an agent step's input files once and hands the loop their references and the step's tool limits", () => {
    const withFiles = definition([
      {
        id: 'analyze',
        kind: 'agent',
        role: 'worker',
        prompt: 'Analyze it',
        tools: ['web_search'],
        maxTurns: 3,
        files: { 'data.csv': '{{ input.csv }}' },
        toolLimits: { timeoutMs: 1500 },
      },
    ]);
    const { context, observed } = runWorkflow(runInput(withFiles, { csv: 'a,b\n1,2\n' }), {
      child: () => agentResult(),
    });
    expect(observed.saves).toEqual([
      { runId: 'run-1', name: 'inputs/analyze/data.csv', contentType: 'text/csv', content: 'a,b\n1,2\n' },
    ]);
    expect(context.calls.find((c) => c.kind === 'subOrchestration')?.input).toMatchObject({
      toolLimits: { timeoutMs: 1500 },
      inputFiles: [
        {
          name: 'data.csv',
          blobRef: 'artifacts/run-1/inputs/analyze/data.csv',
          contentType: 'text/csv',
          bytes: 8,
        },
      ],
    });
  });

  it('passes a file whose value is already a blob reference through without saving it again', () => {
    const withBlob = definition([
      {
        id: 'analyze',
        kind: 'agent',
        role: 'worker',
        prompt: 'Analyze it',
        tools: ['web_search'],
        maxTurns: 3,
        files: { 'big.csv': '{{ input.data }}' },
      },
    ]);
    const data = { blobRef: 'agent-artifacts/uploads/big.csv', bytes: 5_000_000 };
    const { context, observed } = runWorkflow(runInput(withBlob, { data }), { child: () => agentResult() });
    expect(observed.saves).toEqual([]);
    expect(context.calls.find((c) => c.kind === 'subOrchestration')?.input).toMatchObject({
      inputFiles: [{ name: 'big.csv', blobRef: data.blobRef, contentType: 'text/csv', bytes: 5_000_000 }],
    });
  });

  it('runs agentLoop as a sub-orchestration with a deterministic id, the allow-listed tools and the remaining budget', () => {
    const { output, context } = runWorkflow(runInput(agentDef, { topic: 'tides' }), {
      child: () => agentResult(),
    });
    const call = context.calls.find((c) => c.kind === 'subOrchestration');
    expect(call).toMatchObject({ name: 'agentLoop', instanceId: 'run-1:research' });
    expect(call?.input).toEqual({
      runId: 'run-1',
      stepId: 'research',
      role: 'worker',
      system: 'Research carefully.',
      prompt: 'Find out about tides',
      tools: [{ name: 'web_search', description: 'Search the web', inputSchema: { type: 'object' } }],
      maxTurns: 5,
      budget: { maxCostUsd: 1 },
    } satisfies AgentLoopInput);
    expect(output).toMatchObject({ outcome: 'completed', output: 'found it' });
    expect(output.ledger.totals.costUsd).toBe(0.1);
  });

  it('fails the step when the agent runs out of turns', () => {
    const { output } = runWorkflow(runInput(agentDef, { topic: 't' }), {
      child: () => agentResult({ outcome: 'max_turns', output: null, text: 'still looking' }),
    });
    expect(output.outcome).toBe('failed');
    expect(output.error).toMatchObject({ stepId: 'research', kind: 'max_turns' });
    expect(output.error?.message).toContain('still looking');
  });

  it('turns an agent that ran out of budget into a budget_exceeded run, with its spend merged', () => {
    const spent = agentResult({ outcome: 'budget_exceeded', output: null });
    spent.ledger.totals.costUsd = 1.2;
    spent.ledger.rows[0]!.costUsd = 1.2;
    const { output } = runWorkflow(runInput(agentDef, { topic: 't' }), { child: () => spent });
    expect(output.outcome).toBe('budget_exceeded');
    expect(output.ledger.totals.costUsd).toBe(1.2);
  });

  it('fails the step when the child orchestration crashes', () => {
    const { output } = runWorkflow(runInput(agentDef, { topic: 't' }), {
      fault: (task) => (task.kind === 'subOrchestration' ? new Error('child blew up') : undefined),
    });
    expect(output.error).toMatchObject({ stepId: 'research', kind: 'child_failed' });
  });
});
