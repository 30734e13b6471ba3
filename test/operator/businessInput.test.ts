import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import { businessInput } from '../../src/operator/runViews.js';

const definition = loadWorkflowDirectory(path.resolve(__dirname, '../../workflows')).definitions.get(
  'ticket-triage',
);
const carried = JSON.parse(JSON.stringify(definition)) as unknown;
const run = { definition: carried, workflows: {}, tools: {} };

describe('businessInput (the input a run detail shows)', () => {
  it('is the workflow input of a run', () => {
    expect(businessInput({ ...run, input: { subject: 's', body: 'b' } })).toEqual({
      subject: 's',
      body: 'b',
    });
  });

  it("is a batch's blobs and concurrency, not the page and results it carries between generations", () => {
    const batch = {
      run,
      itemsBlob: 'in/items.jsonl',
      outputBlob: 'out/results.jsonl',
      summaryBlob: 'out/results.summary.json',
      concurrency: 4,
      pageSize: 256,
      next: { items: [{ line: 3, input: { subject: 'c', body: 'c' } }], nextByteOffset: 60 },
      unwritten: {
        outputBlob: 'out/results.jsonl',
        block: 0,
        batchId: 'batch-1',
        runsCreatedFrom: '2026-01-01T00:00:00.000Z',
        results: [{ line: 1, runId: 'batch-1:1', status: 'succeeded', costUsd: 0 }],
      },
    };
    expect(businessInput(batch)).toEqual({
      workflow: 'ticket-triage',
      itemsBlob: 'in/items.jsonl',
      outputBlob: 'out/results.jsonl',
      summaryBlob: 'out/results.summary.json',
      concurrency: 4,
    });
  });

  it('is the raw input of anything else', () => {
    expect(businessInput({ anything: 1 })).toEqual({ anything: 1 });
    expect(businessInput(null)).toBeNull();
  });
});
