/**
 * runWorkflow: a deterministic interpreter of a parsed workflow definition. Steps run in order over
 * the scope `{ input, steps: { <id>: { output } } }`; model calls, agents and child workflows are
 * activities and sub-orchestrations; everything else (templates, conditions, the ledger) is pure.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { compileExpression, evaluate, type StepResult } from '../definitions/expressions.js';
import { outputExpressionOf } from '../definitions/schema.js';
import { RunWorkflowInput, type RunOutcome, type RunWorkflowOutput } from '../shared/runTypes.js';
import { Names } from '../shared/names.js';
import type { StartCallbackInput } from '../shared/requestTypes.js';
import { START_CALLBACK_RETRY } from './completionCallback.js';
import { legacyCompletionCallback } from './completionCallbackLegacy.js';
import { createRunState, log, reportFinal, reportProgress, type RunState } from './runState.js';
import { asRunStopped, parseOrchestrationInput, RunFailed } from './runStopped.js';
import { isEnabled } from './render.js';
import { runStep } from './steps.js';
import { endStep, skipStep, startStep } from './timeline.js';
import { atLeast, ORCHESTRATION_VERSIONS } from './version.js';

export function* runWorkflowOrchestrator(
  context: OrchestrationContext,
): Generator<Task, RunWorkflowOutput, unknown> {
  const input = parseOrchestrationInput(RunWorkflowInput, context.df.getInput(), 'runWorkflow');
  const run = createRunState(context, input);
  const { definition } = input;
  const steps: Record<string, StepResult> = {};
  const scope = { input: input.input, steps };
  let current: string | undefined;

  // Runs started before the callback orchestration deliver their callback at the end (completionCallbackLegacy.ts).
  const legacyCallbackUrl = atLeast(context, ORCHESTRATION_VERSIONS.callbackFirst)
    ? undefined
    : input.callback?.url;
  if (legacyCallbackUrl === undefined) yield* startCallback(context, input.callback?.url);
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
    const result = finish(run, 'completed', output);
    if (legacyCallbackUrl !== undefined)
      return yield* legacyCompletionCallback(context, legacyCallbackUrl, result);
    return result;
  } catch (error) {
    const stop = asRunStopped(error, current);
    log(run, `${stop.outcome}: ${stop.error.kind}: ${stop.message}`);
    endStep(run.timeline, 'failed', context.df.currentUtcDateTime, run.ledger, stop.message);
    const result = {
      ...finish(run, stop.outcome, null, stop.error),
      outcome: stop.outcome,
      error: stop.error,
    };
    const cleared = { map: undefined, waitingFor: undefined, batch: undefined };
    if (legacyCallbackUrl !== undefined) {
      // As those runs ended: Completed with the outcome in the output, after the callback.
      reportProgress(run, cleared);
      return yield* legacyCompletionCallback(
        context,
        legacyCallbackUrl,
        finish(run, stop.outcome, null, stop.error),
      );
    }
    // A child run (a `workflow` step, a batch item) hands its outcome, ledger and artifacts to its parent,
    // which decides; the run a caller started fails. Nothing is yielded from here to the throw, so the
    // failed activity or child that stopped the run is in the failing episode and a rewind re-runs it.
    if (context.df.parentInstanceId) {
      reportProgress(run, cleared);
      return result;
    }
    const { outcome, ledger, artifacts = [] } = result;
    reportFinal(run, { outcome, error: result.error, ledger, artifacts }, cleared);
    throw new RunFailed(result);
  }
}

/**
 * Starts the completion callback of a run started with one: a separate orchestration (`<id>:callback`,
 * orchestrators/completionCallback.ts) waits for this run's final status and delivers it with its own
 * retries, so an unreachable receiver never holds this run's status.
 */
function* startCallback(
  context: OrchestrationContext,
  url: string | undefined,
): Generator<Task, void, unknown> {
  if (url === undefined || context.df.parentInstanceId) return;
  const input: StartCallbackInput = { runId: context.df.instanceId, url };
  try {
    yield context.df.callActivityWithRetry(Names.activities.startCallback, START_CALLBACK_RETRY, input);
  } catch (error) {
    if (!context.df.isReplaying) {
      const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
      context.warn(`${context.df.instanceId}: completion callback could not be started: ${reason}`);
    }
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
