import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { WorkflowDefinition } from '../../src/definitions/schema.js';
import { runBatchOrchestrator } from '../../src/orchestrators/batchRun.js';
import type { BatchRunInput, BatchSummary, WriteBatchResultsInput } from '../../src/shared/batchTypes.js';
import { Names } from '../../src/shared/names.js';
import type { RunWorkflowOutput } from '../../src/shared/runTypes.js';
import type { z } from 'zod';
import {
  drive,
  FakeOrchestrationContext,
  type FakeTask,
  type Resolution,
} from '../fakes/orchestrationContext.js';

/** runBatch driven by a fake context: paging, bounded rounds, and item failures that never stop the batch. */
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

function resolver(onAll: (children: FakeTask[]) => Resolution, writes: WriteBatchResultsInput[]) {
  return (task: FakeTask): Resolution => {
    if (task.kind === 'all') return onAll(task.children ?? []);
    if (task.name === Names.activities.countBatchItems) return { value: { lines: 5, bytes: 100 } };
    if (task.name === Names.activities.readBatchItems) {
      const read = task.input as { firstLine: number; maxLines: number };
      const page = items.slice(read.firstLine - 1, read.firstLine - 1 + read.maxLines);
      return { value: { items: page, nextByteOffset: read.firstLine * 20 } };
    }
    if (task.name === Names.activities.writeBatchResults) {
      writes.push(task.input as WriteBatchResultsInput);
      return { value: { block: 0, lines: 0 } };
    }
    if (task.name === Names.activities.finishBatch) return { value: {} };
    if (task.kind === 'subOrchestration') {
      // Re-yielded on its own after a round faulted.
      return task.instanceId === 'batch-1:4'
        ? { error: new Error('child crashed\nstack') }
        : { value: completed(0.5) };
    }
    throw new Error(`unexpected task ${task.kind} ${task.name ?? ''}`);
  };
}

describe('runBatch', () => {
  it('runs each valid line once in rounds of `concurrency`; a crashed child is one failed line', () => {
    const context = new FakeOrchestrationContext(batchInput(), undefined, 'batch-1');
    const writes: WriteBatchResultsInput[] = [];
    let rounds = 0;
    const summary = drive(
      runBatchOrchestrator,
      context,
      resolver((children) => {
        rounds += 1;
        expect(children.length).toBeLessThanOrEqual(2);
        // The second round (lines 4 and 5) faults fast, as Task.all does.
        return rounds === 2
          ? { error: new Error('child crashed') }
          : { value: children.map(() => completed(0.25)) };
      }, writes),
    ) as BatchSummary;

    const children = context.calls.filter((call) => call.kind === 'subOrchestration');
    expect(children.map((c) => c.instanceId)).toEqual(['batch-1:1', 'batch-1:3', 'batch-1:4', 'batch-1:5']);
    expect(children.every((c) => c.name === Names.orchestrators.runWorkflow)).toBe(true);
    expect((children[0]?.input as { input: unknown }).input).toEqual({ subject: 'a', body: 'a' });
    expect(writes).toHaveLength(1);
    expect(writes[0]?.results.map((r) => [r.line, r.status, r.error?.kind])).toEqual([
      [1, 'succeeded', undefined],
      [2, 'failed', 'invalid_json'],
      [3, 'succeeded', undefined],
      [4, 'failed', 'run_crashed'],
      [5, 'succeeded', undefined],
    ]);
    expect(writes[0]?.results[3]?.error?.message).toBe('child crashed');
    expect(summary).toMatchObject({ total: 5, succeeded: 3, failed: 2, costUsd: 1 });
    expect(context.customStatuses.at(-1)).toMatchObject({ kind: 'batch', total: 5, done: 5, failed: 2 });
    expect(context.continuedAsNew).toBeUndefined();
  });

  it('continues as new after each page, carrying counters and the byte offset', () => {
    const context = new FakeOrchestrationContext(batchInput({ pageSize: 2 }), undefined, 'batch-1');
    const writes: WriteBatchResultsInput[] = [];
    const result = drive(
      runBatchOrchestrator,
      context,
      resolver((children) => ({ value: children.map(() => completed(0.1)) }), writes),
    );
    expect(result).toBeUndefined();
    expect(writes[0]).toMatchObject({ block: 0 });
    expect(writes[0]?.results.map((r) => r.line)).toEqual([1, 2]);
    const next = context.continuedAsNew?.input as BatchRunInput;
    expect(next.state).toMatchObject({
      total: 5,
      pages: 1,
      nextLine: 3,
      byteOffset: 20,
      succeeded: 1,
      failed: 1,
    });

    // The next generation reads from where the last stopped and writes the next block.
    const second = new FakeOrchestrationContext(next, undefined, 'batch-1');
    const secondWrites: WriteBatchResultsInput[] = [];
    drive(
      runBatchOrchestrator,
      second,
      resolver((children) => ({ value: children.map(() => completed(0.1)) }), secondWrites),
    );
    expect(second.calls.find((c) => c.name === Names.activities.countBatchItems)).toBeUndefined();
    expect(second.calls.find((c) => c.name === Names.activities.readBatchItems)?.input).toMatchObject({
      firstLine: 3,
      byteOffset: 20,
      maxLines: 2,
    });
    expect(secondWrites[0]).toMatchObject({ block: 1 });
    expect(secondWrites[0]?.results.map((r) => r.line)).toEqual([3, 4]);
  });
});
