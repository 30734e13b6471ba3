/**
 * Blob I/O of batch runs: count and read the JSONL items page by page, stage each page of results as one
 * block of the results blob (a retried write replaces its own block), then commit the blocks in order and
 * write the summary. Every activity here is safe to run more than once.
 */
import type { InvocationContext } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseJsonText } from '../shared/jsonText.js';
import type { RunErrorOf } from '../shared/runTypes.js';
import { validateWorkflowInput } from '../definitions/inputValidation.js';
import {
  CountBatchItemsInput,
  FinishBatchInput,
  ReadBatchItemsInput,
  WriteBatchResultsInput,
  type BatchItem,
  type BatchItemResult,
  type CountBatchItemsOutput,
  type ReadBatchItemsOutput,
  type WriteBatchResultsOutput,
  itemRunsPrefix,
} from '../shared/batchJobTypes.js';
import { parseActivityInput } from './activityInput.js';
import { lazyBlobService, type BlobServiceDeps } from './artifacts.js';
import type { RunOutputReader } from './runOutputs.js';

/** Longest accepted line, as the HTTP starter's body limit; longer lines fail as items, not the batch. */
export const MAX_LINE_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 256 * 1024;
/**
 * Lines checked between turns of the event loop. A page is thousands of lines, and the language worker
 * runs the batch's own runs meanwhile: checking them in one go would hold every run up for tens of ms.
 */
const LINES_PER_TURN = 64;
const NEWLINE = 0x0a;

export interface BatchIoDeps extends BlobServiceDeps {
  /** Reads the outputs of a page's finished item runs (e.g. `createRunOutputReader`). */
  readonly runOutputs: RunOutputReader;
  /** When given, the only containers batch blobs may be in (`QUEUE_BLOB_CONTAINERS`); a second line behind the queue's check. */
  readonly allowedContainers?: () => readonly string[];
}

export interface BatchIo {
  readonly countBatchItems: (raw: unknown) => Promise<CountBatchItemsOutput>;
  readonly readBatchItems: (raw: unknown) => Promise<ReadBatchItemsOutput>;
  readonly writeBatchResults: (raw: unknown, context: InvocationContext) => Promise<WriteBatchResultsOutput>;
  readonly finishBatch: (raw: unknown) => Promise<{ outputBlob: string; summaryBlob: string }>;
  /** Whether a `<container>/<name>` blob exists (the queue trigger checks items before starting a batch). */
  readonly exists: (blobRef: string) => Promise<boolean>;
}

export function splitBlobRef(blobRef: string): { container: string; name: string } {
  const slash = blobRef.indexOf('/');
  if (slash <= 0 || slash === blobRef.length - 1) {
    throw new Error(`"${blobRef}" is not a blob reference (expected <container>/<blob name>)`);
  }
  return { container: blobRef.slice(0, slash), name: blobRef.slice(slash + 1) };
}

/** Block ids must all have the same length: the page number, zero-padded, base64. */
export function blockIdOf(page: number): string {
  return Buffer.from(`page-${String(page).padStart(8, '0')}`).toString('base64');
}

/** One JSONL line as a batch item: the validated input, or why it cannot run. */
export function parseItemLine(
  line: number,
  text: string,
  definition: ReadBatchItemsInput['definition'],
): BatchItem {
  const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (trimmed.trim() === '') {
    return {
      line,
      error: {
        kind: 'invalid_item',
        message: 'the line is empty; each line must be one JSON input',
      } satisfies RunErrorOf,
    };
  }
  const parsed = parseJsonText(trimmed);
  if (!parsed.ok) {
    return {
      line,
      error: {
        kind: 'invalid_json',
        message: `the line is not JSON: ${parsed.problem.reason}`,
      } satisfies RunErrorOf,
    };
  }
  const checked = validateWorkflowInput(definition, parsed.value);
  if (checked.ok) return { line, input: checked.value };
  const problems = checked.problems.map((p) => `${p.path || '(input)'} ${p.message}`).join('; ');
  return {
    line,
    error: {
      kind: 'invalid_input',
      message: `the input does not match the schema of "${definition.name}": ${problems}`,
    } satisfies RunErrorOf,
  };
}

export function createBatchIo(deps: BatchIoDeps): BatchIo {
  const serviceClient = lazyBlobService(deps);
  const ensured = new Map<string, Promise<ContainerClient>>();
  const container = (name: string, create: boolean): Promise<ContainerClient> => {
    const client = serviceClient().getContainerClient(name);
    if (!create) return Promise.resolve(client);
    let ready = ensured.get(name);
    if (!ready) {
      ready = client.createIfNotExists().then(() => client);
      ready.catch(() => ensured.delete(name));
      ensured.set(name, ready);
    }
    return ready;
  };
  const blockBlob = async (blobRef: string, create = false) => {
    const { container: containerName, name } = splitBlobRef(blobRef);
    const allowed = deps.allowedContainers?.();
    if (allowed && !allowed.includes(containerName)) {
      throw new Error(
        `${blobRef} is in container "${containerName}", which batches may not use; allowed: ${allowed.join(', ')} (QUEUE_BLOB_CONTAINERS)`,
      );
    }
    return (await container(containerName, create)).getBlockBlobClient(name);
  };
  const sizeOf = async (blobRef: string): Promise<number> => {
    const blob = await blockBlob(blobRef);
    try {
      return (await blob.getProperties()).contentLength ?? 0;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404)
        throw new Error(`No items blob ${blobRef}`, { cause: error });
      throw error;
    }
  };
  const readRange = async (blobRef: string, offset: number, count: number): Promise<Buffer> =>
    count <= 0 ? Buffer.alloc(0) : (await blockBlob(blobRef)).downloadToBuffer(offset, count);

  return {
    async countBatchItems(raw) {
      const { itemsBlob } = parseActivityInput(CountBatchItemsInput, raw, 'countBatchItems');
      const bytes = await sizeOf(itemsBlob);
      let lines = 0;
      let last = NEWLINE;
      for (let offset = 0; offset < bytes; offset += 4 * READ_CHUNK_BYTES) {
        const chunk = await readRange(itemsBlob, offset, Math.min(4 * READ_CHUNK_BYTES, bytes - offset));
        for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
        last = chunk[chunk.length - 1] ?? last;
      }
      // A last line without a trailing newline still counts.
      if (bytes > 0 && last !== NEWLINE) lines++;
      return { lines, bytes };
    },

    async readBatchItems(raw) {
      const input = parseActivityInput(ReadBatchItemsInput, raw, 'readBatchItems');
      const bytes = await sizeOf(input.itemsBlob);
      const items: BatchItem[] = [];
      let offset = input.byteOffset;
      let pending: Buffer = Buffer.alloc(0);
      let skippingLongLine = false;
      let pageBytes = 0;
      const maxBytes = input.maxBytes ?? Infinity;
      while (
        items.length < input.maxLines &&
        pageBytes < maxBytes &&
        (offset < bytes || pending.length > 0)
      ) {
        const newline = pending.indexOf(NEWLINE);
        const eof = offset >= bytes;
        if (newline === -1 && !eof) {
          const chunk = await readRange(input.itemsBlob, offset, Math.min(READ_CHUNK_BYTES, bytes - offset));
          offset += chunk.length;
          pending = skippingLongLine ? chunk : Buffer.concat([pending, chunk]);
          if (!skippingLongLine && pending.indexOf(NEWLINE) === -1 && pending.length > MAX_LINE_BYTES) {
            skippingLongLine = true;
          }
          continue;
        }
        const end = newline === -1 ? pending.length : newline;
        const line = input.firstLine + items.length;
        pageBytes += end + 1;
        if (skippingLongLine || end > MAX_LINE_BYTES) {
          items.push({
            line,
            error: {
              kind: 'line_too_long',
              message: `the line is longer than ${MAX_LINE_BYTES} bytes`,
            } satisfies RunErrorOf,
          });
          skippingLongLine = false;
        } else {
          items.push(parseItemLine(line, pending.subarray(0, end).toString('utf8'), input.definition));
          if (items.length % LINES_PER_TURN === 0) await nextTurn();
        }
        pending = pending.subarray(newline === -1 ? pending.length : newline + 1);
      }
      return { items, nextByteOffset: offset - pending.length };
    },

    async writeBatchResults(raw, context) {
      const input = parseActivityInput(WriteBatchResultsInput, raw, 'writeBatchResults');
      const succeeded = input.results.flatMap((result) =>
        result.status === 'succeeded' && result.runId !== undefined ? [result.runId] : [],
      );
      const outputs = await deps.runOutputs(
        {
          instanceIdPrefix: itemRunsPrefix(input.batchId),
          createdFrom: new Date(input.runsCreatedFrom),
          instanceIds: succeeded,
        },
        context,
      );
      let unavailable = 0;
      const lines = input.results.map((result): BatchItemResult => {
        const { line, runId, status, costUsd } = result;
        if (status !== 'succeeded' || runId === undefined) return result;
        if (!outputs.has(runId)) {
          unavailable += 1;
          const message = `the run finished, but its output could not be read back (was ${runId} purged?)`;
          return {
            line,
            runId,
            status: 'failed',
            error: { kind: 'output_unavailable', message } satisfies RunErrorOf,
            costUsd,
          };
        }
        return { line, runId, status, output: outputs.get(runId), costUsd };
      });
      const text = lines.map((result) => `${JSON.stringify(result)}\n`).join('');
      const body = Buffer.from(text, 'utf8');
      await (await blockBlob(input.outputBlob, true)).stageBlock(blockIdOf(input.block), body, body.length);
      return { block: input.block, lines: lines.length, unavailable };
    },

    async finishBatch(raw) {
      const { outputBlob, blocks, summary } = parseActivityInput(FinishBatchInput, raw, 'finishBatch');
      const ids = Array.from({ length: blocks }, (_, page) => blockIdOf(page));
      await (
        await blockBlob(outputBlob, true)
      ).commitBlockList(ids, {
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson' },
      });
      const text = `${JSON.stringify(summary, null, 2)}\n`;
      await (
        await blockBlob(summary.summaryBlob, true)
      ).upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      return { outputBlob, summaryBlob: summary.summaryBlob };
    },

    async exists(blobRef) {
      return (await blockBlob(blobRef)).exists();
    },
  };
}
