/** The `approval` step: wait for an external event or a durable timer, whichever comes first. */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ApprovalStep } from '../definitions/schema.js';
import { approvalEventName } from '../definitions/schema.js';
import { parseIsoDuration } from '../shared/duration.js';
import { ApprovalDecision } from '../shared/schemas.js';
import { stepFailed } from './runStopped.js';

/** Malformed events are ignored, but only this many: each one grows the history. */
export const MAX_MALFORMED_APPROVAL_EVENTS = 5;

/** The step output when someone decided. */
export interface ApprovalRecord {
  readonly approved: true;
  readonly by: string | null;
  readonly comment: string | null;
  readonly decidedAt: string;
}

export interface ApprovalWait {
  readonly event: string;
  readonly until: string;
}

/**
 * Waits for `{ approved, by?, comment? }` on the step's event until `timeout` passes.
 * Approved → an {@link ApprovalRecord}; rejected → the run fails with `approval_rejected`;
 * timed out → `onTimeout` decides (`fail`, `continue` with null, or `{ default }`).
 * @throws RunStopped
 */
export function* awaitApproval(
  context: OrchestrationContext,
  step: ApprovalStep,
  onWait: (wait: ApprovalWait) => void,
): Generator<Task, unknown, unknown> {
  const event = approvalEventName(step);
  const timeoutMs = parseIsoDuration(step.timeout) ?? 0;
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMs);
  onWait({ event, until: deadline.toISOString() });

  for (let malformed = 0; malformed <= MAX_MALFORMED_APPROVAL_EVENTS; malformed++) {
    // Fresh tasks every round (azure-functions-durable-js#574).
    const timer = context.df.createTimer(deadline);
    const decision = context.df.waitForExternalEvent(event);
    const winner = (yield context.df.Task.any([decision, timer])) as Task;
    if (winner === timer) return timedOut(step);
    // An uncancelled timer keeps the instance alive until it fires.
    timer.cancel();

    const parsed = ApprovalDecision.safeParse(decision.result);
    if (!parsed.success) {
      if (!context.df.isReplaying) context.warn(`${step.id}: ignoring malformed "${event}" event`);
      continue;
    }
    const { approved, by, comment } = parsed.data;
    if (!approved) {
      const who = by === undefined ? '' : ` by ${by}`;
      const why = comment === undefined ? '' : `: ${comment}`;
      throw stepFailed(step.id, 'approval_rejected', `"${event}" was rejected${who}${why}`);
    }
    return {
      approved: true,
      by: by ?? null,
      comment: comment ?? null,
      decidedAt: context.df.currentUtcDateTime.toISOString(),
    } satisfies ApprovalRecord;
  }
  throw stepFailed(
    step.id,
    'approval_rejected',
    `"${event}" got ${MAX_MALFORMED_APPROVAL_EVENTS + 1} malformed events; expected { approved: boolean, by?, comment? }`,
  );
}

function timedOut(step: ApprovalStep): unknown {
  const action = step.onTimeout;
  if (action === 'continue') return null;
  if (action === 'fail') {
    throw stepFailed(
      step.id,
      'approval_timeout',
      `no decision on "${approvalEventName(step)}" within ${step.timeout}`,
    );
  }
  return action.default;
}
