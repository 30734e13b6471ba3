/**
 * The model-call policy: one `callModel` activity per call; classified failures come back as values,
 * so retry-after is waited out on a durable timer and the role's fallback chain is walked here.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { firstLine } from '../definitions/expressions.js';
import {
  CallModelResult,
  type CallModelInputArgs,
  type CallModelSuccess,
  type ModelMessage,
  type StopReason,
} from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import type { ModelRetryOptions } from '../shared/runTypes.js';
import { stepFailed } from './runStopped.js';

/**
 * For thrown activity errors only (worker crash, host timeout, a bug): returned failures are already
 * classified and handled by the loop below, so the two layers never multiply.
 */
export const INFRASTRUCTURE_RETRY = Object.assign(new df.RetryOptions(5_000, 3), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 30_000,
});

export interface ModelRetryPolicy {
  readonly maxTries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_MODEL_RETRY: ModelRetryPolicy = {
  maxTries: 4,
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxRetryAfterMs: 300_000,
};

export function modelRetryPolicy(options: ModelRetryOptions | undefined): ModelRetryPolicy {
  return { ...DEFAULT_MODEL_RETRY, ...options };
}

/** Backoff before try `failures + 1` when the provider gave no retry-after: 1 s, 2 s, 4 s… capped. */
export function backoffMs(policy: ModelRetryPolicy, failures: number): number {
  return Math.min(policy.initialBackoffMs * 2 ** Math.max(0, failures - 1), policy.maxBackoffMs);
}

/** The wait before the next try: the provider's retry-after (capped), else backoff. */
export function retryDelayMs(
  policy: ModelRetryPolicy,
  failures: number,
  retryAfterMs: number | undefined,
): number {
  return retryAfterMs === undefined
    ? backoffMs(policy, failures)
    : Math.min(retryAfterMs, policy.maxRetryAfterMs);
}

/** One activity call; a thrown activity (after its infrastructure retries) fails the step. */
export function* callActivityOrStop(
  context: OrchestrationContext,
  stepId: string,
  name: string,
  input: unknown,
): Generator<Task, unknown, unknown> {
  try {
    return yield context.df.callActivityWithRetry(name, INFRASTRUCTURE_RETRY, input);
  } catch (error) {
    const reason = error instanceof Error ? firstLine(error.message) : String(error);
    throw stepFailed(stepId, 'activity_failed', `${name} failed: ${reason}`);
  }
}

/** A callModel request; the policy chooses `attempt` (the deployment in the role's fallback chain). */
export type ModelRequest = Omit<CallModelInputArgs, 'attempt'>;

/**
 * Calls the model until it answers. A retryable failure is retried on the same deployment after
 * `retryAfterMs` (or backoff) on a durable timer, up to `maxTries`; then the next fallback is tried.
 * A non-retryable failure, or running out of deployments, stops the step with the failure's kind.
 * @throws RunStopped
 */
export function* callModelWithPolicy(
  context: OrchestrationContext,
  request: ModelRequest,
  policy: ModelRetryPolicy,
): Generator<Task, CallModelSuccess, unknown> {
  let attempt = 0;
  let failures = 0;
  for (;;) {
    const input: CallModelInputArgs = { ...request, attempt };
    const result = CallModelResult.parse(
      yield* callActivityOrStop(context, request.stepId, Names.activities.callModel, input),
    );
    if (result.ok) return result;

    failures += 1;
    const where = `${result.provider}/${result.deployment}`;
    if (result.retryable && failures < policy.maxTries) {
      const delayMs = retryDelayMs(policy, failures, result.retryAfterMs);
      if (!context.df.isReplaying) {
        context.log(`${request.stepId}: ${where} ${result.kind}; retrying in ${delayMs} ms`);
      }
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
      continue;
    }
    if (result.retryable && result.fallbackAvailable) {
      if (!context.df.isReplaying) {
        context.log(`${request.stepId}: ${where} still ${result.kind} after ${failures} tries; falling back`);
      }
      attempt += 1;
      failures = 0;
      continue;
    }
    const tries = result.retryable ? ` after ${failures} tries` : '';
    throw stepFailed(request.stepId, result.kind, `${where}: ${result.message}${tries}`);
  }
}

/** The assistant's text, all text blocks joined. */
export function textOf(message: ModelMessage): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Stops that leave no usable answer. */
const UNANSWERED: ReadonlySet<StopReason> = new Set(['refusal', 'content_filter', 'context_window_exceeded']);

/**
 * A finished call's answer: the parsed object when the step has an outputSchema, else the text.
 * @throws RunStopped when there is no usable answer
 */
export function answerOf(result: CallModelSuccess, wantsStructured: boolean, stepId: string): unknown {
  if (UNANSWERED.has(result.stopReason)) {
    throw stepFailed(stepId, result.stopReason, `the model stopped with "${result.stopReason}"`);
  }
  if (!wantsStructured) return textOf(result.message);
  if (result.structured === undefined) {
    throw stepFailed(
      stepId,
      'no_structured_output',
      `the model stopped ("${result.stopReason}") without an answer matching outputSchema`,
    );
  }
  return result.structured;
}
