/** DTOs of the provider batch activities (`batch: true` llm steps): submit, poll, collect, cancel. */
import { z } from 'zod';
import {
  CallModelSuccess,
  EffortSetting,
  FailureKind,
  JsonSchema,
  ModelMessage,
  ModelRouteSpec,
  ProviderKind,
  ReasoningEffort,
  RoleName,
  ThinkingSetting,
} from './modelTypes.js';

/** What the Message Batches API accepts as `custom_id`; OpenAI takes any string, so the stricter rule wins. */
export const MODEL_BATCH_CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const ModelBatchRequest = z.strictObject({
  /** Unique in the batch; results come back keyed by it, in any order. */
  customId: z.string().regex(MODEL_BATCH_CUSTOM_ID, {
    error: 'custom ids are 1-64 letters, digits, "_" or "-"',
  }),
  system: z.string().optional(),
  messages: z.array(ModelMessage).min(1),
});
export type ModelBatchRequest = z.infer<typeof ModelBatchRequest>;

/** One step's requests: they share its output schema and token limit, as the items of a map do. */
export const SubmitModelBatchInput = z
  .strictObject({
    role: RoleName,
    /** A workflow's own deployment for the role: tried first, then the role's configured chain. */
    route: ModelRouteSpec.optional(),
    runId: z.string().min(1),
    stepId: z.string().min(1),
    outputSchema: JsonSchema.optional(),
    maxTokens: z.int().positive().max(64_000).optional(),
    /** The step's Claude thinking / effort and OpenAI reasoning effort; the role's settings fill in the rest. */
    thinking: ThinkingSetting.optional(),
    effort: EffortSetting.optional(),
    reasoningEffort: ReasoningEffort.optional(),
    requests: z.array(ModelBatchRequest).min(1),
  })
  .refine((input) => new Set(input.requests.map((r) => r.customId)).size === input.requests.length, {
    error: 'custom ids must be unique in a batch',
    path: ['requests'],
  });
export type SubmitModelBatchInput = z.infer<typeof SubmitModelBatchInput>;

export const ModelBatchFailureKind = z.enum([
  ...FailureKind.options,
  /** No deployment in the role's chain offers a batch API (Microsoft Foundry has none). */
  'batch_unsupported',
  /** The provider rejected the batch as a whole (e.g. an OpenAI input file that failed validation). */
  'batch_failed',
  /** The request was not processed: the batch was canceled, or expired after 24 hours. */
  'canceled',
  'expired',
]);
export type ModelBatchFailureKind = z.infer<typeof ModelBatchFailureKind>;

/** A failed batch call (submit, poll, collect, cancel), classified like callModel's failures. */
export const ModelBatchFailure = z.strictObject({
  ok: z.literal(false),
  kind: ModelBatchFailureKind,
  retryable: z.boolean(),
  status: z.int().optional(),
  retryAfterMs: z.number().nonnegative().optional(),
  /** Human-readable and free of keys and tokens. */
  message: z.string(),
  provider: ProviderKind,
  deployment: z.string(),
});
export type ModelBatchFailure = z.infer<typeof ModelBatchFailure>;

/** The provider batches a step's requests went out as: usually one, more only past a provider's limits. */
export const ModelBatchHandle = z.strictObject({
  provider: ProviderKind,
  deployment: z.string().min(1),
  batchIds: z.array(z.string().min(1)).min(1),
  requestCount: z.int().positive(),
});
export type ModelBatchHandle = z.infer<typeof ModelBatchHandle>;

export const SubmitModelBatchResult = z.discriminatedUnion('ok', [
  ModelBatchHandle.extend({ ok: z.literal(true) }),
  ModelBatchFailure,
]);
export type SubmitModelBatchResult = z.infer<typeof SubmitModelBatchResult>;

/** Requests per outcome; only `processing` moves before the batch ends (Anthropic) or all do (OpenAI). */
export const ModelBatchCounts = z.strictObject({
  processing: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  errored: z.int().nonnegative(),
  canceled: z.int().nonnegative(),
  expired: z.int().nonnegative(),
});
export type ModelBatchCounts = z.infer<typeof ModelBatchCounts>;

export const PollModelBatchResult = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    /** `ended` once every batch of the handle has ended; results can then be collected. */
    state: z.enum(['in_progress', 'ended']),
    counts: ModelBatchCounts,
  }),
  ModelBatchFailure,
]);
export type PollModelBatchResult = z.infer<typeof PollModelBatchResult>;

export const CollectModelBatchResultsInput = z.strictObject({
  handle: ModelBatchHandle,
  /** The step's output schema: answers are parsed and checked as callModel does. */
  outputSchema: JsonSchema.optional(),
});
export type CollectModelBatchResultsInput = z.infer<typeof CollectModelBatchResultsInput>;

/** One request that produced no usable answer. */
export const ModelBatchItemFailure = ModelBatchFailure.omit({ provider: true, deployment: true });
export type ModelBatchItemFailure = z.infer<typeof ModelBatchItemFailure>;

export const ModelBatchItemResult = z.strictObject({
  customId: z.string(),
  /** A success has callModel's shape, priced at the batch rate. */
  result: z.discriminatedUnion('ok', [CallModelSuccess, ModelBatchItemFailure]),
});
export type ModelBatchItemResult = z.infer<typeof ModelBatchItemResult>;

export const CollectModelBatchResultsOutput = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), results: z.array(ModelBatchItemResult) }),
  ModelBatchFailure,
]);
export type CollectModelBatchResultsOutput = z.infer<typeof CollectModelBatchResultsOutput>;

export const CancelModelBatchResult = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true) }),
  ModelBatchFailure,
]);
export type CancelModelBatchResult = z.infer<typeof CancelModelBatchResult>;

/** How long a run waits for a provider batch, and how often it asks (RunOptions.modelBatch). */
export const ModelBatchOptions = z.strictObject({
  /** First wait after submitting, and between the first polls (default 30 s). */
  initialPollMs: z.int().positive().optional(),
  /** The poll interval doubles up to this (default 10 min). */
  maxPollMs: z.int().positive().optional(),
  /** Past this the batch is canceled and the step fails (default 24 h, when providers expire batches). */
  maxWaitMs: z.int().positive().optional(),
});
export type ModelBatchOptions = z.infer<typeof ModelBatchOptions>;

/** Custom status while a step waits for its provider batch. */
export const ModelBatchProgress = z.strictObject({
  stepId: z.string(),
  provider: ProviderKind,
  batchIds: z.array(z.string()),
  total: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  errored: z.int().nonnegative(),
  processing: z.int().nonnegative(),
});
export type ModelBatchProgress = z.infer<typeof ModelBatchProgress>;
