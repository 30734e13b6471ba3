/**
 * Queue trigger on `workflow-requests`: each message starts one run (`{workflow, input, idempotencyKey?,
 * callbackUrl?}`) or one batch over a JSONL blob (`{workflow, itemsBlob, outputBlob?, concurrency?}`).
 * A message that can never succeed goes to the poison queue at once, with its original body and the
 * reason; a transient failure (storage, the Durable API) throws, so the host retries the message.
 */
import type { InvocationContext, StorageQueueHandler } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_BATCH_CONCURRENCY,
  MAX_BATCH_PAGE_SIZE,
  type BatchRunInput,
} from '../../shared/batchJobTypes.js';
import { Names } from '../../shared/names.js';
import { BatchRequestMessage, WorkflowRequestMessage } from '../../shared/requestTypes.js';
import { traceRunStart } from '../../telemetry/spans.js';
import { idempotentInstanceId, type RunStarter } from '../runStarter.js';
import { decodeUtf8, parseJsonBytes, parseJsonText } from '../../shared/jsonText.js';
import type { PoisonQueue } from './poisonQueue.js';

export interface WorkflowRequestsDeps {
  readonly starter: RunStarter;
  readonly getClient: (context: InvocationContext) => DurableClient;
  readonly poison: PoisonQueue;
  /** Whether the batch's items blob exists. */
  readonly blobExists: (blobRef: string) => Promise<boolean>;
  /** Where batch results go when the message names no `outputBlob`: `<container>/<batchId>/results.jsonl`. */
  readonly resultsContainer: () => string;
  /** The only containers a message may name for `itemsBlob` / `outputBlob` (`QUEUE_BLOB_CONTAINERS`). */
  readonly allowedContainers: () => readonly string[];
  readonly queueName: string;
}

export type RequestOutcome =
  | { readonly kind: 'started'; readonly instanceId: string; readonly what: string; readonly repeat: boolean }
  | { readonly kind: 'malformed'; readonly reason: string };

const LOGGED_REASON_CHARS = 300;

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .map(
      (issue) =>
        `${issue.path.length > 0 ? `/${issue.path.map(String).join('/')}` : '(message)'}: ${issue.message}`,
    )
    .join('; ');
}

/** The summary's place: next to the results, `x.jsonl` → `x.summary.json`. */
export function summaryBlobFor(outputBlob: string): string {
  return outputBlob.endsWith('.jsonl')
    ? `${outputBlob.slice(0, -'.jsonl'.length)}.summary.json`
    : `${outputBlob}.summary.json`;
}

/** Why a message's blob refs name a container it may not use, or undefined when they are all allowed. */
export function refusedContainer(
  allowed: readonly string[],
  refs: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (const [field, ref] of Object.entries(refs)) {
    if (ref === undefined) continue;
    const container = ref.slice(0, ref.indexOf('/'));
    if (!allowed.includes(container)) {
      return (
        `${field} ${ref} is in container "${container}", which queue messages may not use; ` +
        `allowed: ${allowed.join(', ')} (QUEUE_BLOB_CONTAINERS)`
      );
    }
  }
  return undefined;
}

/** The message text for the poison entry: the bound bytes (U+FFFD where they are not UTF-8), else the text. */
function messageText(entry: unknown, context: InvocationContext): string {
  if (entry instanceof Uint8Array) return Buffer.from(entry).toString('utf8');
  const raw = context.triggerMetadata?.queueTrigger ?? context.triggerMetadata?.QueueTrigger;
  if (typeof raw === 'string') return raw;
  return typeof entry === 'string' ? entry : JSON.stringify(entry);
}

/** The message's exact bytes, base64, when they are not UTF-8 (its text then has U+FFFD in their place). */
function undecodableBytes(entry: unknown): { originalBodyBase64?: string } {
  if (!(entry instanceof Uint8Array) || decodeUtf8(entry).ok) return {};
  return { originalBodyBase64: Buffer.from(entry).toString('base64') };
}

/**
 * The message as JSON. The trigger binds it as bytes (`dataType: 'binary'` in `src/index.ts`), so invalid
 * UTF-8 is refused here instead of arriving as U+FFFD; a string or value (older hosts, tests) is taken as is.
 */
function parseMessage(entry: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  const parsed =
    entry instanceof Uint8Array
      ? parseJsonBytes(entry)
      : typeof entry === 'string'
        ? parseJsonText(entry)
        : ({ ok: true, value: entry } as const);
  if (parsed.ok) return parsed;
  const { kind, reason } = parsed.problem;
  return {
    ok: false,
    reason:
      kind === 'invalid-json' ? `the message is not JSON (${reason})` : `the message is refused: ${reason}`,
  };
}

export function createWorkflowRequestsHandler(deps: WorkflowRequestsDeps): StorageQueueHandler {
  async function startRun(
    message: unknown,
    messageId: string | undefined,
    context: InvocationContext,
  ): Promise<RequestOutcome> {
    const parsed = WorkflowRequestMessage.safeParse(message);
    if (!parsed.success) {
      return {
        kind: 'malformed',
        reason: `not a run request {workflow, input, idempotencyKey?, callbackUrl?}: ${describeIssues(parsed.error.issues)}`,
      };
    }
    const { workflow, input, idempotencyKey, callbackUrl } = parsed.data;
    const prepared = await deps.starter.prepare({ workflow, input, callbackUrl });
    switch (prepared.kind) {
      case 'unknown_workflow':
        return { kind: 'malformed', reason: prepared.message };
      case 'invalid_input':
        return {
          kind: 'malformed',
          reason: `the input does not match the schema of "${workflow}": ${prepared.problems.map((p) => `${p.path || '(input)'} ${p.message}`).join('; ')}`,
        };
      case 'invalid_callback':
      case 'unpriced_budget':
        return { kind: 'malformed', reason: prepared.message };
      case 'tools_unavailable':
        // Not the message's fault, and likely to pass: thrown, so the queue delivers it again later.
        throw new Error(prepared.message);
      case 'ready':
        break;
    }
    // Without a key the message id stands in, so a message redelivered after a crash starts nothing new.
    const key = idempotencyKey ?? messageId;
    const instanceId =
      key === undefined ? undefined : idempotentInstanceId(idempotencyKey ? 'queue' : 'queue-message', key);
    const started = await deps.starter.start(deps.getClient(context), prepared.input, instanceId);
    if (started.differentRequest) {
      return {
        kind: 'malformed',
        reason:
          `${idempotencyKey ? `idempotencyKey "${idempotencyKey}"` : 'this message id'} already started run ` +
          `${started.instanceId} with a different request; use a new key for a new run`,
      };
    }
    return {
      kind: 'started',
      instanceId: started.instanceId,
      what: `run of ${workflow}`,
      repeat: started.existing !== undefined,
    };
  }

  async function startBatch(
    message: unknown,
    messageId: string | undefined,
    context: InvocationContext,
  ): Promise<RequestOutcome> {
    const parsed = BatchRequestMessage.safeParse(message);
    if (!parsed.success) {
      return {
        kind: 'malformed',
        reason: `not a batch request {workflow, itemsBlob, outputBlob?, concurrency?}: ${describeIssues(parsed.error.issues)}`,
      };
    }
    const { workflow, itemsBlob, outputBlob, concurrency, idempotencyKey } = parsed.data;
    const run = deps.starter.template(workflow);
    if (!run)
      return { kind: 'malformed', reason: `No workflow named "${workflow}"; the batch was not started` };
    const unpriced = deps.starter.budgetProblem(workflow);
    if (unpriced !== undefined)
      return { kind: 'malformed', reason: `${unpriced}; the batch was not started` };
    const key = idempotencyKey ?? messageId ?? randomUUID();
    const batchId = idempotentInstanceId(idempotencyKey ? 'queue' : 'queue-message', key, 'batch');
    const output = outputBlob ?? `${deps.resultsContainer()}/${batchId}/results.jsonl`;
    const refused = refusedContainer(deps.allowedContainers(), { itemsBlob, outputBlob: output });
    if (refused) return { kind: 'malformed', reason: refused };
    if (!(await deps.blobExists(itemsBlob))) {
      return {
        kind: 'malformed',
        reason: `itemsBlob ${itemsBlob} does not exist in the app's storage account`,
      };
    }
    const input: BatchRunInput = {
      run,
      itemsBlob,
      outputBlob: output,
      summaryBlob: summaryBlobFor(output),
      concurrency: concurrency ?? DEFAULT_BATCH_CONCURRENCY,
      pageSize: Math.min(MAX_BATCH_PAGE_SIZE, Math.max(128, 64 * (concurrency ?? DEFAULT_BATCH_CONCURRENCY))),
    };
    // One trace for the batch job: its item runs carry it in their template.
    const started = await traceRunStart(workflow, (trace) =>
      deps.starter.startOrchestration(
        deps.getClient(context),
        Names.orchestrators.runBatch,
        trace === undefined ? input : { ...input, run: { ...input.run, trace } },
        batchId,
      ),
    );
    return {
      kind: 'started',
      instanceId: started.instanceId,
      what: `batch of ${workflow} over ${itemsBlob}`,
      repeat: started.existing !== undefined,
    };
  }

  return async (entry: unknown, context: InvocationContext): Promise<void> => {
    const messageId =
      typeof context.triggerMetadata?.id === 'string' ? context.triggerMetadata.id : undefined;
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? NaN);
    const json = parseMessage(entry);
    const isBatch =
      json.ok && typeof json.value === 'object' && json.value !== null && 'itemsBlob' in json.value;
    const outcome: RequestOutcome = !json.ok
      ? { kind: 'malformed', reason: json.reason }
      : isBatch
        ? await startBatch(json.value, messageId, context)
        : await startRun(json.value, messageId, context);

    if (outcome.kind === 'started') {
      context.log(
        `Queue message ${messageId ?? '?'}: ${outcome.repeat ? 'already started' : 'started'} ${outcome.what} as ${outcome.instanceId}`,
      );
      return;
    }
    await deps.poison.send({
      originalBody: messageText(entry, context),
      ...undecodableBytes(entry),
      reason: outcome.reason,
      queue: deps.queueName,
      ...(messageId === undefined ? {} : { messageId }),
      ...(Number.isFinite(dequeueCount) ? { dequeueCount } : {}),
      movedAt: new Date().toISOString(),
    });
    context.warn(
      `Queue message ${messageId ?? '?'} moved to ${deps.poison.queueName} without retrying: ${outcome.reason.slice(0, LOGGED_REASON_CHARS)}`,
    );
  };
}
