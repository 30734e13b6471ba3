/** Message Batches on the Claude API: `messages.batches` create, retrieve, results (JSONL), cancel. */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { JsonSchema } from '../shared/modelTypes.js';
import { classifyModelError, classifyStatus } from './errors.js';
import {
  chunkForLimits,
  MODEL_BATCH_LIMITS,
  type ModelBatchApi,
  type ModelBatchItemOutcome,
  type ModelBatchLimits,
} from './providerBatch.js';
import type { ProviderRequest, ProviderResponse } from './provider.js';

/** The SDK resource (absent on AnthropicFoundry); only these four calls are used. */
export type AnthropicBatchClient = Pick<
  Anthropic['messages']['batches'],
  'create' | 'retrieve' | 'results' | 'cancel'
>;

/** HTTP status of each Messages API error type, so an errored request is classified like a direct call. */
const ERROR_TYPE_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** `{ "requests": [` … `] }` around the entries, and the comma between two. */
const ENVELOPE_BYTES = '{"requests":[]}'.length;

export interface AnthropicBatchApiOptions {
  readonly client: AnthropicBatchClient;
  /** The provider's own request building and response parsing, so a batch request is a direct call's. */
  readonly buildParams: (request: ProviderRequest) => MessageCreateParamsNonStreaming;
  readonly normalize: (raw: unknown, outputSchema: JsonSchema | undefined) => ProviderResponse;
  readonly limits?: ModelBatchLimits;
}

export function createAnthropicBatchApi(options: AnthropicBatchApiOptions): ModelBatchApi {
  const { client } = options;
  const limits = options.limits ?? MODEL_BATCH_LIMITS.anthropic;

  return {
    async submit(items) {
      const entries = items.map((item) => {
        const entry = { custom_id: item.customId, params: options.buildParams(item.request) };
        return { entry, bytes: Buffer.byteLength(JSON.stringify(entry)) + 1 };
      });
      const ids: string[] = [];
      for (const chunk of chunkForLimits(entries, limits, ENVELOPE_BYTES)) {
        const batch = await client.create({ requests: chunk.map(({ entry }) => entry) });
        ids.push(batch.id);
      }
      return ids;
    },

    async status(batchId) {
      const batch = await client.retrieve(batchId);
      const counts = batch.request_counts;
      return {
        state: batch.processing_status === 'ended' ? 'ended' : 'in_progress',
        counts: {
          processing: counts.processing,
          succeeded: counts.succeeded,
          errored: counts.errored,
          canceled: counts.canceled,
          expired: counts.expired,
        },
      };
    },

    async results(batchId, { outputSchema }) {
      const outcomes: ModelBatchItemOutcome[] = [];
      for await (const line of await client.results(batchId)) {
        const customId = line.custom_id;
        const result = line.result;
        switch (result.type) {
          case 'succeeded':
            try {
              outcomes.push({
                customId,
                ok: true,
                response: options.normalize(result.message, outputSchema),
              });
            } catch (error) {
              outcomes.push({ customId, ok: false, ...classifyModelError(error, { nowMs: 0 }) });
            }
            break;
          case 'errored': {
            const { type, message } = result.error.error;
            const status = ERROR_TYPE_STATUS[type] ?? 500;
            outcomes.push({ customId, ok: false, ...classifyStatus(status), status, message });
            break;
          }
          case 'canceled':
          case 'expired':
            outcomes.push({
              customId,
              ok: false,
              kind: result.type,
              retryable: false,
              message:
                result.type === 'expired'
                  ? 'the batch expired (24 hours) before this request was processed'
                  : 'the batch was canceled before this request was processed',
            });
            break;
        }
      }
      return outcomes;
    },

    async cancel(batchId) {
      await client.cancel(batchId);
    },
  };
}
