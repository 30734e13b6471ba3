/**
 * The provider batch activities behind `batch: true` llm steps: submit one step's requests, poll the
 * batch, collect its results, cancel it. Each is one short I/O call; the waiting in between is durable
 * timers in the orchestrator. Failures are returned classified, as callModel's are.
 */
import type { ModelConfig } from '../config/models.js';
import { BATCH_DISCOUNT_FACTOR, costUsd, findPrice } from '../models/cost.js';
import { roundUsd } from '../shared/money.js';
import { classifyModelError } from '../models/errors.js';
import {
  BatchLimitError,
  batchUnsupportedReason,
  supportsModelBatches,
  type ModelBatchApi,
} from '../models/providerBatch.js';
import type { ModelProvider } from '../models/provider.js';
import { sharedModelProviders, type ModelProviders } from '../models/providers.js';
import type { ModelRoute } from '../models/roles.js';
import { workflowRouteChain } from '../models/routing.js';
import { compileOutputSchema, type OutputCheck } from '../models/structuredOutput.js';
import {
  CancelModelBatchResult,
  CollectModelBatchResultsInput,
  CollectModelBatchResultsOutput,
  ModelBatchHandle,
  PollModelBatchResult,
  SubmitModelBatchInput,
  SubmitModelBatchResult,
  type ModelBatchCounts,
  type ModelBatchFailure,
  type ModelBatchItemResult,
} from '../shared/providerBatchTypes.js';
import type { ProviderKind } from '../shared/modelTypes.js';
import { parseActivityInput } from './activityInput.js';

export interface ModelBatchActivityDeps {
  readonly config: () => ModelConfig;
  readonly providers: (config: ModelConfig) => ModelProviders;
  readonly now?: () => number;
}

export interface ModelBatchActivities {
  readonly submitModelBatch: (input: unknown) => Promise<SubmitModelBatchResult>;
  readonly pollModelBatch: (input: unknown) => Promise<PollModelBatchResult>;
  readonly collectModelBatchResults: (input: unknown) => Promise<CollectModelBatchResultsOutput>;
  readonly cancelModelBatch: (input: unknown) => Promise<CancelModelBatchResult>;
}

const ZERO_COUNTS: ModelBatchCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };

export function createModelBatchActivities(deps: ModelBatchActivityDeps): ModelBatchActivities {
  const now = deps.now ?? Date.now;

  async function batchApiOf(kind: ProviderKind): Promise<{ provider: ModelProvider; api: ModelBatchApi }> {
    const provider = await deps.providers(deps.config()).get(kind);
    if (!provider.batches) throw new Error(`Provider "${kind}" has no batch API`);
    return { provider, api: provider.batches };
  }

  /** Runs one provider call, turning what it throws into a classified failure. */
  async function classified<T>(
    where: { provider: ProviderKind; deployment: string },
    secrets: ModelProvider['secrets'],
    call: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | ModelBatchFailure> {
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      if (error instanceof BatchLimitError) {
        return { ok: false, kind: 'bad_request', retryable: false, message: error.message, ...where };
      }
      return { ok: false, ...classifyModelError(error, { nowMs: now(), secrets }), ...where };
    }
  }

  async function submitModelBatch(raw: unknown): Promise<SubmitModelBatchResult> {
    const input = parseActivityInput(SubmitModelBatchInput, raw, 'submitModelBatch');
    const config = deps.config();
    const chain = workflowRouteChain(config, input.role, input.route);
    const route = chain.find((candidate) => supportsModelBatches(candidate.provider, config.offline));
    if (!route) {
      // A chain always has the role's own deployment first.
      const primary = chain[0] as ModelRoute;
      return SubmitModelBatchResult.parse({
        ok: false,
        kind: 'batch_unsupported',
        retryable: false,
        message: batchUnsupportedReason(input.role, primary),
        ...primary,
      });
    }
    // A schema this app cannot check is a definition bug: fail before anything is submitted.
    if (input.outputSchema) compileOutputSchema(input.outputSchema);
    const { provider, api } = await batchApiOf(route.provider);
    const maxTokens = input.maxTokens ?? config.defaultMaxTokens;
    // As in callModel: the step's thinking and effort win, else the role's, else the model's default.
    const roleConfig = config.roles[input.role];
    const thinking = input.thinking ?? roleConfig?.thinking;
    const effort = input.effort ?? roleConfig?.effort;
    const reasoningEffort = input.reasoningEffort ?? roleConfig?.reasoningEffort;
    const submitted = await classified(route, provider.secrets, () =>
      api.submit(
        input.requests.map((request) => ({
          customId: request.customId,
          request: {
            deployment: route.deployment,
            ...(request.system === undefined ? {} : { system: request.system }),
            messages: request.messages,
            ...(input.outputSchema === undefined ? {} : { outputSchema: input.outputSchema }),
            maxTokens,
            ...(thinking === undefined ? {} : { thinking }),
            ...(effort === undefined ? {} : { effort }),
            ...(reasoningEffort === undefined ? {} : { reasoningEffort }),
          },
        })),
      ),
    );
    if (!submitted.ok) return SubmitModelBatchResult.parse(submitted);
    return SubmitModelBatchResult.parse({
      ok: true,
      provider: route.provider,
      deployment: route.deployment,
      batchIds: submitted.value,
      requestCount: input.requests.length,
    });
  }

  async function pollModelBatch(raw: unknown): Promise<PollModelBatchResult> {
    const handle = parseActivityInput(ModelBatchHandle, raw, 'pollModelBatch');
    const { provider, api } = await batchApiOf(handle.provider);
    const polled = await classified(handle, provider.secrets, () =>
      Promise.all(handle.batchIds.map((id) => api.status(id))),
    );
    if (!polled.ok) return PollModelBatchResult.parse(polled);
    const rejected = polled.value.find((status) => status.state === 'failed');
    if (rejected) {
      return PollModelBatchResult.parse({
        ok: false,
        kind: 'batch_failed',
        retryable: false,
        message: rejected.message ?? 'the provider rejected the batch',
        provider: handle.provider,
        deployment: handle.deployment,
      });
    }
    const counts = polled.value.reduce(
      (sum, { counts: c }) => ({
        processing: sum.processing + c.processing,
        succeeded: sum.succeeded + c.succeeded,
        errored: sum.errored + c.errored,
        canceled: sum.canceled + c.canceled,
        expired: sum.expired + c.expired,
      }),
      ZERO_COUNTS,
    );
    const ended = polled.value.every((status) => status.state === 'ended');
    return PollModelBatchResult.parse({ ok: true, state: ended ? 'ended' : 'in_progress', counts });
  }

  async function collectModelBatchResults(raw: unknown): Promise<CollectModelBatchResultsOutput> {
    const { handle, outputSchema } = parseActivityInput(
      CollectModelBatchResultsInput,
      raw,
      'collectModelBatchResults',
    );
    const config = deps.config();
    const { provider, api } = await batchApiOf(handle.provider);
    const collected = await classified(handle, provider.secrets, async () =>
      (await Promise.all(handle.batchIds.map((id) => api.results(id, { outputSchema })))).flat(),
    );
    if (!collected.ok) return CollectModelBatchResultsOutput.parse(collected);
    const checkOutput: OutputCheck | undefined = outputSchema ? compileOutputSchema(outputSchema) : undefined;
    const results = collected.value.map((outcome): ModelBatchItemResult => {
      const { customId } = outcome;
      if (!outcome.ok) {
        const { customId: _, ok: __, ...failure } = outcome;
        return { customId, result: { ok: false, ...failure } };
      }
      const { response } = outcome;
      let structured: unknown;
      if (response.structured && checkOutput) {
        const checked = checkOutput(response.structured.value);
        if (!checked.ok) {
          return {
            customId,
            result: {
              ok: false,
              kind: 'invalid_output',
              retryable: false,
              message: `Structured answer does not match outputSchema: ${checked.problem}`,
            },
          };
        }
        structured = checked.value;
      }
      const price = findPrice(config.prices, response.model, handle.deployment);
      return {
        customId,
        result: {
          ok: true,
          message: response.message,
          stopReason: response.stopReason,
          ...(structured === undefined ? {} : { structured }),
          usage: response.usage,
          // Server-tool fees are per use, not token rates: the batch discount is not applied to them.
          costUsd: roundUsd(
            (price ? costUsd(response.usage, price, BATCH_DISCOUNT_FACTOR) : 0) +
              (response.serverTools?.feeUsd ?? 0),
          ),
          priced: price !== undefined,
          provider: handle.provider,
          deployment: handle.deployment,
          model: response.model,
          offline: response.offline,
          // A batch answers in hours, not per request; there is no per-call latency to report.
          latencyMs: 0,
          ...(response.serverTools ? { serverTools: response.serverTools } : {}),
        },
      };
    });
    return CollectModelBatchResultsOutput.parse({ ok: true, results });
  }

  async function cancelModelBatch(raw: unknown): Promise<CancelModelBatchResult> {
    const handle = parseActivityInput(ModelBatchHandle, raw, 'cancelModelBatch');
    const { provider, api } = await batchApiOf(handle.provider);
    const canceled = await classified(handle, provider.secrets, () =>
      Promise.all(handle.batchIds.map((id) => api.cancel(id))),
    );
    return CancelModelBatchResult.parse(canceled.ok ? { ok: true } : canceled);
  }

  return { submitModelBatch, pollModelBatch, collectModelBatchResults, cancelModelBatch };
}

/** The activities wired to the app's model settings and the process's shared SDK clients. */
export function createDefaultModelBatchActivities(config: ModelConfig): ModelBatchActivities {
  return createModelBatchActivities({ config: () => config, providers: sharedModelProviders });
}
