/**
 * The failure message of a top-level run that did not complete its work. The run throws it, so its Durable
 * runtime status is `Failed` and the status output is the extension's
 * `Orchestrator function 'runWorkflow' failed: <this message>` (azure-functions-durable-extension
 * `Listener/OutOfProcOrchestrationShim.cs`: the worker's `error` text after that prefix; durable-functions
 * `lib/src/orchestrations/TaskOrchestrationExecutor.js` sends the thrown error's `message` as `error`, and
 * `failureDetails` only for a `TaskFailedError`). So the outcome and the error kind travel in the text, in a
 * form people can read and `parseRunFailure` can take apart:
 *
 *     Run stopped [outcome=failed kind=approval_rejected step=review]: Rejected by ops@example.com
 */
import type { RunError, RunOutcome } from './runTypes.js';

/** Longest error message the failure text carries; the full one is in the run's last custom status. */
export const RUN_FAILURE_MESSAGE_CHARS = 2_000;

const PATTERN = /Run stopped \[outcome=(failed|budget_exceeded) kind=(\S+)(?: step=(\S+))?\]: ([\s\S]*)$/;

/** Kinds and step ids are written as they are, unless they hold spaces or brackets, which become `_`. */
const token = (text: string): string => text.replace(/[\s[\]]/g, '_') || '_';

export function runFailureMessage(outcome: Exclude<RunOutcome, 'completed'>, error: RunError): string {
  const step = error.stepId === undefined ? '' : ` step=${token(error.stepId)}`;
  const message =
    error.message.length <= RUN_FAILURE_MESSAGE_CHARS
      ? error.message
      : `${error.message.slice(0, RUN_FAILURE_MESSAGE_CHARS - 1)}…`;
  return `Run stopped [outcome=${outcome} kind=${token(error.kind)}${step}]: ${message}`;
}

/** The outcome and error from a failure text (a Durable status output), when a run wrote it. */
export function parseRunFailure(
  text: unknown,
): { outcome: Exclude<RunOutcome, 'completed'>; error: RunError } | undefined {
  if (typeof text !== 'string') return undefined;
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const [, outcome, kind, stepId, message] = match;
  if ((outcome !== 'failed' && outcome !== 'budget_exceeded') || kind === undefined) return undefined;
  return {
    outcome,
    error: { ...(stepId === undefined ? {} : { stepId }), kind, message: message ?? '' },
  };
}
