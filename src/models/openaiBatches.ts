/**
 * The Batch API of OpenAI and Azure OpenAI (Global Batch): a JSONL file of Chat Completions requests
 * uploaded with `files.create({ purpose: 'batch' })`, then `batches.create`, `retrieve`, `cancel`, and
 * the output and error files read back with `files.content`. With the plain client on Azure's v1 base
 * (`<endpoint>/openai/v1/`) these are `/openai/v1/files` and `/openai/v1/batches`, no `api-version`.
 */
import OpenAI, { toFile } from 'openai';
import type { BatchCreateParams } from 'openai/resources/batches';
import type { FileObject } from 'openai/resources/files';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { z } from 'zod';
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

/**
 * Azure's v1 batch endpoint is `/chat/completions`, and its JSONL `model` is the Global Batch
 * deployment; OpenAI's is `/v1/chat/completions`.
 */
const ENDPOINTS = { 'azure-openai': '/chat/completions', openai: '/v1/chat/completions' } as const;

/** Azure validates an upload before a batch may use it; this long at most, in the submit activity. */
const FILE_READY_TIMEOUT_MS = 60_000;
const FILE_READY_POLL_MS = 1_000;
/** Azure's states of an upload it is still validating (OpenAI's SDK types list none of them). */
const VALIDATING_STATES: ReadonlySet<string> = new Set(['pending', 'running']);

const OutputLine = z.object({
  custom_id: z.string(),
  response: z.object({ status_code: z.int(), body: z.unknown() }).nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const ErrorBody = z.object({ error: z.object({ message: z.string() }) });

const UNPROCESSED_CODES: Readonly<Record<string, 'expired' | 'canceled'>> = {
  batch_expired: 'expired',
  batch_cancelled: 'canceled',
  batch_canceled: 'canceled',
};

export interface OpenAIBatchApiOptions {
  readonly kind: 'azure-openai' | 'openai';
  readonly client: OpenAI;
  /** The provider's own request building and response parsing, so a batch request is a direct call's. */
  readonly buildParams: (request: ProviderRequest) => ChatCompletionCreateParamsNonStreaming;
  readonly normalize: (raw: unknown, outputSchema: JsonSchema | undefined) => ProviderResponse;
  readonly limits?: ModelBatchLimits;
  readonly sleep?: (ms: number) => Promise<void>;
}

function lineOutcome(
  line: z.infer<typeof OutputLine>,
  normalize: () => ProviderResponse,
): ModelBatchItemOutcome {
  const customId = line.custom_id;
  const status = line.response?.status_code;
  if (status === 200) {
    try {
      return { customId, ok: true, response: normalize() };
    } catch (error) {
      return { customId, ok: false, ...classifyModelError(error, { nowMs: 0 }) };
    }
  }
  const unprocessed = UNPROCESSED_CODES[line.error?.code ?? ''];
  if (unprocessed) {
    return { customId, ok: false, kind: unprocessed, retryable: false, message: line.error?.message ?? '' };
  }
  const message =
    ErrorBody.safeParse(line.response?.body).data?.error.message ??
    line.error?.message ??
    `the request failed${status === undefined ? '' : ` with status ${status}`}`;
  return {
    customId,
    ok: false,
    ...classifyStatus(status ?? 500),
    ...(status === undefined ? {} : { status }),
    message,
  };
}

export function createOpenAIBatchApi(options: OpenAIBatchApiOptions): ModelBatchApi {
  const { client, kind } = options;
  const limits = options.limits ?? MODEL_BATCH_LIMITS[kind];
  const endpoint = ENDPOINTS[kind];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /** Azure reports a new upload as pending until it has validated it; OpenAI's is usable at once. */
  async function waitUntilProcessed(file: FileObject): Promise<void> {
    let current = file;
    for (let waited = 0; VALIDATING_STATES.has(String(current.status)); waited += FILE_READY_POLL_MS) {
      if (waited >= FILE_READY_TIMEOUT_MS) {
        throw new OpenAI.APIConnectionTimeoutError({
          message: `The batch input file ${file.id} was still being validated after ${waited / 1000} s`,
        });
      }
      await sleep(FILE_READY_POLL_MS);
      current = await client.files.retrieve(file.id);
    }
    if (current.status === 'error') {
      throw new OpenAI.OpenAIError(
        `The provider rejected the batch input file ${file.id}: ${current.status_details ?? 'no reason given'}`,
      );
    }
  }

  async function fileLines(fileId: string | null | undefined): Promise<z.infer<typeof OutputLine>[]> {
    if (!fileId) return [];
    const text = await (await client.files.content(fileId)).text();
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => OutputLine.parse(JSON.parse(line)));
  }

  /**
   * `files.delete` each one, best effort: the results are already read, and a failure here must not fail
   * the step (a retried collect would then find its output file gone). Whatever is left behind stays in
   * the provider's file store until someone deletes it.
   */
  async function deleteFiles(ids: readonly (string | null | undefined)[]): Promise<void> {
    for (const id of ids) {
      if (!id) continue;
      try {
        await client.files.delete(id);
      } catch {
        // Already gone (404) or not deletable now: nothing the step can do about it.
      }
    }
  }

  return {
    async submit(items) {
      const lines = items.map((item) => {
        const line = JSON.stringify({
          custom_id: item.customId,
          method: 'POST',
          url: endpoint,
          body: options.buildParams(item.request),
        });
        return { line, bytes: Buffer.byteLength(line) + 1 };
      });
      const ids: string[] = [];
      for (const [index, chunk] of chunkForLimits(lines, limits).entries()) {
        const jsonl = `${chunk.map(({ line }) => line).join('\n')}\n`;
        const file = await client.files.create({
          file: await toFile(Buffer.from(jsonl), `batch-${index + 1}.jsonl`, { type: 'application/jsonl' }),
          purpose: 'batch',
        });
        await waitUntilProcessed(file);
        const batch = await client.batches.create({
          input_file_id: file.id,
          // The SDK's type lists OpenAI's /v1/ paths only.
          endpoint: endpoint as BatchCreateParams['endpoint'],
          completion_window: '24h',
        });
        ids.push(batch.id);
      }
      return ids;
    },

    async status(batchId) {
      const batch = await client.batches.retrieve(batchId);
      const total = batch.request_counts?.total ?? 0;
      const completed = batch.request_counts?.completed ?? 0;
      const failed = batch.request_counts?.failed ?? 0;
      const ended = ['completed', 'expired', 'cancelled'].includes(batch.status);
      const unanswered = Math.max(0, total - completed - failed);
      const counts = {
        processing: ended ? 0 : unanswered,
        succeeded: completed,
        errored: failed,
        canceled: batch.status === 'cancelled' ? unanswered : 0,
        expired: batch.status === 'expired' ? unanswered : 0,
      };
      if (batch.status === 'failed') {
        const reasons = (batch.errors?.data ?? []).map((error) => error.message).filter(Boolean);
        return {
          state: 'failed',
          counts,
          message: `the provider rejected the batch: ${reasons.join('; ') || 'no reason given'}`,
        };
      }
      return { state: ended ? 'ended' : 'in_progress', counts };
    },

    async results(batchId, { outputSchema }) {
      const batch = await client.batches.retrieve(batchId);
      const lines = [...(await fileLines(batch.output_file_id)), ...(await fileLines(batch.error_file_id))];
      const outcomes = lines.map((line) =>
        lineOutcome(line, () => options.normalize(line.response?.body, outputSchema)),
      );
      // Everything is read: the prompts and answers need not stay in the provider's file store.
      await deleteFiles([batch.input_file_id, batch.output_file_id, batch.error_file_id]);
      return outcomes;
    },

    async cancel(batchId) {
      await client.batches.cancel(batchId);
    },
  };
}
