/**
 * runBatch: one `runWorkflow` child per JSONL line, a page of lines per orchestration generation.
 * Each generation deals its page's items to `concurrency` lanes (`runBatchLane`, each running its share
 * one item after another) and, while they run, writes the previous page's results as one block of the
 * results blob and reads the next page, so lanes never wait on the blob between pages. It then continues
 * as new with the next page and its own results to write, so history never holds more than that.
 * Progress moves page by page. An item that fails (bad line, failed run, crashed child) is a result line,
 * never the batch's failure. Lanes report each item's status, cost and error; its output stays with its
 * run until the page's block is written, which reads the outputs back from the runs (`writeBatchResults`).
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  BatchLaneOutput,
  BatchRunInput,
  CountBatchItemsOutput,
  itemInstanceId,
  laneInstanceId,
  MAX_BATCH_PAGE_BYTES,
  ReadBatchItemsOutput,
  WriteBatchResultsOutput,
  type BatchItem,
  type BatchLaneInput,
  type BatchPageResult,
  type BatchProgress,
  type BatchState,
  type BatchSummary,
  type FinishBatchInput,
  type ReadBatchItemsInput,
  type WriteBatchResultsInput,
} from '../shared/batchJobTypes.js';
import { Names } from '../shared/names.js';
import { roundUsd } from '../shared/money.js';
import type { RunErrorOf } from '../shared/runTypes.js';
import { settleAll } from './settleAll.js';
import { dealToLanes } from './batchJobLane.js';
import { parseOrchestrationInput } from './runStopped.js';

/** Blob reads and writes are idempotent; a thrown one (storage hiccup) is retried a few times. */
export const BATCH_IO_RETRY = Object.assign(new df.RetryOptions(1_000, 5), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 30_000,
});

function progressOf(input: BatchRunInput, state: BatchState): BatchProgress {
  return {
    kind: 'batch',
    workflow: input.run.definition.name,
    total: state.total,
    done: state.succeeded + state.failed,
    succeeded: state.succeeded,
    failed: state.failed,
    costUsd: state.costUsd,
    outputBlob: input.outputBlob,
  };
}

export function* runBatchOrchestrator(
  context: OrchestrationContext,
): Generator<Task, BatchSummary | undefined, unknown> {
  const input = parseOrchestrationInput(BatchRunInput, context.df.getInput(), 'runBatch');
  const batchId = context.df.instanceId;
  let state = input.state;
  if (state === undefined) {
    const counted = CountBatchItemsOutput.parse(
      yield context.df.callActivityWithRetry(Names.activities.countBatchItems, BATCH_IO_RETRY, {
        itemsBlob: input.itemsBlob,
      }),
    );
    state = {
      total: counted.lines,
      pages: 0,
      nextLine: 1,
      byteOffset: 0,
      succeeded: 0,
      failed: 0,
      costUsd: 0,
      startedAt: context.df.currentUtcDateTime.toISOString(),
    };
  }
  context.df.setCustomStatus(progressOf(input, state));

  // The page to run: read ahead by the last generation, or read now (the first page).
  let page = input.next;
  if (page === undefined && state.nextLine <= state.total) {
    const maxLines = Math.min(
      linesForPage(input, state, state.pages === 0),
      state.total - state.nextLine + 1,
    );
    page = ReadBatchItemsOutput.parse(
      yield readItems(context, input, state.byteOffset, state.nextLine, maxLines),
    );
  }
  const items = page?.items ?? [];
  if (page !== undefined && items.length === 0) {
    // The blob has fewer lines than it had when counted: finish with what was read.
    state = { ...state, total: state.nextLine - 1 };
  }
  const afterPage = state.nextLine + items.length;

  // While the lanes run: write the last page's results and read the next page, so the lanes never
  // wait on the blob between pages.
  const alongside: Task[] = [];
  const writing = input.unwritten;
  if (writing) alongside.push(writeResults(context, writing));
  const readingNext = page !== undefined && items.length > 0 && afterPage <= state.total;
  if (readingNext) {
    const maxLines = Math.min(linesForPage(input, state, false), state.total - afterPage + 1);
    alongside.push(readItems(context, input, page?.nextByteOffset ?? 0, afterPage, maxLines));
  }

  const running = state;
  const runsCreatedFrom = context.df.currentUtcDateTime.toISOString();
  const { results, alongsideValues } = yield* runPage(
    context,
    input,
    batchId,
    state.pages,
    items,
    alongside,
    (lanes) =>
      context.df.setCustomStatus({ ...progressOf(input, running), running: { page: running.pages, lanes } }),
  );
  if (writing) state = countUnavailable(state, alongsideValues.shift());
  const next = readingNext ? ReadBatchItemsOutput.parse(alongsideValues.shift()) : undefined;

  let unwritten: WriteBatchResultsInput | undefined;
  if (page !== undefined && results.length > 0) {
    const failed = results.filter((result) => result.status === 'failed').length;
    unwritten = { outputBlob: input.outputBlob, block: state.pages, batchId, runsCreatedFrom, results };
    state = {
      ...state,
      pages: state.pages + 1,
      nextLine: afterPage,
      byteOffset: page.nextByteOffset,
      succeeded: state.succeeded + results.length - failed,
      failed: state.failed + failed,
      costUsd: roundUsd(state.costUsd + results.reduce((sum, result) => sum + result.costUsd, 0)),
      resultBytesPerLine: Math.ceil(JSON.stringify(results).length / results.length),
    };
  }
  context.df.setCustomStatus(progressOf(input, state));
  if (next !== undefined && next.items.length > 0) {
    if (!context.df.isReplaying) {
      context.log(`${batchId}: page ${state.pages} done, ${state.nextLine - 1}/${state.total} lines`);
    }
    context.df.continueAsNew({ ...input, state, next, unwritten });
    return undefined;
  }
  if (next !== undefined) state = { ...state, total: state.nextLine - 1 };
  if (unwritten) {
    state = countUnavailable(state, yield writeResults(context, unwritten));
    context.df.setCustomStatus(progressOf(input, state));
  }

  const summary: BatchSummary = {
    kind: 'batch',
    workflow: input.run.definition.name,
    version: input.run.definition.version,
    itemsBlob: input.itemsBlob,
    outputBlob: input.outputBlob,
    summaryBlob: input.summaryBlob,
    total: state.total,
    succeeded: state.succeeded,
    failed: state.failed,
    costUsd: state.costUsd,
    startedAt: state.startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
  };
  const finish: FinishBatchInput = { outputBlob: input.outputBlob, blocks: state.pages, summary };
  yield context.df.callActivityWithRetry(Names.activities.finishBatch, BATCH_IO_RETRY, finish);
  if (!context.df.isReplaying) {
    context.log(
      `${batchId}: done, ${summary.succeeded} succeeded, ${summary.failed} failed of ${summary.total}`,
    );
  }
  return summary;
}

/** Result text one page may bring back into the batch's history (its lanes' outcomes). */
export const PAGE_RESULT_BYTES = 2 * 1024 * 1024;

/**
 * Lines for a page: the first page is short (the old default, `max(128, 4 × concurrency)`) so results
 * start coming soon; later pages are `pageSize` long while the outcomes seen so far say they stay under
 * PAGE_RESULT_BYTES, and shrink (never below `concurrency`) when items fail with long error messages.
 */
function linesForPage(input: BatchRunInput, state: BatchState, first: boolean): number {
  if (first) return Math.min(input.pageSize, Math.max(128, 4 * input.concurrency));
  if (state.resultBytesPerLine === undefined) return input.pageSize;
  const fitting = Math.floor(PAGE_RESULT_BYTES / Math.max(1, state.resultBytesPerLine));
  return Math.min(input.pageSize, Math.max(input.concurrency, fitting));
}

function readItems(
  context: OrchestrationContext,
  input: BatchRunInput,
  byteOffset: number,
  firstLine: number,
  maxLines: number,
): Task {
  const read: ReadBatchItemsInput = {
    itemsBlob: input.itemsBlob,
    byteOffset,
    firstLine,
    maxLines,
    maxBytes: MAX_BATCH_PAGE_BYTES,
    definition: input.run.definition,
  };
  return context.df.callActivityWithRetry(Names.activities.readBatchItems, BATCH_IO_RETRY, read);
}

function writeResults(context: OrchestrationContext, write: WriteBatchResultsInput): Task {
  return context.df.callActivityWithRetry(Names.activities.writeBatchResults, BATCH_IO_RETRY, write);
}

/** A page's succeeded lines whose output could not be read back were written as failed: count them so. */
function countUnavailable(state: BatchState, written: unknown): BatchState {
  const { unavailable } = WriteBatchResultsOutput.parse(written);
  return { ...state, succeeded: state.succeeded - unavailable, failed: state.failed + unavailable };
}

/**
 * Runs a page's items in lanes and, at the same time, the `alongside` tasks (the blob I/O between pages):
 * every line's result in order, and the values of the alongside tasks. A failing lane fails only its own
 * lines; a failing alongside task (after its retries) fails the batch.
 */
function* runPage(
  context: OrchestrationContext,
  input: BatchRunInput,
  batchId: string,
  page: number,
  items: readonly BatchItem[],
  alongside: readonly Task[],
  onLanesStarted: (lanes: number) => void,
): Generator<Task, { results: BatchPageResult[]; alongsideValues: unknown[] }, unknown> {
  const results = new Map<number, BatchPageResult>();
  const runnable: { line: number; input: unknown }[] = [];
  for (const item of items) {
    if ('input' in item) runnable.push(item);
    else results.set(item.line, { line: item.line, status: 'failed', error: item.error, costUsd: 0 });
  }
  const lanes = dealToLanes(runnable, input.concurrency);
  if (lanes.length > 0) onLanesStarted(lanes.length);
  const laneTasks = lanes.map((items, lane) => {
    const laneInput: BatchLaneInput = { run: input.run, batchId, items };
    return context.df.callSubOrchestrator(
      Names.orchestrators.runBatchLane,
      laneInput,
      laneInstanceId(batchId, page, lane),
    );
  });
  const alongsideValues: unknown[] = [];
  let alongsideFailure: string | undefined;
  yield* settleAll(context, [...laneTasks, ...alongside], (index, outcome) => {
    if (index >= laneTasks.length) {
      if (outcome.ok) alongsideValues.push(outcome.value);
      else alongsideFailure ??= outcome.message;
      return;
    }
    const lane = index;
    const parsed = outcome.ok ? BatchLaneOutput.safeParse(outcome.value) : undefined;
    if (parsed?.success) {
      for (const { line, status, error, costUsd } of parsed.data) {
        const runId = itemInstanceId(batchId, line);
        results.set(line, { line, runId, status, ...(error ? { error } : {}), costUsd });
      }
      return;
    }
    const message = outcome.ok
      ? 'the lane returned something that is not a list of results'
      : outcome.message;
    for (const item of lanes[lane] ?? []) {
      const runId = itemInstanceId(batchId, item.line);
      results.set(item.line, {
        line: item.line,
        runId,
        status: 'failed',
        error: { kind: 'lane_crashed', message } satisfies RunErrorOf,
        costUsd: 0,
      });
    }
  });
  if (alongsideFailure !== undefined) {
    throw new Error(`The batch's blob I/O between pages failed: ${alongsideFailure}`);
  }
  return {
    results: items.map(
      (item) =>
        results.get(item.line) ?? {
          line: item.line,
          status: 'failed',
          error: { kind: 'not_run', message: 'the item was not run' } satisfies RunErrorOf,
          costUsd: 0,
        },
    ),
    alongsideValues,
  };
}
