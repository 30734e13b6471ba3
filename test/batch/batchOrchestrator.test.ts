import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { WorkflowDefinition } from '../../src/definitions/schema.js';
import {
  dealToLanes,
  LANE_ITEMS_PER_GENERATION,
  runBatchLaneOrchestrator,
} from '../../src/orchestrators/batchJobLane.js';
import { PAGE_RESULT_BYTES, runBatchOrchestrator } from '../../src/orchestrators/batchJob.js';
import type {
  BatchItemOutcome,
  BatchLaneInput,
  BatchRunInput,
  BatchState,
  BatchSummary,
  WriteBatchResultsInput,
} from '../../src/shared/batchJobTypes.js';
import { Names } from '../../src/shared/names.js';
import type { RunWorkflowOutput } from '../../src/shared/runTypes.js';
import type { z } from 'zod';
import {
  drive,
  FakeOrchestrationContext,
  type FakeTask,
  type Resolution,
} from '../fakes/orchestrationContext.js';

/** runBatch and its lanes driven by a fake context: paging, lanes, and item failures that never stop the batch. */
const shipped = loadWorkflowDirectory(path.resolve(__dirname, '../../workflows'));
const definition = shipped.definitions.get('ticket-triage') as WorkflowDefinition;
const usage = { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 };

const batchInput = (fields: Partial<BatchRunInput> = {}): BatchRunInput => ({
  run: { definition, workflows: {}, tools: {} },
  itemsBlob: 'in/items.jsonl',
  outputBlob: 'out/results.jsonl',
  summaryBlob: 'out/results.summary.json',
  concurrency: 2,
  pageSize: 10,
  ...fields,
});

const completed = (costUsd: number): z.input<typeof RunWorkflowOutput> => ({
  outcome: 'completed',
  workflow: 'ticket-triage',
  version: '1.0.0',
  output: { ok: true },
  ledger: { rows: [], totals: { calls: 1, usage, costUsd } },
});

const items = [
  { line: 1, input: { subject: 'a', body: 'a' } },
  { line: 2, error: { kind: 'invalid_json', message: 'the line is not JSON' } },
  { line: 3, input: { subject: 'c', body: 'c' } },
  { line: 4, input: { subject: 'd', body: 'd' } },
  { line: 5, input: { subject: 'e', body: 'e' } },
];

/** What a lane reports for an item that succeeded: no output (that stays with the run) and no run id. */
const itemOutcome = (line: number, costUsd: number): BatchItemOutcome => ({
  line,
  status: 'succeeded',
  costUsd,
});

/**
 * Lanes answer with a success per item, except the lanes `onLane` decides otherwise; the blob activities
 * answer from `items`, and every write is recorded.
 */
function resolver(
  writes: WriteBatchResultsInput[],
  onLane: (lane: BatchLaneInput, instanceId: string) => Resolution = (lane) => ({
    value: lane.items.map((item) => itemOutcome(item.line, 0.25)),
  }),
  /** Answers some tasks differently, inside a Task.all too. */
  override: (task: FakeTask) => Resolution | undefined = () => undefined,
) {
  const resolve = (task: FakeTask): Resolution => {
    const overridden = override(task);
    if (overridden) return overridden;
    if (task.kind === 'all') {
      const outcomes = (task.children ?? []).map(resolve);
      const failed = outcomes.find((outcome) => 'error' in outcome);
      return failed ?? { value: outcomes.map((outcome) => ('value' in outcome ? outcome.value : undefined)) };
    }
    if (task.name === Names.activities.countBatchItems) return { value: { lines: 5, bytes: 100 } };
    if (task.name === Names.activities.readBatchItems) {
      const read = task.input as { firstLine: number; maxLines: number };
      const page = items.slice(read.firstLine - 1, read.firstLine - 1 + read.maxLines);
      return { value: { items: page, nextByteOffset: (read.firstLine + page.length - 1) * 20 } };
    }
    if (task.name === Names.activities.writeBatchResults) {
      const write = task.input as WriteBatchResultsInput;
      writes.push(write);
      return { value: { block: write.block, lines: write.results.length, unavailable: 0 } };
    }
    if (task.name === Names.activities.finishBatch) return { value: {} };
    if (task.kind === 'subOrchestration') {
      // A lane yielded on its own after the page's Task.all faulted, or in the Task.all.
      return onLane(task.input as BatchLaneInput, task.instanceId ?? '');
    }
    throw new Error(`unexpected task ${task.kind} ${task.name ?? ''}`);
  };
  return resolve;
}

describe('runBatch', () => {
  it('deals the valid lines of a page to `concurrency` lanes; a crashed lane fails only its own lines', () => {
    const context = new FakeOrchestrationContext(batchInput(), undefined, 'batch-1');
    const writes: WriteBatchResultsInput[] = [];
    const summary = drive(
      runBatchOrchestrator,
      context,
      resolver(writes, (lane, instanceId) =>
        instanceId.endsWith(':lane1')
          ? { error: new Error('lane crashed\nstack') }
          : { value: lane.items.map((item) => itemOutcome(item.line, 0.25)) },
      ),
    ) as BatchSummary;

    const lanes = context.calls.filter((call) => call.kind === 'subOrchestration');
    expect(lanes.every((c) => c.name === Names.orchestrators.runBatchLane)).toBe(true);
    // Two lanes, each yielded once in the page's Task.all and once more on its own after the fault.
    expect([...new Set(lanes.map((c) => c.instanceId))]).toEqual([
      'batch-1:page0:lane0',
      'batch-1:page0:lane1',
    ]);
    expect((lanes[0]?.input as BatchLaneInput).items.map((item) => item.line)).toEqual([1, 4]);
    expect((lanes[1]?.input as BatchLaneInput).items.map((item) => item.line)).toEqual([3, 5]);
    expect((lanes[0]?.input as BatchLaneInput).items[0]?.input).toEqual({ subject: 'a', body: 'a' });
    expect(writes).toHaveLength(1);
    expect(writes[0]?.results.map((r) => [r.line, r.status, r.error?.kind])).toEqual([
      [1, 'succeeded', undefined],
      [2, 'failed', 'invalid_json'],
      [3, 'failed', 'lane_crashed'],
      [4, 'succeeded', undefined],
      [5, 'failed', 'lane_crashed'],
    ]);
    expect(writes[0]?.results[2]).toMatchObject({ runId: 'batch-1:3', error: { message: 'lane crashed' } });
    // The page adds each run's id; the outputs are read back from the runs when the block is written.
    expect(writes[0]?.results[0]).toEqual({
      line: 1,
      runId: 'batch-1:1',
      status: 'succeeded',
      costUsd: 0.25,
    });
    expect(writes[0]).toMatchObject({
      batchId: 'batch-1',
      runsCreatedFrom: context.df.currentUtcDateTime.toISOString(),
    });
    expect(summary).toMatchObject({ total: 5, succeeded: 2, failed: 3, costUsd: 0.5 });
    // While the page runs, the status names it and its lanes (the run view adds up their progress).
    expect(context.customStatuses).toContainEqual(
      expect.objectContaining({ done: 0, running: { page: 0, lanes: 2 } }),
    );
    expect(context.customStatuses.at(-1)).toMatchObject({ kind: 'batch', total: 5, done: 5, failed: 3 });
    expect(context.customStatuses.at(-1)).not.toHaveProperty('running');
    expect(context.continuedAsNew).toBeUndefined();
  });

  it('reads the next page and writes the last one while its lanes run, and continues as new with both', () => {
    const context = new FakeOrchestrationContext(batchInput({ pageSize: 2 }), undefined, 'batch-1');
    const writes: WriteBatchResultsInput[] = [];
    expect(drive(runBatchOrchestrator, context, resolver(writes))).toBeUndefined();
    // The first page (lines 1-2) ran; page 2 (lines 3-4) was read alongside its lanes; nothing written yet.
    expect(writes).toEqual([]);
    const reads = context.calls.filter((c) => c.name === Names.activities.readBatchItems);
    expect(reads.map((c) => (c.input as { firstLine: number }).firstLine)).toEqual([1, 3]);
    const next = context.continuedAsNew?.input as BatchRunInput;
    expect(next.state).toMatchObject({
      total: 5,
      pages: 1,
      nextLine: 3,
      byteOffset: 40,
      succeeded: 1,
      failed: 1,
    });
    expect(next.next?.items.map((item) => item.line)).toEqual([3, 4]);
    expect(next.unwritten).toMatchObject({ block: 0, batchId: 'batch-1' });
    expect(next.unwritten?.results.map((r) => r.line)).toEqual([1, 2]);

    // The next generation runs the page it was handed (no read for it), writes page 0, reads lines 5-.
    const second = new FakeOrchestrationContext(next, undefined, 'batch-1');
    const secondWrites: WriteBatchResultsInput[] = [];
    drive(runBatchOrchestrator, second, resolver(secondWrites));
    expect(second.calls.find((c) => c.name === Names.activities.countBatchItems)).toBeUndefined();
    expect(
      second.calls
        .filter((c) => c.name === Names.activities.readBatchItems)
        .map((c) => (c.input as { firstLine: number; byteOffset: number }).firstLine),
    ).toEqual([5]);
    expect(second.calls.filter((c) => c.kind === 'subOrchestration').map((c) => c.instanceId)).toEqual([
      'batch-1:page1:lane0',
      'batch-1:page1:lane1',
    ]);
    expect(secondWrites.map((w) => [w.block, w.results.map((r) => r.line)])).toEqual([[0, [1, 2]]]);

    // The last page writes its own results before the batch finishes, and the blocks are committed in order.
    const third = new FakeOrchestrationContext(second.continuedAsNew?.input, undefined, 'batch-1');
    const thirdWrites: WriteBatchResultsInput[] = [];
    const summary = drive(runBatchOrchestrator, third, resolver(thirdWrites)) as BatchSummary;
    expect(thirdWrites.map((w) => [w.block, w.results.map((r) => r.line)])).toEqual([
      [1, [3, 4]],
      [2, [5]],
    ]);
    expect(third.calls.find((c) => c.name === Names.activities.finishBatch)?.input).toMatchObject({
      blocks: 3,
    });
    expect(summary).toMatchObject({ total: 5, succeeded: 4, failed: 1 });
  });

  it('counts a succeeded line whose output could not be read back as failed', () => {
    const context = new FakeOrchestrationContext(batchInput(), undefined, 'batch-1');
    const summary = drive(
      runBatchOrchestrator,
      context,
      resolver([], undefined, (task) =>
        task.name === Names.activities.writeBatchResults
          ? { value: { block: 0, lines: 5, unavailable: 1 } }
          : undefined,
      ),
    ) as BatchSummary;
    expect(summary).toMatchObject({ total: 5, succeeded: 3, failed: 2 });
  });

  it('fails the batch when its blob I/O between pages fails for good', () => {
    const context = new FakeOrchestrationContext(batchInput({ pageSize: 2 }), undefined, 'batch-1');
    // Reading ahead (lines 3-) fails after its retries; the page's lanes still settle first.
    const readingAhead = (task: FakeTask) =>
      task.name === Names.activities.readBatchItems && (task.input as { firstLine: number }).firstLine === 3;
    expect(() =>
      drive(
        runBatchOrchestrator,
        context,
        resolver([], undefined, (task) =>
          readingAhead(task) ? { error: new Error('storage is down') } : undefined,
        ),
      ),
    ).toThrow(/blob I\/O between pages failed: storage is down/);
    expect(context.calls.filter((c) => c.kind === 'subOrchestration')).not.toHaveLength(0);
  });
});

describe('runBatch page sizes', () => {
  const stateWith = (resultBytesPerLine?: number): BatchState => ({
    total: 100_000,
    pages: 1,
    nextLine: 129,
    byteOffset: 4_000,
    succeeded: 128,
    failed: 0,
    costUsd: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
    ...(resultBytesPerLine === undefined ? {} : { resultBytesPerLine }),
  });
  const maxLinesRead = (input: BatchRunInput) => {
    const context = new FakeOrchestrationContext(input, undefined, 'batch-1');
    drive(runBatchOrchestrator, context, resolver([]));
    return (
      context.calls.find((c) => c.name === Names.activities.readBatchItems)?.input as { maxLines: number }
    ).maxLines;
  };

  it('reads a short first page, then pages as long as the outcomes seen so far allow', () => {
    const input = batchInput({ pageSize: 1024, concurrency: 32 });
    expect(maxLinesRead(input)).toBe(5); // the blob's 5 lines, under the first page's 128
    const first = (state: BatchState) => ({ ...input, state: { ...state, pages: 0, nextLine: 1 } });
    expect(maxLinesRead(first(stateWith()))).toBe(128);
    // Pages after the first are read ahead, sized by what the last pages' outcomes weighed.
    expect(maxLinesRead({ ...input, state: stateWith() })).toBe(1024);
    expect(maxLinesRead({ ...input, state: stateWith(300) })).toBe(1024);
    // 20 KB outcomes (long errors): 2 MiB of them is 104 lines.
    expect(maxLinesRead({ ...input, state: stateWith(20_000) })).toBe(Math.floor(PAGE_RESULT_BYTES / 20_000));
    // Huge outcomes still keep every lane busy.
    expect(maxLinesRead({ ...input, state: stateWith(1_000_000) })).toBe(32);
  });

  it('measures the outcomes of each page for the next', () => {
    const context = new FakeOrchestrationContext(batchInput({ pageSize: 2 }), undefined, 'batch-1');
    drive(runBatchOrchestrator, context, resolver([]));
    const next = context.continuedAsNew?.input as BatchRunInput;
    const written = [
      { line: 1, runId: 'batch-1:1', status: 'succeeded', costUsd: 0.25 },
      { line: 2, status: 'failed', error: items[1]?.error, costUsd: 0 },
    ];
    expect(next.state?.resultBytesPerLine).toBeGreaterThan(40);
    expect(next.state?.resultBytesPerLine).toBe(Math.ceil(JSON.stringify(written).length / 2));
  });
});

describe('runBatchLane', () => {
  const laneInput: BatchLaneInput = {
    run: { definition, workflows: {}, tools: {} },
    batchId: 'batch-1',
    items: [
      { line: 3, input: { subject: 'c', body: 'c' } },
      { line: 7, input: { subject: 'g', body: 'g' } },
      { line: 11, input: { subject: 'k', body: 'k' } },
      { line: 15, input: { subject: 'o', body: 'o' } },
    ],
  };

  it('runs its items one after another; every outcome, a crash included, is one result line', () => {
    const context = new FakeOrchestrationContext(laneInput, undefined, 'batch-1:page0:lane1');
    const started: string[] = [];
    const results = drive<BatchItemOutcome[]>(runBatchLaneOrchestrator, context, (task) => {
      if (task.kind !== 'subOrchestration') throw new Error(`unexpected task ${task.kind}`);
      // One child at a time: the lane never yields the next item before the previous one ends.
      expect(context.calls.filter((c) => c.kind === 'subOrchestration')).toHaveLength(started.length + 1);
      started.push(task.instanceId ?? '');
      switch (task.instanceId) {
        case 'batch-1:3':
          return { value: completed(0.5) };
        case 'batch-1:7':
          return { error: new Error('child crashed\nat stack') };
        case 'batch-1:11':
          return { value: { not: 'a run result' } };
        default:
          return {
            value: { ...completed(0.1), outcome: 'failed', error: { kind: 'bad_request', message: 'no' } },
          };
      }
    });

    expect(started).toEqual(['batch-1:3', 'batch-1:7', 'batch-1:11', 'batch-1:15']);
    expect(context.calls.every((c) => c.name === Names.orchestrators.runWorkflow)).toBe(true);
    expect((context.calls[1]?.input as { input: unknown }).input).toEqual({ subject: 'g', body: 'g' });
    expect(results.map((r) => [r.line, r.status, r.error?.kind, r.costUsd])).toEqual([
      [3, 'succeeded', undefined, 0.5],
      [7, 'failed', 'run_crashed', 0],
      [11, 'failed', 'invalid_result', 0],
      [15, 'failed', 'bad_request', 0.1],
    ]);
    expect(results[1]?.error?.message).toBe('child crashed');
    // Outcomes only: the output stays with the run, the run id follows from the batch and the line.
    expect(results[0]).toEqual({ line: 3, status: 'succeeded', costUsd: 0.5 });
    // The lane reports its share after every item.
    expect(context.customStatuses.map((status) => (status as { done: number }).done)).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(context.customStatuses.at(-1)).toEqual({ kind: 'batchLane', done: 4, failed: 3, costUsd: 0.6 });
  });

  it(`continues as new after ${LANE_ITEMS_PER_GENERATION} items, carrying its outcomes, and ends with all of them`, () => {
    const count = LANE_ITEMS_PER_GENERATION + 3;
    const long: BatchLaneInput = {
      ...laneInput,
      items: Array.from({ length: count }, (_, i) => ({
        line: i + 1,
        input: { subject: `${i}`, body: 'b' },
      })),
    };
    const answer = (task: FakeTask): Resolution => {
      if (task.kind !== 'subOrchestration') throw new Error(`unexpected task ${task.kind}`);
      return { value: completed(0.25) };
    };
    const first = new FakeOrchestrationContext(long, undefined, 'batch-1:page0:lane0');
    expect(drive<BatchItemOutcome[]>(runBatchLaneOrchestrator, first, answer)).toEqual([]);
    // One generation schedules at most LANE_ITEMS_PER_GENERATION children, so its episodes stay small.
    expect(first.calls.filter((c) => c.kind === 'subOrchestration')).toHaveLength(LANE_ITEMS_PER_GENERATION);
    const next = first.continuedAsNew?.input as BatchLaneInput;
    expect(next.items.map((item) => item.line)).toEqual([9, 10, 11]);
    expect(next.outcomes?.map((outcome) => outcome.line)).toEqual(
      Array.from({ length: LANE_ITEMS_PER_GENERATION }, (_, i) => i + 1),
    );

    const second = new FakeOrchestrationContext(next, undefined, 'batch-1:page0:lane0');
    const results = drive<BatchItemOutcome[]>(runBatchLaneOrchestrator, second, answer);
    expect(second.calls.map((c) => c.instanceId)).toEqual(['batch-1:9', 'batch-1:10', 'batch-1:11']);
    expect(results.map((result) => result.line)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    // Progress picks up where the last generation stopped, never going back to 0.
    expect(second.customStatuses.map((status) => (status as { done: number }).done)).toEqual([8, 9, 10, 11]);
    expect(second.customStatuses.at(-1)).toEqual({ kind: 'batchLane', done: 11, failed: 0, costUsd: 2.75 });
  });

  it('deals lines to lanes in turn, never more lanes than lines', () => {
    expect(dealToLanes([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 3, 5],
      [2, 4],
    ]);
    expect(dealToLanes([1, 2], 8)).toEqual([[1], [2]]);
    expect(dealToLanes([], 4)).toEqual([]);
  });
});
