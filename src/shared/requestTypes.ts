/** What business systems send to start runs (queue messages), and the completion callback both sides share. */
import { z } from 'zod';

/** An `Idempotency-Key`: printable ASCII, so it can travel in a header unchanged. */
export const IdempotencyKey = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

/** `<container>/<blob name>` in the app's storage account. */
export const BlobRef = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}\/[^\\]+$/, {
    error: 'must be "<container>/<blob name>" in the app\'s storage account, e.g. "batches/tickets.jsonl"',
  })
  .refine(
    (ref) =>
      ref
        .split('/')
        .slice(1)
        .every((segment) => !['', '.', '..'].includes(segment)),
    {
      error: 'must not contain empty, "." or ".." path segments',
    },
  );

/** Most child runs one batch runs at once. */
export const MAX_BATCH_CONCURRENCY = 64;

/** A queue message that starts one run. */
export const WorkflowRequestMessage = z.strictObject({
  workflow: z.string().min(1),
  input: z.unknown(),
  idempotencyKey: IdempotencyKey.optional(),
  callbackUrl: z.string().min(1).optional(),
});
export type WorkflowRequestMessage = z.infer<typeof WorkflowRequestMessage>;

/** A queue message that starts one batch run over a JSONL blob (one input per line). */
export const BatchRequestMessage = z.strictObject({
  workflow: z.string().min(1),
  itemsBlob: BlobRef,
  outputBlob: BlobRef.optional(),
  concurrency: z.int().min(1).max(MAX_BATCH_CONCURRENCY).optional(),
  idempotencyKey: IdempotencyKey.optional(),
});
export type BatchRequestMessage = z.infer<typeof BatchRequestMessage>;

/** Where `runWorkflow` reports its result when it ends (carried in its input). */
export const CompletionCallback = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
});
export type CompletionCallback = z.infer<typeof CompletionCallback>;

/** Input of the `sendCallback` activity: the JSON body to POST; the activity signs and sends it. */
export const SendCallbackInput = z.strictObject({
  url: z.string().min(1),
  runId: z.string().min(1),
  body: z.unknown(),
});
export type SendCallbackInput = z.infer<typeof SendCallbackInput>;

/** How the callback went: delivered (2xx), or refused for good (blocked URL, 4xx); retryable failures throw. */
export const CallbackDelivery = z.strictObject({
  delivered: z.boolean(),
  status: z.int().optional(),
  reason: z.string().optional(),
});
export type CallbackDelivery = z.infer<typeof CallbackDelivery>;

/** Input of the `startCallback` activity: starts the `runCallback` orchestration of a run. */
export const StartCallbackInput = z.strictObject({
  runId: z.string().min(1),
  url: z.string().min(1),
});
export type StartCallbackInput = z.infer<typeof StartCallbackInput>;

/** Input of the `runCallback` orchestration (`<runId>:callback`); `polls` carries over `continueAsNew`. */
export const RunCallbackInput = z.strictObject({
  runId: z.string().min(1),
  url: z.string().min(1),
  polls: z.int().nonnegative().default(0),
});
export type RunCallbackInput = z.infer<typeof RunCallbackInput>;

/** What `readRunForCallback` answers: whether the run has finished, and then the body to POST. */
export const RunForCallback = z.union([
  z.strictObject({ finished: z.literal(false), status: z.string() }),
  z.strictObject({ finished: z.literal(true), status: z.string(), body: z.record(z.string(), z.unknown()) }),
]);
export type RunForCallback = z.infer<typeof RunForCallback>;

/**
 * Where a run's completion callback stands: `waiting` for the run to finish, `pending` between attempts,
 * `delivered` (2xx), or `failed` (refused for good, or every attempt failed). The `runCallback`
 * orchestration keeps it as its custom status while it runs and returns it as its output.
 */
export const CallbackOutcome = z.strictObject({
  state: z.enum(['waiting', 'pending', 'delivered', 'failed']),
  attempts: z.int().nonnegative(),
  /** The receiver's HTTP status of the last attempt that got an answer. */
  status: z.int().optional(),
  lastError: z.string().optional(),
  /** When the next attempt is due, while pending. */
  nextAttemptAt: z.string().optional(),
  /** When it was delivered or given up. */
  finishedAt: z.string().optional(),
});
export type CallbackOutcome = z.infer<typeof CallbackOutcome>;
