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

  progress('summarizing', 0);
  const pending = input.paragraphs.map((text, index) =>
    context.df.callActivityWithRetry(Names.activities.summarizeParagraph, ACTIVITY_RETRY, { index, text }),
  );
  const summaries: ParagraphSummary[] = [];
  // Task.any one at a time instead of Task.all so progress moves as each paragraph finishes.
  while (pending.length > 0) {
    const finished = (yield context.df.Task.any(pending)) as Task;
    pending.splice(pending.indexOf(finished), 1);
    if (finished.isFaulted) throw asError(finished.result);
    summaries.push(ParagraphSummary.parse(finished.result));
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
  const deadline = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + timeoutMs));
  for (let invalid = 0; invalid <= MAX_INVALID_APPROVAL_EVENTS; invalid++) {
    const event = context.df.waitForExternalEvent(Names.events.approval);
    const winner = (yield context.df.Task.any([event, deadline])) as Task;
    const decidedAt = context.df.currentUtcDateTime.toISOString();
    if (winner === deadline) return { status: 'timed-out', decidedAt };
    const decision = ApprovalDecision.safeParse(event.result);
    if (decision.success) {
      // An uncancelled timer keeps the instance alive until it fires.
      deadline.cancel();
      const { approved, ...rest } = decision.data;
      return { status: approved ? 'approved' : 'rejected', decidedAt, ...rest };
    }
    if (!context.df.isReplaying) {
      context.warn(`Ignoring malformed ${Names.events.approval} event: ${decision.error.message}`);
    }
  }
  deadline.cancel();
  return {
    status: 'rejected',
    decidedAt: context.df.currentUtcDateTime.toISOString(),
    comment: `Rejected after ${MAX_INVALID_APPROVAL_EVENTS + 1} malformed approval events`,
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
