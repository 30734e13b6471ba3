import { describe, expect, it } from 'vitest';
import { MAX_MALFORMED_APPROVAL_EVENTS } from '../../../src/orchestrators/approval.js';
import type { CallModelInput } from '../../../src/shared/modelTypes.js';
import type { RunProgress } from '../../../src/shared/runTypes.js';
import { TIMEOUT, answer, failure, scripted } from './scriptedRuntime.js';
import { definition, runInput, runWorkflow } from './workflowFixtures.js';

const promptOf = (input: CallModelInput) =>
  Array.isArray(input.messages) && input.messages[0]?.content[0]?.type === 'text'
    ? input.messages[0].content[0].text
    : '';

describe('runWorkflow: approval steps', () => {
  const approvalDef = (extra: Record<string, unknown> = {}) =>
    definition(
      [
        {
          id: 'signoff',
          kind: 'approval',
          timeout: 'PT30M',
          message: 'Publish {{ input.title }}?',
          ...extra,
        },
        { id: 'publish', kind: 'llm', role: 'writer', prompt: 'Publish: {{ steps.signoff.output }}' },
      ],
      { output: 'steps.signoff.output' },
    );

  it('waits for the event with a durable timer, records who approved, and cancels the timer', () => {
    const { output, context, observed } = runWorkflow(runInput(approvalDef(), { title: 'Q3' }), {
      event: (name) => (name === 'signoff' ? { approved: true, by: 'ana', comment: 'ship it' } : TIMEOUT),
      model: scripted([answer('done')]),
    });
    expect(context.calls.slice(0, 2)).toEqual([
      { kind: 'timer', fireAt: '2026-01-01T00:30:00.000Z', name: undefined, input: undefined },
      { kind: 'event', name: 'signoff', input: undefined, fireAt: undefined },
    ]);
    expect(output).toMatchObject({
      outcome: 'completed',
      output: { approved: true, by: 'ana', comment: 'ship it', decidedAt: '2026-01-01T00:00:00.000Z' },
    });
    const timer = observed.races[0]?.find((t) => t.kind === 'timer');
    expect(timer?.isCanceled).toBe(true);
    const statuses = context.customStatuses as RunProgress[];
    expect(statuses.find((s) => s.waitingFor)?.waitingFor).toEqual({
      event: 'signoff',
      until: '2026-01-01T00:30:00.000Z',
      message: 'Publish Q3?',
    });
    expect(statuses.at(-1)?.waitingFor).toBeUndefined();
    const waiting = statuses.find((s) => s.waitingFor)?.timeline;
    expect(waiting).toEqual([
      expect.objectContaining({ stepId: 'signoff', kind: 'approval', status: 'waiting' }),
    ]);
    expect(output.timeline?.map((r) => [r.stepId, r.status])).toEqual([
      ['signoff', 'completed'],
      ['publish', 'completed'],
    ]);
  });

  it('fails the run with approval_rejected when rejected', () => {
    const { output } = runWorkflow(runInput(approvalDef(), { title: 'Q3' }), {
      event: () => ({ approved: false, by: 'bo', comment: 'numbers are off' }),
    });
    expect(output).toMatchObject({
      outcome: 'failed',
      error: {
        stepId: 'signoff',
        kind: 'approval_rejected',
        message: '"signoff" was rejected by bo: numbers are off',
      },
    });
  });

  it('on timeout fails, continues with null, or continues with the default', () => {
    const timedOut = (extra: Record<string, unknown>) =>
      runWorkflow(runInput(approvalDef(extra), { title: 'Q3' }), {
        event: () => TIMEOUT,
        model: scripted([answer('done')]),
      }).output;
    expect(timedOut({})).toMatchObject({ outcome: 'failed', error: { kind: 'approval_timeout' } });
    expect(timedOut({ onTimeout: 'continue' })).toMatchObject({ outcome: 'completed', output: null });
    expect(timedOut({ onTimeout: { default: { approved: true, by: 'policy' } } })).toMatchObject({
      outcome: 'completed',
      output: { approved: true, by: 'policy' },
    });
  });

  it('ignores malformed events with fresh tasks each time, up to a limit, and listens on the named event', () => {
    const events: unknown[] = ['junk', { approved: 'yes' }, { approved: true, by: 'cy' }];
    const { output, context, observed } = runWorkflow(
      runInput(approvalDef({ event: 'legal' }), { title: 'Q3' }),
      {
        event: (name) => (name === 'legal' ? events.shift() : TIMEOUT),
        model: scripted([answer('done')]),
      },
    );
    const raced = observed.races.flat();
    expect(new Set(raced).size).toBe(raced.length);
    expect(raced.filter((t) => t.kind === 'timer').every((t) => t.isCanceled)).toBe(true);
    expect(output.output).toMatchObject({ approved: true, by: 'cy' });
    expect(context.calls.filter((c) => c.kind === 'timer').map((c) => c.fireAt)).toEqual(
      Array(3).fill('2026-01-01T00:30:00.000Z'),
    );

    const flood = runWorkflow(runInput(approvalDef(), { title: 'Q3' }), { event: () => 'junk' }).output;
    expect(flood.error).toMatchObject({ kind: 'approval_rejected' });
    expect(flood.error?.message).toContain(`${MAX_MALFORMED_APPROVAL_EVENTS + 1} malformed`);
  });
});

describe('runWorkflow: map steps', () => {
  const mapDef = (extra: Record<string, unknown> = {}, step: Record<string, unknown> = {}) =>
    definition([
      {
        id: 'answers',
        kind: 'map',
        over: 'input.questions',
        as: 'question',
        concurrency: 2,
        step: { id: 'answer', kind: 'llm', role: 'worker', prompt: 'Q{{ index }}: {{ question }}', ...step },
        ...extra,
      },
    ]);
  const questions = ['a', 'b', 'c', 'd', 'e'];

  it('never has more than `concurrency` items outstanding and returns results in item order', () => {
    const { output, observed, context } = runWorkflow(runInput(mapDef(), { questions }), {
      model: (input) => answer(`A(${promptOf(input)})`),
    });
    expect(observed.rounds.map((round) => round.length)).toEqual([2, 2, 1]);
    expect(output.output).toEqual(questions.map((q, i) => `A(Q${i}: ${q})`));
    expect(observed.models.map((m) => m.stepId)).toEqual(questions.map((_, i) => `answers:${i}`));
    expect(output.ledger.rows).toMatchObject([{ stepId: 'answers', calls: 5 }]);
    const maps = (context.customStatuses as RunProgress[]).flatMap((s) => (s.map ? [s.map.done] : []));
    expect(maps).toEqual([0, 2, 4, 5]);
  });

  it('lets an item wait out a retry in its own slot while the next item starts', () => {
    let first = true;
    const { output, observed } = runWorkflow(runInput(mapDef(), { questions: ['a', 'b', 'c'] }), {
      model: (input) => {
        if (promptOf(input) === 'Q0: a' && first) {
          first = false;
          return failure({ retryAfterMs: 2_000 });
        }
        return answer(promptOf(input));
      },
    });
    const kinds = observed.rounds.map((round) =>
      round.map((t) => (t.kind === 'timer' ? 'timer' : promptOf(t.input as CallModelInput))),
    );
    expect(kinds).toEqual([['Q0: a', 'Q1: b'], ['timer', 'Q2: c'], ['Q0: a']]);
    expect(output.output).toEqual(['Q0: a', 'Q1: b', 'Q2: c']);
  });

  it('evaluates concurrency as an expression and a nested when per item (skipped items are null)', () => {
    const { output, observed } = runWorkflow(
      runInput(mapDef({ concurrency: 'input.width' }, { when: 'index != 1' }), {
        questions: ['a', 'b', 'c'],
        width: 3,
      }),
      { model: (input) => answer(promptOf(input)) },
    );
    expect(observed.rounds.map((round) => round.length)).toEqual([2]);
    expect(output.output).toEqual(['Q0: a', null, 'Q2: c']);
  });

  it('returns [] for an empty list without scheduling anything', () => {
    const { output, context } = runWorkflow(runInput(mapDef(), { questions: [] }), {});
    expect(output).toMatchObject({ outcome: 'completed', output: [] });
    expect(context.calls).toEqual([]);
  });

  it('fails clearly when over is not a list', () => {
    const { output } = runWorkflow(runInput(mapDef(), { questions: 'abc' }), {});
    expect(output.error).toMatchObject({ stepId: 'answers', kind: 'invalid_map_input' });
  });

  it('runs agent items as sub-orchestrations with per-item ids', () => {
    const agentStep = { kind: 'agent', tools: ['web_search'], maxTurns: 3 };
    const { output, context } = runWorkflow(runInput(mapDef({}, agentStep), { questions: ['a', 'b', 'c'] }), {
      child: (task) => ({
        outcome: 'completed',
        output: (task.input as { prompt: string }).prompt,
        text: '',
        turns: 1,
        toolCalls: 2,
        ledger: {
          rows: [],
          totals: {
            calls: 0,
            usage: { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 },
            costUsd: 0,
          },
        },
      }),
    });
    expect(context.calls.map((c) => c.instanceId)).toEqual([
      'run-1:answers:0',
      'run-1:answers:1',
      'run-1:answers:2',
    ]);
    expect(output.output).toEqual(['Q0: a', 'Q1: b', 'Q2: c']);
    expect(output.timeline).toMatchObject([
      { stepId: 'answers', kind: 'map', status: 'completed', toolCalls: 6 },
    ]);
  });

  it('attributes an activity fault to the item that owns it', () => {
    const { output } = runWorkflow(runInput(mapDef(), { questions: ['a', 'b', 'c'] }), {
      model: (input) => answer(promptOf(input)),
      fault: (task) =>
        task.kind === 'activity' && promptOf(task.input as CallModelInput) === 'Q1: b'
          ? new Error('worker died')
          : undefined,
    });
    expect(output.error).toEqual({
      stepId: 'answers:1',
      kind: 'activity_failed',
      message: 'callModel failed: worker died',
    });
  });
});
