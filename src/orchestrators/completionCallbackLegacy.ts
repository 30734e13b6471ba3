/**
 * The completion callback as runs older than `ORCHESTRATION_VERSIONS.callbackFirst` deliver it
 * (src/orchestrators/version.ts): when the run ends, one `sendCallback` activity (with retries) POSTs its
 * result, and the run's output records how it went. Kept unchanged so those runs replay as they ran;
 * newer runs start the `runCallback` orchestration first (completionCallback.ts). Remove when no such run
 * is left (docs/operations.md, "Orchestration versioning").
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { Names } from '../shared/names.js';
import { CallbackDelivery, type SendCallbackInput } from '../shared/requestTypes.js';
import type { RunWorkflowOutput } from '../shared/runTypes.js';

/** 2 s, 4 s, 8 s … capped at 5 min, 8 attempts, as those runs scheduled them. */
export const LEGACY_CALLBACK_RETRY = Object.assign(new df.RetryOptions(2_000, 8), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 300_000,
});

/** What the callback URL received from those runs. */
function legacyCallbackBody(
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

/** Sends the callback and returns the result with how it went; a delivery that fails for good is recorded. */
export function* legacyCompletionCallback(
  context: OrchestrationContext,
  callbackUrl: string,
  result: RunWorkflowOutput,
): Generator<Task, RunWorkflowOutput, unknown> {
  const runId = context.df.instanceId;
  const input: SendCallbackInput = {
    url: callbackUrl,
    runId,
    body: legacyCallbackBody(runId, result, context.df.currentUtcDateTime),
  };
  let delivery: CallbackDelivery;
  try {
    const raw: unknown = yield context.df.callActivityWithRetry(
      Names.activities.sendCallback,
      LEGACY_CALLBACK_RETRY,
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
      reason: `gave up after ${LEGACY_CALLBACK_RETRY.maxNumberOfAttempts} attempts: ${reason}`,
    };
  }
  if (!delivery.delivered && !context.df.isReplaying) {
    context.warn(
      `${runId}: completion callback not delivered: ${delivery.reason ?? `HTTP ${delivery.status}`}`,
    );
  }
  return { ...result, callback: delivery };
}
