/**
 * How a step ends a run early. Thrown inside the orchestrator only (it never crosses an activity or
 * orchestration boundary) and turned into a `RunWorkflowOutput` / `AgentLoopOutput` at the top.
 */
import { ZodError, type z } from 'zod';
import { ExpressionEvaluationError, ExpressionSyntaxError, firstLine } from '../definitions/expressions.js';
import { runFailureMessage } from '../shared/runFailure.js';
import type { RunError, RunErrorKind, RunErrorOf, RunWorkflowOutput } from '../shared/runTypes.js';

export type StopOutcome = 'failed' | 'budget_exceeded';

export class RunStopped extends Error {
  constructor(
    readonly outcome: StopOutcome,
    readonly error: RunError,
  ) {
    super(error.message);
    this.name = new.target.name;
  }
}

/**
 * Thrown out of a top-level `runWorkflow` that stopped without completing its work, so the Durable runtime
 * status is `Failed` with the outcome and error in its message (shared/runFailure.ts). `result` is what the
 * run would have returned; its last custom status carries the same as `final`.
 */
export class RunFailed extends Error {
  constructor(readonly result: RunWorkflowOutput & { outcome: StopOutcome; error: RunError }) {
    super(runFailureMessage(result.outcome, result.error));
    this.name = new.target.name;
  }
}

export function stepFailed(stepId: string | undefined, kind: RunErrorKind, message: string): RunStopped {
  return new RunStopped('failed', { ...(stepId === undefined ? {} : { stepId }), kind, message });
}

/**
 * A child workflow's or agent's failure, its kind passed up as it is (typed where it was made; read back
 * from the child's output as a string), else `fallback`.
 */
export function childStepFailed(
  stepId: string,
  kind: string | undefined,
  fallback: RunErrorKind,
  message: string,
): RunStopped {
  return new RunStopped('failed', { stepId, kind: kind ?? fallback, message });
}

export function budgetExceeded(stepId: string | undefined, message: string): RunStopped {
  return new RunStopped('budget_exceeded', {
    ...(stepId === undefined ? {} : { stepId }),
    kind: 'BudgetExceeded',
    message,
  } satisfies RunErrorOf);
}

/** Any error escaping a step, as a typed stop: expression and result-shape problems get their own kinds. */
export function asRunStopped(error: unknown, stepId: string | undefined): RunStopped {
  if (error instanceof RunStopped) return error;
  if (error instanceof ExpressionEvaluationError || error instanceof ExpressionSyntaxError) {
    return stepFailed(stepId, 'expression_error', error.message);
  }
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return stepFailed(stepId, 'invalid_result', `unexpected result shape${where}: ${issue?.message ?? ''}`);
  }
  const message = error instanceof Error ? firstLine(error.message) : String(error);
  return stepFailed(stepId, 'step_error', message);
}

/** Parses an orchestration input at the edge; a bad one fails the orchestration at once, saying where. */
export function parseOrchestrationInput<T>(schema: z.ZodType<T>, raw: unknown, orchestrator: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  throw new Error(`Invalid ${orchestrator} input: ${problems.join('; ')}`);
}
