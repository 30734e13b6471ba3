/**
 * A provider batch from the orchestrator's side: submit it (transient failures retried as callModel's
 * are), wait on durable timers that start short and back off to a cap, poll, and collect the results;
 * past the maximum wait, cancel it and fail the step. Every wait is a timer, so a batch that takes
 * hours costs no worker time and survives restarts.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  CancelModelBatchResult,
  CollectModelBatchResultsOutput,
  PollModelBatchResult,
  SubmitModelBatchResult,
  type CollectModelBatchResultsInput,
  type ModelBatchCounts,
  type ModelBatchFailure,
  type ModelBatchHandle,
  type ModelBatchItemResult,
  type ModelBatchOptions,
  type SubmitModelBatchInput,
} from '../shared/providerBatchTypes.js';
import { Names } from '../shared/names.js';
import {
  INFRASTRUCTURE_RETRY,
  callActivityOrStop,
  retryDelayMs,
  type ModelRetryPolicy,
} from './modelPolicy.js';
import { stepFailed } from './runStopped.js';

/** ModelBatchOptions with every default filled in. */
export type ModelBatchPolicy = Readonly<Required<ModelBatchOptions>>;

/** Most batches end within the hour; providers expire them after 24 hours. */
export const DEFAULT_MODEL_BATCH: ModelBatchPolicy = {
  initialPollMs: 30_000,
  maxPollMs: 600_000,
  maxWaitMs: 24 * 3_600_000,
};

export function modelBatchPolicy(options: ModelBatchOptions | undefined): ModelBatchPolicy {
  const policy = { ...DEFAULT_MODEL_BATCH, ...options };
  return { ...policy, maxPollMs: Math.max(policy.maxPollMs, policy.initialPollMs) };
}

/** The wait before poll `polls + 1`: the first interval, doubled after every poll, up to the cap. */
export function pollIntervalMs(policy: ModelBatchPolicy, polls: number): number {
  return Math.min(policy.initialPollMs * 2 ** Math.min(polls, 30), policy.maxPollMs);
}

function formatWait(ms: number): string {
  return ms % 3_600_000 === 0
    ? `${ms / 3_600_000} h`
    : ms % 60_000 === 0
      ? `${ms / 60_000} min`
      : `${ms / 1000} s`;
}

const describe = (failure: ModelBatchFailure) =>
  `${failure.provider}/${failure.deployment}: ${failure.message}`;

/**
 * Calls a batch activity until it answers: retryable failures wait out retry-after (or backoff) on a
 * durable timer, up to `maxTries`; anything else fails the step with the failure's kind.
 */
function* untilAnswered<T extends { readonly ok: true }>(
  context: OrchestrationContext,
  stepId: string,
  retry: ModelRetryPolicy,
  name: string,
  input: unknown,
  parse: (raw: unknown) => T | ModelBatchFailure,
): Generator<Task, T, unknown> {
  for (let failures = 1; ; failures++) {
    const result = parse(yield* callActivityOrStop(context, stepId, name, input));
    if (result.ok) return result;
    if (!result.retryable || failures >= retry.maxTries) {
      const tries = result.retryable ? ` after ${failures} tries` : '';
      throw stepFailed(stepId, result.kind, `${name}: ${describe(result)}${tries}`);
    }
    const delayMs = retryDelayMs(retry, failures, result.retryAfterMs);
    if (!context.df.isReplaying) context.log(`${stepId}: ${name} ${result.kind}; retrying in ${delayMs} ms`);
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
  }
}

/** Best effort: the step fails either way, and a batch left running only expires on its own. */
function* cancelBatch(
  context: OrchestrationContext,
  stepId: string,
  handle: ModelBatchHandle,
): Generator<Task, void, unknown> {
  try {
    const result = CancelModelBatchResult.parse(
      yield context.df.callActivityWithRetry(Names.activities.cancelModelBatch, INFRASTRUCTURE_RETRY, handle),
    );
    if (!result.ok && !context.df.isReplaying) {
      context.log(`${stepId}: could not cancel batch ${handle.batchIds.join(', ')}: ${result.message}`);
    }
  } catch (error) {
    if (!context.df.isReplaying) context.log(`${stepId}: cancelModelBatch failed: ${String(error)}`);
  }
}

export interface ModelBatchRun {
  readonly context: OrchestrationContext;
  readonly retry: ModelRetryPolicy;
  readonly policy: ModelBatchPolicy;
  /** Called once submitted (no counts yet) and after every poll. */
  readonly onProgress: (handle: ModelBatchHandle, counts: ModelBatchCounts | undefined) => void;
}

/**
 * Submits one step's requests as a provider batch, waits for it and returns where it ran and every
 * result (in the provider's order; callers map them back by custom id).
 * @throws RunStopped when the batch cannot be submitted, polled or collected, or outlasts `maxWaitMs`
 */
export function* runModelBatch(
  batch: ModelBatchRun,
  request: SubmitModelBatchInput,
): Generator<Task, { handle: ModelBatchHandle; results: ModelBatchItemResult[] }, unknown> {
  const { context, retry, policy } = batch;
  const { stepId } = request;
  const submitted = yield* untilAnswered(
    context,
    stepId,
    retry,
    Names.activities.submitModelBatch,
    request,
    (raw) => SubmitModelBatchResult.parse(raw),
  );
  const { ok: _, ...handle } = submitted;
  const ids = handle.batchIds.join(', ');
  if (!context.df.isReplaying) {
    context.log(`${stepId}: ${handle.requestCount} requests submitted to ${handle.provider} as batch ${ids}`);
  }
  batch.onProgress(handle, undefined);

  const deadline = context.df.currentUtcDateTime.getTime() + policy.maxWaitMs;
  let pollFailures = 0;
  for (let polls = 0; ; polls++) {
    const now = context.df.currentUtcDateTime.getTime();
    if (now >= deadline) {
      yield* cancelBatch(context, stepId, handle);
      throw stepFailed(
        stepId,
        'batch_timeout',
        `${handle.provider} batch ${ids} did not finish within ${formatWait(policy.maxWaitMs)} ` +
          '(MODEL_BATCH_MAX_WAIT_HOURS); it was canceled',
      );
    }
    yield context.df.createTimer(new Date(Math.min(now + pollIntervalMs(policy, polls), deadline)));
    const polled = PollModelBatchResult.parse(
      yield* callActivityOrStop(context, stepId, Names.activities.pollModelBatch, handle),
    );
    if (polled.ok) {
      pollFailures = 0;
      batch.onProgress(handle, polled.counts);
      if (polled.state === 'ended') break;
      continue;
    }
    pollFailures += 1;
    if (polled.retryable && pollFailures < retry.maxTries) continue;
    if (polled.kind !== 'batch_failed') yield* cancelBatch(context, stepId, handle);
    throw stepFailed(stepId, polled.kind, `pollModelBatch: ${describe(polled)}`);
  }

  const collectInput: CollectModelBatchResultsInput = {
    handle,
    ...(request.outputSchema === undefined ? {} : { outputSchema: request.outputSchema }),
  };
  const collected = yield* untilAnswered(
    context,
    stepId,
    retry,
    Names.activities.collectModelBatchResults,
    collectInput,
    (raw) => CollectModelBatchResultsOutput.parse(raw),
  );
  return { handle, results: collected.results };
}
