/**
 * The model-call policy: one `callModel` activity per call; classified failures come back as values,
 * so retry-after is waited out on a durable timer and the role's fallback chain is walked here.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { firstLine } from '../definitions/expressions.js';
import { MAX_TOKENS_CAP } from '../models/modelLimits.js';
import {
  CallModelResult,
  OFF_SCHEMA_MESSAGE,
  type CallModelInputArgs,
  type CallModelSuccess,
  type FailureKind,
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

/** Books one billed model answer (the ledger, the budget): every answer the policy gets, used or not. */
export type RecordModelCall = (result: CallModelSuccess) => void;

/** Kinds that are final on one deployment but may fare better on the next one in the chain. */
const FALLBACK_KINDS: ReadonlySet<string> = new Set(['refusal', 'context_window_exceeded']);

/** Stop reasons that leave no usable answer, as the failure kind they become. */
const STOP_FAILURES: Readonly<Partial<Record<StopReason, FailureKind>>> = {
  max_tokens: 'max_tokens',
  refusal: 'refusal',
  content_filter: 'refusal',
  context_window_exceeded: 'context_window_exceeded',
};

/**
 * The limit for the one retry after a `max_tokens` stop: double the limit the call ran with, capped
 * at the model's output maximum and at MAX_TOKENS_CAP; undefined when that is no higher.
 */
export function raisedMaxTokens(result: CallModelSuccess, requested: number | undefined): number | undefined {
  const used = result.limits?.maxTokens ?? requested;
  if (used === undefined) return undefined;
  const next = Math.min(used * 2, result.limits?.maxOutputTokens ?? MAX_TOKENS_CAP, MAX_TOKENS_CAP);
  return next > used ? next : undefined;
}

/** The text of the follow-up turn that asks for a schema-conforming answer, from callModel's message. */
export function repairPrompt(failure: string): string {
  const errors = failure.startsWith(OFF_SCHEMA_MESSAGE) ? failure.slice(OFF_SCHEMA_MESSAGE.length) : failure;
  return (
    `Your answer did not match the schema: ${errors}. ` +
    'Answer again with only the JSON value, matching the schema exactly.'
  );
}

/** The request's transcript, then the model's answer and the repair prompt. */
function withRepair(
  messages: ModelRequest['messages'],
  answer: ModelMessage,
  problem: string,
): ModelRequest['messages'] {
  const turns: ModelMessage[] = [
    answer,
    { role: 'user', content: [{ type: 'text', text: repairPrompt(problem) }] },
  ];
  if (Array.isArray(messages)) return [...messages, ...turns];
  const tail = [...(messages.tail ?? []), ...turns];
  // `{ blobRef }`: an instance older than the transcript claim check (transcriptLegacy.ts).
  return 'ref' in messages ? { ref: messages.ref, tail } : { blobRef: messages.blobRef, tail };
}

/**
 * Calls the model until it answers. A retryable failure is retried on the same deployment after
 * `retryAfterMs` (or backoff) on a durable timer, up to `maxTries`; then the next fallback is tried.
 * Refusals and context-window failures go to the next fallback at once. A `max_tokens` stop is
 * retried once with a higher limit (`raisedMaxTokens`). A structured answer that fails the schema
 * gets one repair call quoting the validation errors. Anything else non-retryable, or running out of
 * deployments, stops the step with the failure's kind. Every billed answer goes to `record`.
 * @throws RunStopped
 */
export function* callModelWithPolicy(
  context: OrchestrationContext,
  request: ModelRequest,
  policy: ModelRetryPolicy,
  record: RecordModelCall,
): Generator<Task, CallModelSuccess, unknown> {
  let attempt = 0;
  let failures = 0;
  let maxTokens = request.maxTokens;
  let raised = false;
  let repaired = false;
  let messages = request.messages;
  const log = (text: string) => {
    if (!context.df.isReplaying) context.log(`${request.stepId}: ${text}`);
  };
  const fallBack = () => {
    attempt += 1;
    failures = 0;
    maxTokens = request.maxTokens;
    raised = false;
  };
  for (;;) {
    const input: CallModelInputArgs = {
      ...request,
      messages,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      attempt,
    };
    const result = CallModelResult.parse(
      yield* callActivityOrStop(context, request.stepId, Names.activities.callModel, input),
    );
    const where = `${result.provider}/${result.deployment}`;
    if (result.ok) {
      record(result);
      const kind = STOP_FAILURES[result.stopReason];
      if (kind === undefined) return result;
      if (kind === 'max_tokens') {
        const next = raised ? undefined : raisedMaxTokens(result, maxTokens);
        if (next !== undefined) {
          log(`${where} stopped at max_tokens; retrying with max_tokens ${next}`);
          raised = true;
          maxTokens = next;
          continue;
        }
        const limit = result.limits?.maxTokens ?? maxTokens;
        throw stepFailed(
          request.stepId,
          'max_tokens',
          `${where}: the answer was cut off at max_tokens${limit === undefined ? '' : ` (${limit})`}` +
            (raised ? ', after one retry with a higher limit' : ''),
        );
      }
      if (result.fallbackAvailable === true) {
        log(`${where} stopped with "${result.stopReason}"; falling back`);
        fallBack();
        continue;
      }
      throw stepFailed(request.stepId, kind, `${where}: the model stopped with "${result.stopReason}"`);
    }

    if (result.answered) record(result.answered);
    if (result.kind === 'invalid_output' && result.answered && !repaired) {
      log(`${where} answered off-schema; asking once more with the validation errors`);
      repaired = true;
      messages = withRepair(messages, result.answered.message, result.message);
      continue;
    }
    if (FALLBACK_KINDS.has(result.kind) && result.fallbackAvailable) {
      log(`${where} ${result.kind}; falling back`);
      fallBack();
      continue;
    }
    failures += 1;
    if (result.retryable && failures < policy.maxTries) {
      const delayMs = retryDelayMs(policy, failures, result.retryAfterMs);
      log(`${where} ${result.kind}; retrying in ${delayMs} ms`);
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
      continue;
    }
    if (result.retryable && result.fallbackAvailable) {
      log(`${where} still ${result.kind} after ${failures} tries; falling back`);
      fallBack();
      continue;
    }
    const tries = result.retryable ? ` after ${failures} tries` : '';
    const again = result.kind === 'invalid_output' && repaired ? ' (after one repair call)' : '';
    throw stepFailed(request.stepId, result.kind, `${where}: ${result.message}${tries}${again}`);
  }
}

/** The assistant's text, all text blocks joined. */
export function textOf(message: ModelMessage): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/**
 * A finished call's answer: the parsed object when the step has an outputSchema, else the text.
 * @throws RunStopped when there is no usable answer
 */
export function answerOf(result: CallModelSuccess, wantsStructured: boolean, stepId: string): unknown {
  const kind = STOP_FAILURES[result.stopReason];
  if (kind !== undefined) {
    throw stepFailed(stepId, kind, `the model stopped with "${result.stopReason}"`);
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
