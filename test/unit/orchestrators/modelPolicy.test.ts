import { describe, expect, it } from 'vitest';
import {
  INFRASTRUCTURE_RETRY,
  backoffMs,
  DEFAULT_MODEL_RETRY,
} from '../../../src/orchestrators/modelPolicy.js';
import type { FakeTask } from '../../fakes/orchestrationContext.js';
import { answer, failure, scripted } from './scriptedRuntime.js';
import { definition, runInput, runWorkflow } from './workflowFixtures.js';

const oneCall = definition([{ id: 'ask', kind: 'llm', role: 'planner', prompt: 'Hi' }]);

/** The model calls and timers, in order, as [attempt] and ['timer', fireAt]. */
function timeline(calls: { kind: string; name?: string; input?: unknown; fireAt?: string }[]) {
  return calls.map((c) =>
    c.kind === 'timer' ? ['timer', c.fireAt] : [c.name, (c.input as { attempt: number }).attempt],
  );
}

describe('model-call policy', () => {
  it('waits retryAfterMs on a durable timer and retries the same deployment', () => {
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([failure({ retryAfterMs: 7_000 }), answer('hello')]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:07.000Z'],
      ['callModel', 0],
    ]);
    expect(output).toMatchObject({ outcome: 'completed', output: 'hello' });
  });

  it('backs off 1 s, 2 s, 4 s without retry-after, then falls back to the next deployment', () => {
    const { output, context, observed } = runWorkflow(runInput(oneCall), {
      model: scripted([
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        answer('from the fallback', { provider: 'azure-openai', deployment: 'gpt-5' }),
      ]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:01.000Z'],
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:02.000Z'],
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:04.000Z'],
      ['callModel', 0],
      ['callModel', 1],
    ]);
    expect(observed.models.every((m) => m.role === 'planner' && m.stepId === 'ask')).toBe(true);
    expect(output.output).toBe('from the fallback');
    expect(output.ledger.rows).toMatchObject([{ provider: 'azure-openai', deployment: 'gpt-5', calls: 1 }]);
  });

  it('fails the step with the failure kind once retries and fallbacks run out', () => {
    const { output, context } = runWorkflow(
      runInput(oneCall, {}, { options: { modelRetry: { maxTries: 2 } } }),
      {
        model: scripted([failure({ status: 503, kind: 'server_error' }), failure({ kind: 'server_error' })]),
      },
    );
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:01.000Z'],
      ['callModel', 0],
    ]);
    expect(output).toMatchObject({
      outcome: 'failed',
      output: null,
      error: {
        stepId: 'ask',
        kind: 'server_error',
        message: 'foundry/claude-haiku: slow down after 2 tries',
      },
    });
  });

  it('does not retry or fall back on a non-retryable failure', () => {
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([
        failure({
          retryable: false,
          kind: 'bad_request',
          status: 400,
          message: 'bad schema',
          fallbackAvailable: true,
        }),
      ]),
    });
    expect(timeline(context.calls)).toEqual([['callModel', 0]]);
    expect(output.error).toEqual({
      stepId: 'ask',
      kind: 'bad_request',
      message: 'foundry/claude-haiku: bad schema',
    });
  });

  it('caps a huge retry-after', () => {
    const { context } = runWorkflow(
      runInput(oneCall, {}, { options: { modelRetry: { maxRetryAfterMs: 30_000 } } }),
      {
        model: scripted([failure({ retryAfterMs: 3_600_000 }), answer('ok')]),
      },
    );
    expect(context.calls[1]).toMatchObject({ kind: 'timer', fireAt: '2026-01-01T00:00:30.000Z' });
  });

  it('guards thrown activity errors with a bounded durable retry, then fails the step', () => {
    const scheduled: FakeTask[] = [];
    const { output } = runWorkflow(runInput(oneCall), {
      fault: (task) => {
        scheduled.push(task);
        return new Error('host timeout\n at stack');
      },
    });
    expect(scheduled[0]?.retry).toBe(INFRASTRUCTURE_RETRY);
    expect(INFRASTRUCTURE_RETRY.maxNumberOfAttempts).toBe(3);
    expect(output.error).toEqual({
      stepId: 'ask',
      kind: 'activity_failed',
      message: 'callModel failed: host timeout',
    });
  });

  it('fails on a refusal and on a structured step without a structured answer', () => {
    const refused = runWorkflow(runInput(oneCall), {
      model: scripted([answer('no', { stopReason: 'refusal' })]),
    });
    expect(refused.output.error).toMatchObject({ kind: 'refusal' });
    const schema = definition([
      { id: 'ask', kind: 'llm', role: 'planner', prompt: 'Hi', outputSchema: { type: 'object' } },
    ]);
    const cut = runWorkflow(runInput(schema), {
      model: scripted([answer('{"a":', { stopReason: 'max_tokens' })]),
    });
    expect(cut.output.error).toMatchObject({ kind: 'no_structured_output' });
  });

  it('computes capped exponential backoff', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(DEFAULT_MODEL_RETRY, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 60_000,
    ]);
  });
});
