/**
 * `runCallback`: the completion callback of a top-level run, as its own orchestration (`<runId>:callback`).
 * The run starts it through the `startCallback` activity and never waits for it. It waits for the run's
 * final status (reading it through an activity, with a durable timer between reads), then POSTs the run as
 * `GET /api/runs/{id}` shows it, with its own retries. Its custom status and output say how it went
 * (`CallbackOutcome`), which the run views show as `callback`.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { callbackInstanceId, Names } from '../shared/names.js';
import {
  CallbackDelivery,
  CallbackOutcome,
  RunCallbackInput,
  RunForCallback,
  type SendCallbackInput,
} from '../shared/requestTypes.js';
import { parseOrchestrationInput } from './runStopped.js';

/** Attempts to start the callback orchestration before the run gives up on its callback (and says so). */
export const START_CALLBACK_RETRY = Object.assign(new df.RetryOptions(1_000, 3), { backoffCoefficient: 2 });

/**
 * Sends that throw (network errors, 5xx, 408, 425, 429) are tried again: 2 s, 4 s, 8 s … capped at 5 min,
 * 8 attempts in all. Delivery is at least once: receivers dedupe by the run id header.
 */
export const CALLBACK_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 300_000;

/** Reads of the run's status: 1 s, 2 s, 4 s … capped at 60 s; a new generation every 50 reads. */
const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 60_000;
const POLLS_PER_GENERATION = 50;

export function callbackBackoffMs(attempt: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}

export function pollDelayMs(poll: number): number {
  return Math.min(FIRST_POLL_MS * 2 ** Math.min(poll, 16), MAX_POLL_MS);
}

/** The activity's own message: its first line, without the runtime's "Activity function 'x' failed: ". */
const firstLine = (error: unknown): string =>
  (error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)).replace(
    /^Activity function '[^']*' failed: /,
    '',
  );

export function* runCallbackOrchestrator(
  context: OrchestrationContext,
): Generator<Task, CallbackOutcome | undefined, unknown> {
  const input = parseOrchestrationInput(RunCallbackInput, context.df.getInput(), 'runCallback');
  const { runId, url } = input;
  const waiting: CallbackOutcome = { state: 'waiting', attempts: 0 };
  context.df.setCustomStatus(waiting);

  // 1. Wait for the run's final status.
  let body: Record<string, unknown> | undefined;
  for (let poll = input.polls; body === undefined; poll++) {
    if (poll > input.polls && (poll - input.polls) % POLLS_PER_GENERATION === 0) {
      context.df.continueAsNew({ runId, url, polls: poll });
      return undefined;
    }
    const read = RunForCallback.parse(
      yield context.df.callActivity(Names.activities.readRunForCallback, runId),
    );
    if (read.finished) body = read.body;
    else {
      const due = new Date(context.df.currentUtcDateTime.getTime() + pollDelayMs(poll));
      yield context.df.createTimer(due);
    }
  }

  // 2. Deliver it.
  let outcome: CallbackOutcome = waiting;
  for (let attempt = 1; attempt <= CALLBACK_ATTEMPTS; attempt++) {
    const send: SendCallbackInput = { url, runId, body };
    let lastError: string;
    let status: number | undefined;
    try {
      const delivery = CallbackDelivery.parse(
        yield context.df.callActivity(Names.activities.sendCallback, send),
      );
      const at = context.df.currentUtcDateTime.toISOString();
      if (delivery.delivered) {
        outcome = { state: 'delivered', attempts: attempt, finishedAt: at };
        if (delivery.status !== undefined) outcome.status = delivery.status;
        break;
      }
      // Refused for good (blocked URL, 4xx, redirect): retrying cannot fix it.
      outcome = {
        state: 'failed',
        attempts: attempt,
        lastError: delivery.reason ?? 'refused',
        finishedAt: at,
      };
      if (delivery.status !== undefined) outcome.status = delivery.status;
      break;
    } catch (error) {
      lastError = firstLine(error);
      const answered = /answered HTTP (\d{3})/.exec(lastError)?.[1];
      status = answered === undefined ? undefined : Number(answered);
    }
    const now = context.df.currentUtcDateTime;
    if (attempt === CALLBACK_ATTEMPTS) {
      outcome = {
        state: 'failed',
        attempts: attempt,
        lastError: `gave up after ${attempt} attempts: ${lastError}`,
        finishedAt: now.toISOString(),
        ...(status === undefined ? {} : { status }),
      };
      break;
    }
    const due = new Date(now.getTime() + callbackBackoffMs(attempt));
    outcome = {
      state: 'pending',
      attempts: attempt,
      lastError,
      nextAttemptAt: due.toISOString(),
      ...(status === undefined ? {} : { status }),
    };
    context.df.setCustomStatus(outcome);
    yield context.df.createTimer(due);
  }
  context.df.setCustomStatus(outcome);
  if (outcome.state === 'failed' && !context.df.isReplaying) {
    context.warn(
      `${callbackInstanceId(runId)}: completion callback not delivered: ${outcome.lastError ?? ''}`,
    );
  }
  return CallbackOutcome.parse(outcome);
}
