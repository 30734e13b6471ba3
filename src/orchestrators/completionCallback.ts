/** The completion callback of a top-level run: POST its result to the caller's URL once it ends. */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { Names } from '../shared/names.js';
import { CallbackDelivery, type SendCallbackInput } from '../shared/requestTypes.js';
import type { RunWorkflowOutput } from '../shared/runTypes.js';

/**
 * Thrown sends (network errors, 5xx, 408, 429) are retried: 2 s, 4 s, 8 s … capped at 5 min, 8 attempts
 * (about 10 minutes in all). Delivery is at least once: receivers dedupe by the run id header.
 */
export const CALLBACK_RETRY = Object.assign(new df.RetryOptions(2_000, 8), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 300_000,
});

/** What the callback URL receives: the run as `GET /api/runs/{id}` shows it once finished. */
export function callbackBody(
  runId: string,
  result: RunWorkflowOutput,
  finishedAt: Date,
): Record<string, unknown> {
  return {
    id: runId,
    workflow: result.workflow,
    version: result.version,
    status: 'Completed',
    outcome: result.outcome,
    output: result.output ?? null,
    error: result.error ?? null,
    ledger: result.ledger,
    finishedAt: finishedAt.toISOString(),
  };
}

/**
 * Sends the callback when the run has one, and returns the result with how it went. A delivery that fails
 * for good is recorded, never fatal: the run's own outcome stands.
 */
export function* withCompletionCallback(
  context: OrchestrationContext,
  callbackUrl: string | undefined,
  result: RunWorkflowOutput,
): Generator<Task, RunWorkflowOutput, unknown> {
  if (callbackUrl === undefined) return result;
  const runId = context.df.instanceId;
  const input: SendCallbackInput = {
    url: callbackUrl,
    runId,
    body: callbackBody(runId, result, context.df.currentUtcDateTime),
  };
  let delivery: CallbackDelivery;
  try {
    const raw: unknown = yield context.df.callActivityWithRetry(
      Names.activities.sendCallback,
      CALLBACK_RETRY,
      input,
    );
    const parsed = CallbackDelivery.safeParse(raw);
    delivery = parsed.success
      ? parsed.data
      : { delivered: false, reason: 'sendCallback returned an unexpected result' };
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    delivery = {
      delivered: false,
      reason: `gave up after ${CALLBACK_RETRY.maxNumberOfAttempts} attempts: ${reason}`,
    };
  }
  if (!delivery.delivered && !context.df.isReplaying) {
    context.warn(
      `${runId}: completion callback not delivered: ${delivery.reason ?? `HTTP ${delivery.status}`}`,
    );
  }
  return { ...result, callback: delivery };
}
