/**
 * `batch: true` llm steps: a map's enabled items (or one llm step) go out as one provider batch at half
 * price, and come back mapped by custom id into item order, each answer read as a direct call's is.
 */
import type { ExpressionScope } from '../definitions/expressions.js';
import type { LlmStep } from '../definitions/schema.js';
import type {
  ModelBatchItemFailure,
  ModelBatchItemResult,
  ModelBatchRequest,
} from '../shared/providerBatchTypes.js';
import type { TaskGenerator } from './concurrency.js';
import { addModelCall } from './ledger.js';
import { runModelBatch } from './providerBatch.js';
import { answerOf } from './modelPolicy.js';
import { renderText } from './render.js';
import { enforceBudget, reportProgress, resolveRole, type RunState, type StepAt } from './runState.js';
import { stepFailed } from './runStopped.js';
import { userMessage } from './transcript.js';

const CUSTOM_ID_LABEL_CHARS = 40;

/**
 * The request's custom id: the step label in the characters batch APIs accept, then the item index
 * (`research.summaries` item 3 → `research-summaries-3`). Unique within the step's batch.
 */
export function batchCustomId(label: string, index: number): string {
  return `${label.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, CUSTOM_ID_LABEL_CHARS)}-${index}`;
}

/** Failures a follow-up batch may fix: rate limits, overload, 5xx, and requests never processed. */
const UNPROCESSED: ReadonlySet<ModelBatchItemFailure['kind']> = new Set(['expired', 'canceled']);

/** Whether a failed batch request is worth sending again (retryable, or never processed). */
export function resendable(failure: ModelBatchItemFailure): boolean {
  return failure.retryable || UNPROCESSED.has(failure.kind);
}

/**
 * Runs the llm step once per scope in one provider batch and returns the outputs in scope order; an
 * `undefined` scope is a disabled item, whose output is null.
 * Requests that failed in a way a retry may fix (`resendable`: 429, 5xx, overloaded, expired, canceled)
 * go out again as a follow-up batch of just those requests, up to `modelRetry.maxTries` batches in all,
 * still at the batch price; answers already received are kept and booked once.
 * @throws RunStopped for the first failed item (in item order), as a failed map item stops the run
 */
export function* runLlmBatch(
  run: RunState,
  step: LlmStep,
  scopes: readonly (ExpressionScope | undefined)[],
  at: StepAt,
  itemLabel: (index: number) => string,
): TaskGenerator<unknown[]> {
  const requests: ModelBatchRequest[] = [];
  const customIds = scopes.map((scope, index) => {
    if (scope === undefined) return undefined;
    const customId = batchCustomId(at.label, index);
    requests.push({
      customId,
      ...(step.system === undefined ? {} : { system: renderText(step.system, scope) }),
      messages: [userMessage(renderText(step.prompt, scope))],
    });
    return customId;
  });
  if (requests.length === 0) return scopes.map(() => null);

  const { role, route } = resolveRole(run.input.definition, step.role);
  const byId = new Map<string, ModelBatchItemResult['result']>();
  let where = '';
  let pending = requests;
  for (let round = 1; pending.length > 0; round++) {
    const { handle, results } = yield* runModelBatch(
      {
        context: run.context,
        retry: run.modelRetry,
        policy: run.modelBatch,
        onProgress: (handle, counts) =>
          reportProgress(run, {
            batch: {
              stepId: at.label,
              provider: handle.provider,
              batchIds: handle.batchIds,
              total: handle.requestCount,
              succeeded: counts?.succeeded ?? 0,
              errored: (counts?.errored ?? 0) + (counts?.canceled ?? 0) + (counts?.expired ?? 0),
              processing: counts?.processing ?? handle.requestCount,
            },
          }),
      },
      {
        role,
        ...(route === undefined ? {} : { route }),
        runId: run.runId,
        stepId: at.label,
        ...(step.outputSchema === undefined ? {} : { outputSchema: step.outputSchema }),
        ...(step.maxTokens === undefined ? {} : { maxTokens: step.maxTokens }),
        ...(step.thinking === undefined ? {} : { thinking: step.thinking }),
        ...(step.effort === undefined ? {} : { effort: step.effort }),
        ...(step.reasoningEffort === undefined ? {} : { reasoningEffort: step.reasoningEffort }),
        requests: pending,
      },
    );
    reportProgress(run, { batch: undefined });
    where = `${handle.provider}/${handle.deployment}`;
    for (const { customId, result } of results) byId.set(customId, result);
    // Every answer is billed, whatever happened to its siblings: book them all before judging any.
    run.ledger = pending.reduce((ledger, { customId }) => {
      const result = byId.get(customId);
      return result?.ok ? addModelCall(ledger, at.ledgerStep, role, result, true) : ledger;
    }, run.ledger);
    const resend = pending.filter(({ customId }) => {
      const result = byId.get(customId);
      return result !== undefined && !result.ok && resendable(result);
    });
    if (resend.length === 0 || round >= run.modelRetry.maxTries) break;
    if (!run.context.df.isReplaying) {
      run.context.log(
        `${at.label}: re-sending ${resend.length} of ${requests.length} requests as a follow-up batch ` +
          `(round ${round + 1} of at most ${run.modelRetry.maxTries})`,
      );
    }
    // The budget applies between rounds too: a follow-up batch is more spending.
    enforceBudget(run, at.label);
    pending = resend;
  }

  const answers = customIds.map((customId, index) => {
    if (customId === undefined) return undefined;
    const result = byId.get(customId);
    if (result === undefined) {
      throw stepFailed(
        itemLabel(index),
        'missing_result',
        `${where}: the batch returned no result for ${customId}`,
      );
    }
    if (!result.ok) throw stepFailed(itemLabel(index), result.kind, `${where}: ${result.message}`);
    return result;
  });
  enforceBudget(run, at.label);
  const wantsStructured = step.outputSchema !== undefined;
  return answers.map((result, index) =>
    result === undefined ? null : answerOf(result, wantsStructured, itemLabel(index)),
  );
}
