import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { parseIsoDuration } from '../shared/duration.js';
import { Names } from '../shared/names.js';
import {
  ApprovalDecision,
  type ApprovalOptions,
  type ApprovalOutcome,
  Digest,
  DocumentDigestInput,
  type DocumentDigestOutput,
  type DigestProgress,
  ParagraphSummary,
} from '../shared/schemas.js';

/** Activities here are pure, so a failure is infrastructure: retry a few times, quickly. */
export const ACTIVITY_RETRY = Object.assign(new df.RetryOptions(2_000, 3), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 30_000,
  retryTimeoutInMilliseconds: 300_000,
});

/** Paragraphs summarized at once: bounds the fan-out and sets how often progress moves. */
export const SUMMARY_BATCH_SIZE = 10;

/** Malformed approval events are ignored, but only this many: each one grows the history. */
export const MAX_INVALID_APPROVAL_EVENTS = 5;

/**
 * document-digest: summarize every paragraph in parallel, compose a digest, and optionally hold it
 * until an `approval` event arrives or the approval timeout passes.
 */
export function* documentDigestOrchestrator(
  context: OrchestrationContext,
): Generator<Task, DocumentDigestOutput, unknown> {
  const input = DocumentDigestInput.parse(context.df.getInput());
  const total = input.paragraphs.length;
  const progress = (step: DigestProgress['step'], done: number) =>
    context.df.setCustomStatus({ step, done, total } satisfies DigestProgress);

  const summaries: ParagraphSummary[] = [];
  progress('summarizing', 0);
  for (let first = 0; first < total; first += SUMMARY_BATCH_SIZE) {
    const batch = input.paragraphs.slice(first, first + SUMMARY_BATCH_SIZE).map((text, offset) =>
      context.df.callActivityWithRetry(Names.activities.summarizeParagraph, ACTIVITY_RETRY, {
        index: first + offset,
        text,
      }),
    );
    const results = (yield context.df.Task.all(batch)) as unknown[];
    summaries.push(...results.map((result) => ParagraphSummary.parse(result)));
    progress('summarizing', summaries.length);
  }

  progress('composing', total);
  const digest = Digest.parse(
    yield context.df.callActivityWithRetry(Names.activities.composeDigest, ACTIVITY_RETRY, {
      title: input.title,
      summaries,
    }),
  );

  let approval: ApprovalOutcome = { status: 'not-required' };
  if (input.approval?.required) {
    progress('awaiting-approval', total);
    approval = yield* awaitApproval(context, input.approval);
  }

  progress('done', total);
  return { digest, approval };
}

function* awaitApproval(
  context: OrchestrationContext,
  options: ApprovalOptions,
): Generator<Task, ApprovalOutcome, unknown> {
  const timeoutMs = parseIsoDuration(options.timeout) ?? 0;
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMs);
  for (let invalid = 0; invalid <= MAX_INVALID_APPROVAL_EVENTS; invalid++) {
    // Fresh tasks every round: durable-functions 3.x schedules a task again when it is yielded a
    // second time inside Task.any (azure-functions-durable-js#574).
    const timer = context.df.createTimer(deadline);
    const event = context.df.waitForExternalEvent(Names.events.approval);
    const winner = (yield context.df.Task.any([event, timer])) as Task;
    const decidedAt = context.df.currentUtcDateTime.toISOString();
    if (winner === timer) return { status: 'timed-out', decidedAt };
    // An uncancelled timer keeps the instance alive until it fires.
    timer.cancel();
    const decision = ApprovalDecision.safeParse(event.result);
    if (decision.success) {
      const { approved, ...rest } = decision.data;
      return { status: approved ? 'approved' : 'rejected', decidedAt, ...rest };
    }
    if (!context.df.isReplaying) {
      context.warn(`Ignoring malformed ${Names.events.approval} event: ${decision.error.message}`);
    }
  }
  return {
    status: 'rejected',
    decidedAt: context.df.currentUtcDateTime.toISOString(),
    comment: `Rejected after ${MAX_INVALID_APPROVAL_EVENTS + 1} malformed approval events`,
  };
}
