/**
 * runWorkflow: a deterministic interpreter of a parsed workflow definition. Steps run in order over
 * the scope `{ input, steps: { <id>: { output } } }`; model calls, agents and child workflows are
 * activities and sub-orchestrations; everything else (templates, conditions, the ledger) is pure.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { compileExpression, evaluate, type StepResult } from '../definitions/expressions.js';
import { outputExpressionOf } from '../definitions/schema.js';
import { RunWorkflowInput, type RunOutcome, type RunWorkflowOutput } from '../shared/runTypes.js';
import { withCompletionCallback } from './completionCallback.js';
import { createRunState, log, reportProgress, type RunState } from './runState.js';
import { asRunStopped, parseOrchestrationInput } from './runStopped.js';
import { isEnabled } from './render.js';
import { runStep } from './steps.js';
import { endStep, skipStep, startStep } from './timeline.js';

export function* runWorkflowOrchestrator(
  context: OrchestrationContext,
): Generator<Task, RunWorkflowOutput, unknown> {
  const input = parseOrchestrationInput(RunWorkflowInput, context.df.getInput(), 'runWorkflow');
  const run = createRunState(context, input);
  const { definition } = input;
  const steps: Record<string, StepResult> = {};
  const scope = { input: input.input, steps };
  let current: string | undefined;

  try {
    for (const [stepIndex, step] of definition.steps.entries()) {
      current = step.id;
      const now = context.df.currentUtcDateTime;
      if (!isEnabled(step, scope)) {
        skipStep(run.timeline, step, now);
        reportProgress(run, { step: step.id, stepIndex });
        log(run, `${step.id}: skipped (when is false)`);
        continue;
      }
      startStep(run.timeline, step, now, run.ledger);
      reportProgress(run, { step: step.id, stepIndex });
      const output = yield* runStep(run, step, scope, { ledgerStep: step.id, label: step.id });
      endStep(run.timeline, 'completed', context.df.currentUtcDateTime, run.ledger);
      steps[step.id] = { output };
      log(run, `${step.id}: done`);
    }
    current = undefined;
    const output = evaluate(compileExpression(outputExpressionOf(definition)), scope);
    reportProgress(run, { step: undefined, stepIndex: definition.steps.length });
    return yield* withCompletionCallback(context, input.callback?.url, finish(run, 'completed', output));
  } catch (error) {
    const stop = asRunStopped(error, current);
    log(run, `${stop.outcome}: ${stop.error.kind}: ${stop.message}`);
    endStep(run.timeline, 'failed', context.df.currentUtcDateTime, run.ledger, stop.message);
    reportProgress(run, { map: undefined, waitingFor: undefined, batch: undefined });
    return yield* withCompletionCallback(
      context,
      input.callback?.url,
      finish(run, stop.outcome, null, stop.error),
    );
  }
}

function finish(
  run: RunState,
  outcome: RunOutcome,
  output: unknown,
  error?: RunWorkflowOutput['error'],
): RunWorkflowOutput {
  const { name, version } = run.input.definition;
  return {
    outcome,
    workflow: name,
    version,
    output,
    ...(error ? { error } : {}),
    ledger: run.ledger,
    timeline: run.timeline.records,
    artifacts: run.artifacts,
  };
}
