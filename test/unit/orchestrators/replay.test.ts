import { describe, expect, it } from 'vitest';
import { agentLoopOrchestrator } from '../../../src/orchestrators/agentLoop.js';
import { runWorkflowOrchestrator } from '../../../src/orchestrators/runWorkflow.js';
import type { CallModelInput } from '../../../src/shared/modelTypes.js';
import type { AgentLoopInput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, drive } from '../../fakes/orchestrationContext.js';
import {
  NOW,
  answer,
  failure,
  runtime,
  structured,
  toolResult,
  toolUse,
  type Script,
} from './scriptedRuntime.js';
import { TOOLS, definition, realChildren, runAgent, runInput } from './workflowFixtures.js';

const textOf = (input: CallModelInput) =>
  Array.isArray(input.messages) && input.messages[0]?.content[0]?.type === 'text'
    ? input.messages[0].content[0].text
    : '';

/** Answers depend only on the request, like a recorded history: the same request gets the same result. */
function recordedScript(): Script {
  const seen = new Map<string, number>();
  const script: Script = {
    model: (input) => {
      const key = `${input.stepId}:${input.attempt}`;
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      if (input.stepId === 'plan' && count === 1)
        return failure({ retryAfterMs: 1_500, fallbackAvailable: true });
      if (input.stepId === 'plan') return structured({ questions: ['why', 'how', 'when'] });
      if (input.stepId.startsWith('dig:') && input.tools && count === 1) {
        return toolUse([{ id: `${input.stepId}-t`, name: 'web_search', input: { q: input.stepId } }]);
      }
      return answer(`${input.stepId}: ${textOf(input).slice(0, 20)}`, { costUsd: 0.001 });
    },
    tool: (input) => toolResult(input, `results for ${JSON.stringify(input.arguments)}`),
    event: () => ({ approved: true, by: 'ops' }),
  };
  return { ...script, child: realChildren(script) };
}

const richDefinition = definition(
  [
    {
      id: 'plan',
      kind: 'llm',
      role: 'planner',
      prompt: 'Plan {{ input.topic }}',
      outputSchema: { type: 'object' },
    },
    {
      id: 'dig',
      kind: 'map',
      over: 'steps.plan.output.questions',
      concurrency: 2,
      step: {
        id: 'one',
        kind: 'agent',
        role: 'worker',
        prompt: 'Answer {{ item }}',
        tools: ['web_search'],
        maxTurns: 4,
      },
    },
    {
      id: 'views',
      kind: 'parallel',
      branches: {
        short: { id: 'short', kind: 'llm', role: 'writer', prompt: 'Short {{ steps.dig.output }}' },
        child: {
          id: 'child',
          kind: 'workflow',
          workflow: 'polish',
          input: { text: '{{ steps.dig.output[0] }}' },
        },
      },
    },
    { id: 'gate', kind: 'approval', timeout: 'PT1H' },
    {
      id: 'final',
      kind: 'llm',
      role: 'writer',
      prompt: 'Final {{ steps.views.output.short }} by {{ steps.gate.output.by }}',
    },
  ],
  { budget: { maxCostUsd: 5 } },
);
const polish = definition([{ id: 'tidy', kind: 'llm', role: 'worker', prompt: 'Tidy {{ input.text }}' }], {
  name: 'polish',
});

describe('replay determinism', () => {
  it('runWorkflow: the same recorded results twice give the same scheduled actions, statuses and output', () => {
    const runs = [0, 1].map(() => {
      const context = new FakeOrchestrationContext(
        runInput(richDefinition, { topic: 'tides' }, { workflows: { polish } }),
        NOW,
        'run-7',
      );
      const output = drive(runWorkflowOrchestrator, context, runtime(recordedScript()));
      return { calls: context.calls, statuses: context.customStatuses, output };
    });
    expect(runs[0]?.output.outcome).toBe('completed');
    expect(runs[0]?.output.output).toMatch(/^final: Final views\.short/);
    expect(runs[0]?.calls.map((c) => c.kind)).toEqual([
      'activity',
      'timer',
      'activity',
      'subOrchestration',
      'subOrchestration',
      'subOrchestration',
      'activity',
      'subOrchestration',
      'timer',
      'event',
      'activity',
    ]);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('agentLoop: the same recorded results twice give the same scheduled actions and output, across generations', () => {
    const input: AgentLoopInput = {
      runId: 'run-7',
      stepId: 'dig:0',
      role: 'worker',
      prompt: 'Dig',
      tools: [TOOLS.web_search, TOOLS.run_code],
      maxTurns: 9,
      options: { agent: { turnsPerGeneration: 4, transcriptOffloadChars: 600 } },
    };
    const once = () => {
      let turn = 0;
      const script: Script = {
        model: () =>
          ++turn < 7
            ? toolUse([
                { id: `a${turn}`, name: 'web_search', input: { q: turn } },
                { id: `b${turn}`, name: 'run_code', input: { code: `${turn}` } },
              ])
            : answer('done'),
        tool: (call) => toolResult(call, `${call.name} ${call.toolUseId} `.repeat(8)),
      };
      const generations = [];
      let next: unknown = input;
      for (let g = 0; g < 5; g++) {
        const context = new FakeOrchestrationContext(next, NOW, 'run-7:dig:0');
        const output = drive(agentLoopOrchestrator, context, runtime(script));
        generations.push({ calls: context.calls, statuses: context.customStatuses, output });
        if (!context.continuedAsNew) break;
        next = context.continuedAsNew.input;
      }
      return generations;
    };
    const first = once();
    expect(first).toHaveLength(2);
    expect(first[1]?.output).toMatchObject({ outcome: 'completed', turns: 7, toolCalls: 12 });
    expect(once()).toEqual(first);
  });

  it('logs only when not replaying', () => {
    const def = definition([{ id: 'a', kind: 'llm', role: 'worker', prompt: 'x' }]);
    const script = { model: () => answer('ok') };
    const live = new FakeOrchestrationContext(runInput(def), NOW);
    drive(runWorkflowOrchestrator, live, runtime(script));
    expect(live.logs.length).toBeGreaterThan(0);

    const replaying = new FakeOrchestrationContext(runInput(def), NOW);
    replaying.df.isReplaying = true;
    drive(runWorkflowOrchestrator, replaying, runtime(script));
    expect(replaying.logs).toEqual([]);
  });
});

describe('a 200-turn agent loop', () => {
  it('runs in generations of turnsPerGeneration, each with a bounded history, reusing its transcript snapshot', () => {
    let turn = 0;
    const script: Script = {
      model: () => toolUse([{ id: `t${++turn}`, name: 'web_search' }], `turn ${turn}`),
      tool: (call) => toolResult(call, 'r'.repeat(300)),
    };
    let next: unknown = {
      runId: 'run-9',
      stepId: 'long',
      role: 'worker',
      prompt: 'Keep going',
      tools: [TOOLS.web_search],
      maxTurns: 200,
    } satisfies AgentLoopInput;
    const historySizes: number[] = [];
    let output;
    for (let generation = 0; generation < 20 && output === undefined; generation++) {
      const { context, output: result } = runAgent(next, script, 'run-9:long');
      historySizes.push(context.calls.length);
      output = result;
      next = context.continuedAsNew?.input;
    }
    expect(historySizes).toHaveLength(10);
    // 20 model calls, 19-20 tool calls and a few snapshots per generation, however long the loop has run.
    expect(Math.max(...historySizes)).toBeLessThanOrEqual(60);
    expect(output).toMatchObject({ outcome: 'max_turns', turns: 200, toolCalls: 199, text: 'turn 200' });
    expect(output?.ledger.totals.calls).toBe(200);
  });
});
