/**
 * runBatch: one `runWorkflow` child per JSONL line, a page of lines per orchestration generation.
 * Each generation reads one page (an activity), runs its items with bounded concurrency, stages the page's
 * results as one block of the results blob, and continues as new, so history never holds more than a page.
 * An item that fails (bad line, failed run, crashed child) is a result line, never the batch's failure.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  BatchRunInput,
  CountBatchItemsOutput,
  ReadBatchItemsOutput,
  type BatchItem,
  type BatchItemResult,
  type BatchProgress,
  type BatchState,
  type BatchSummary,
  type FinishBatchInput,
  type ReadBatchItemsInput,
  type WriteBatchResultsInput,
} from '../shared/batchTypes.js';
import { Names } from '../shared/names.js';
import { RunWorkflowOutput, type RunWorkflowInput } from '../shared/runTypes.js';
import { runItemsInRounds } from './batchRounds.js';
import { parseOrchestrationInput } from './runStopped.js';

/** Blob reads and writes are idempotent; a thrown one (storage hiccup) is retried a few times. */
export const BATCH_IO_RETRY = Object.assign(new df.RetryOptions(1_000, 5), {
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 30_000,
});

/** Child run ids derive from the batch id and the line, so a replay or a retried page finds the same run. */
export function itemInstanceId(batchId: string, line: number): string {
  return `${batchId}:${line}`;
}

function progressOf(input: BatchRunInput, state: BatchState, pageDone = 0, pageFailed = 0, pageCost = 0) {
  const progress: BatchProgress = {
    kind: 'batch',
    workflow: input.run.definition.name,
    total: state.total,
    done: state.succeeded + state.failed + pageDone,
    succeeded: state.succeeded + pageDone - pageFailed,
    failed: state.failed + pageFailed,
    costUsd: state.costUsd + pageCost,
    outputBlob: input.outputBlob,
  };
  return progress;
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

  if (state.nextLine <= state.total) {
    const read: ReadBatchItemsInput = {
      itemsBlob: input.itemsBlob,
      byteOffset: state.byteOffset,
      firstLine: state.nextLine,
      maxLines: Math.min(input.pageSize, state.total - state.nextLine + 1),
      definition: input.run.definition,
    };
    const page = ReadBatchItemsOutput.parse(
      yield context.df.callActivityWithRetry(Names.activities.readBatchItems, BATCH_IO_RETRY, read),
    );
    if (page.items.length > 0) {
      const pageState = state;
      const results = yield* runPage(context, input, batchId, page.items, (done, failed, cost) =>
        context.df.setCustomStatus(progressOf(input, pageState, done, failed, cost)),
      );
      const write: WriteBatchResultsInput = { outputBlob: input.outputBlob, block: state.pages, results };
      yield context.df.callActivityWithRetry(Names.activities.writeBatchResults, BATCH_IO_RETRY, write);
      const failed = results.filter((result) => result.status === 'failed').length;
      state = {
        ...state,
        pages: state.pages + 1,
        nextLine: state.nextLine + results.length,
        byteOffset: page.nextByteOffset,
        succeeded: state.succeeded + results.length - failed,
        failed: state.failed + failed,
        costUsd: state.costUsd + results.reduce((sum, result) => sum + result.costUsd, 0),
      };
      context.df.setCustomStatus(progressOf(input, state));
      if (state.nextLine <= state.total) {
        if (!context.df.isReplaying) {
          context.log(
            `${batchId}: page ${state.pages} written, ${state.nextLine - 1}/${state.total} lines done`,
          );
        }
        context.df.continueAsNew({ ...input, state });
        return undefined;
      }
    } else {
      // The blob has fewer lines than it had when counted: finish with what was read.
      state = { ...state, total: state.nextLine - 1 };
    }
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

function* runPage(
  context: OrchestrationContext,
  input: BatchRunInput,
  batchId: string,
  items: readonly BatchItem[],
  onProgress: (done: number, failed: number, costUsd: number) => void,
): Generator<Task, BatchItemResult[], unknown> {
  const results: (BatchItemResult | undefined)[] = items.map((item) =>
    'error' in item ? { line: item.line, status: 'failed', error: item.error, costUsd: 0 } : undefined,
  );
  const runnable = items.flatMap((item, index) => ('input' in item ? [{ index, item }] : []));
  const report = () => {
    const done = results.filter((result) => result !== undefined);
    const failed = done.filter((result) => result.status === 'failed').length;
    onProgress(
      done.length,
      failed,
      done.reduce((sum, result) => sum + result.costUsd, 0),
    );
  };
  report();
  yield* runItemsInRounds(
    context,
    runnable.length,
    input.concurrency,
    (position) => {
      const { item } = runnable[position] ?? {};
      if (item === undefined || !('input' in item)) throw new RangeError(`no runnable item ${position}`);
      const childInput: RunWorkflowInput = { ...input.run, input: item.input };
      return context.df.callSubOrchestrator(
        Names.orchestrators.runWorkflow,
        childInput,
        itemInstanceId(batchId, item.line),
      );
    },
    (position, outcome) => {
      const entry = runnable[position];
      if (entry === undefined) return;
      results[entry.index] = itemResult(entry.item.line, itemInstanceId(batchId, entry.item.line), outcome);
    },
    report,
  );
  return results.map(
    (result, index) =>
      result ?? {
        line: items[index]?.line ?? index + 1,
        status: 'failed',
        error: { kind: 'not_run', message: 'the item was not run' },
        costUsd: 0,
      },
  );
}

function itemResult(
  line: number,
  runId: string,
  outcome: { ok: true; value: unknown } | { ok: false; message: string },
): BatchItemResult {
  if (!outcome.ok) {
    return {
      line,
      runId,
      status: 'failed',
      error: { kind: 'run_crashed', message: outcome.message },
      costUsd: 0,
    };
  }
  const parsed = RunWorkflowOutput.safeParse(outcome.value);
  if (!parsed.success) {
    const message = 'the run returned something that is not a runWorkflow result';
    return { line, runId, status: 'failed', error: { kind: 'invalid_result', message }, costUsd: 0 };
  }
  const value = parsed.data;
  const costUsd = value.ledger.totals.costUsd;
  if (value.outcome === 'completed')
    return { line, runId, status: 'succeeded', output: value.output ?? null, costUsd };
  return {
    line,
    runId,
    status: 'failed',
    error: value.error ?? { kind: value.outcome, message: `the run ended ${value.outcome}` },
    costUsd,
  };
}
