import { describe, expect, it } from 'vitest';
import {
  CALLBACK_ATTEMPTS,
  callbackBackoffMs,
  pollDelayMs,
  runCallbackOrchestrator,
} from '../../../src/orchestrators/completionCallback.js';
import { Names } from '../../../src/shared/names.js';
import type { CallbackOutcome } from '../../../src/shared/requestTypes.js';
import {
  drive,
  FakeOrchestrationContext,
  type FakeTask,
  type Resolution,
} from '../../fakes/orchestrationContext.js';
import { NOW } from './scriptedRuntime.js';

const body = { id: 'run-1', status: 'Failed', outcome: 'failed' };

/** Drives `runCallback` with a clock that moves to each timer, the run finishing after `pollsUntilDone` reads. */
function deliver(pollsUntilDone: number, send: (attempt: number) => Resolution, polls = 0) {
  const context = new FakeOrchestrationContext(
    { runId: 'run-1', url: 'https://example.com/hook', polls },
    NOW,
    'run-1:callback',
  );
  let reads = 0;
  let attempts = 0;
  const output = drive(runCallbackOrchestrator, context, (task: FakeTask): Resolution => {
    if (task.kind === 'timer') {
      context.df.currentUtcDateTime = new Date(task.fireAt ?? '');
      return { value: undefined };
    }
    if (task.name === Names.activities.readRunForCallback) {
      reads += 1;
      return {
        value:
          reads > pollsUntilDone
            ? { finished: true, status: 'Failed', body }
            : { finished: false, status: 'Running' },
      };
    }
    if (task.name === Names.activities.sendCallback) {
      expect(task.input).toEqual({ url: 'https://example.com/hook', runId: 'run-1', body });
      return send(++attempts);
    }
    throw new Error(`unexpected ${task.kind} ${task.name}`);
  });
  return { output, context, statuses: context.customStatuses as CallbackOutcome[] };
}

const refused = {
  error: new Error(
    "Activity function 'sendCallback' failed: callback to https://example.com failed: ECONNREFUSED",
  ),
};

describe('runCallback', () => {
  it('waits for the run with growing pauses, then delivers its final view', () => {
    const { output, context } = deliver(3, () => ({ value: { delivered: true, status: 204 } }));
    expect(output).toEqual({
      state: 'delivered',
      attempts: 1,
      status: 204,
      finishedAt: expect.any(String) as unknown,
    });
    const timers = context.calls.filter((c) => c.kind === 'timer').map((c) => Date.parse(c.fireAt ?? ''));
    expect(timers.map((t, i) => t - (i === 0 ? NOW.getTime() : (timers[i - 1] ?? 0)))).toEqual([
      pollDelayMs(0),
      pollDelayMs(1),
      pollDelayMs(2),
    ]);
  });

  it('retries thrown sends with backoff, saying so in its status, and gives up after the last attempt', () => {
    const { output, statuses, context } = deliver(0, () => refused);
    expect(output).toMatchObject({ state: 'failed', attempts: CALLBACK_ATTEMPTS });
    expect(output?.lastError).toBe(
      `gave up after ${CALLBACK_ATTEMPTS} attempts: callback to https://example.com failed: ECONNREFUSED`,
    );
    const pending = statuses.filter((s) => s.state === 'pending');
    expect(pending.map((s) => s.attempts)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pending[0]).toMatchObject({ lastError: 'callback to https://example.com failed: ECONNREFUSED' });
    const waits = context.calls.filter((c) => c.kind === 'timer').map((c) => c.fireAt);
    expect(waits).toHaveLength(CALLBACK_ATTEMPTS - 1);
    expect(callbackBackoffMs(1)).toBe(2_000);
    expect(callbackBackoffMs(20)).toBe(300_000);
  });

  it('stops at once on a refusal retrying cannot fix, and records a 5xx it retried', () => {
    const fiveHundred = { error: new Error('callback to https://example.com answered HTTP 503; retrying') };
    const { output } = deliver(0, (attempt) =>
      attempt === 1
        ? fiveHundred
        : { value: { delivered: false, status: 410, reason: 'answered HTTP 410; not retried' } },
    );
    expect(output).toMatchObject({
      state: 'failed',
      attempts: 2,
      status: 410,
      lastError: 'answered HTTP 410; not retried',
    });
  });

  it('continues as new every 50 reads while the run goes on, keeping the count', () => {
    const { output, context } = deliver(1_000, () => ({ value: { delivered: true } }), 7);
    expect(output).toBeUndefined();
    expect(context.continuedAsNew).toEqual({
      input: { runId: 'run-1', url: 'https://example.com/hook', polls: 57 },
    });
  });
});
