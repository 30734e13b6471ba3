import { BlobServiceClient } from '@azure/storage-blob';
import path from 'node:path';
import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBatchIo, MAX_LINE_BYTES } from '../../src/activities/batchJobIo.js';
import type { RunOutputsRequest } from '../../src/activities/runOutputs.js';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { WorkflowDefinition } from '../../src/definitions/schema.js';
import type { BatchItem, BatchSummary } from '../../src/shared/batchJobTypes.js';

/** The batch blob activities against Azurite: line splitting, validation, paging by byte offset, block writes. */
const definition = loadWorkflowDirectory(path.resolve(__dirname, '../../workflows')).definitions.get(
  'ticket-triage',
) as WorkflowDefinition;
const container = `batchio-${process.pid}`;
let service: BlobServiceClient;
/** Outputs of the item runs, as the durable store would give them back; line 4's run is gone. */
const outputsRequested: RunOutputsRequest[] = [];
const io = () =>
  createBatchIo({
    blobServiceClient: service,
    runOutputs: (request) => {
      outputsRequested.push(request);
      const found = request.instanceIds.filter((id) => !id.endsWith(':4'));
      return Promise.resolve(new Map(found.map((id) => [id, { echo: id }])));
    },
  });
const context = new InvocationContext();
const ok = (n: number) => JSON.stringify({ subject: `s${n}`, body: `b${n}` });

beforeAll(async () => {
  service = BlobServiceClient.fromConnectionString(inject('azuriteConnectionString'));
  await service.getContainerClient(container).createIfNotExists();
});

afterAll(async () => {
  await service.getContainerClient(container).deleteIfExists();
});

async function upload(name: string, text: string): Promise<string> {
  await service.getContainerClient(container).getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  return `${container}/${name}`;
}

/** Lines per page of the last readAll. */
let pages: number[] = [];

async function readAll(itemsBlob: string, maxLines: number, maxBytes?: number): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  pages = [];
  let byteOffset = 0;
  for (;;) {
    const page = await io().readBatchItems({
      itemsBlob,
      byteOffset,
      firstLine: items.length + 1,
      maxLines,
      ...(maxBytes === undefined ? {} : { maxBytes }),
      definition,
    });
    if (page.items.length === 0) return items;
    pages.push(page.items.length);
    items.push(...page.items);
    byteOffset = page.nextByteOffset;
  }
}

describe('batch blob activities', () => {
  it('counts and reads lines: CRLF, a blank line, bad JSON, a schema failure, no final newline', async () => {
    const text = [ok(1), '', '{nope', JSON.stringify({ subject: 'x' }), `${ok(5)}\r`, ok(6)].join('\n');
    const blob = await upload('mixed.jsonl', text);
    expect(await io().countBatchItems({ itemsBlob: blob })).toEqual({
      lines: 6,
      bytes: Buffer.byteLength(text),
    });
    for (const pageSize of [1, 2, 4, 10]) {
      const items = await readAll(blob, pageSize);
      expect(items.map((item) => [item.line, 'error' in item ? item.error.kind : 'ok'])).toEqual([
        [1, 'ok'],
        [2, 'invalid_item'],
        [3, 'invalid_json'],
        [4, 'invalid_input'],
        [5, 'ok'],
        [6, 'ok'],
      ]);
      expect(items[0]).toEqual({ line: 1, input: { subject: 's1', body: 'b1', customerTier: 'standard' } });
    }
    expect(await io().countBatchItems({ itemsBlob: await upload('empty.jsonl', '') })).toEqual({
      lines: 0,
      bytes: 0,
    });
    expect(await io().countBatchItems({ itemsBlob: await upload('one.jsonl', `${ok(1)}\n`) })).toMatchObject({
      lines: 1,
    });
  });

  it('ends a page at its byte budget (at least one line), and the next page goes on from there', async () => {
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ subject: `s${i + 1}`, body: 'x'.repeat(280) }),
    );
    const lineBytes = Buffer.byteLength(lines[0] ?? '') + 1;
    const blob = await upload('sized.jsonl', lines.join('\n'));
    const items = await readAll(blob, 100, 3 * lineBytes + 1);
    expect(pages).toEqual([4, 4, 2]);
    expect(items.map((item) => item.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(items.every((item) => 'input' in item)).toBe(true);
    expect(await readAll(blob, 100, 1)).toHaveLength(10);
    expect(pages).toEqual(Array.from({ length: 10 }, () => 1));
  });

  it('fails an over-long line as an item and goes on with the next', async () => {
    const long = JSON.stringify({ subject: 's', body: 'x'.repeat(MAX_LINE_BYTES + 10) });
    const blob = await upload('long.jsonl', [ok(1), long, ok(3)].join('\n'));
    const items = await readAll(blob, 10);
    expect(items.map((item) => ('error' in item ? item.error.kind : 'ok'))).toEqual([
      'ok',
      'line_too_long',
      'ok',
    ]);
    expect(items[2]).toMatchObject({ line: 3, input: { subject: 's3' } });
  });

  it('stages each page as a block (a retried write replaces itself) and commits them in order', async () => {
    const outputBlob = `${container}/out/results.jsonl`;
    const result = (line: number) => ({
      line,
      runId: `batch-1:${line}`,
      status: 'succeeded' as const,
      costUsd: 0,
    });
    const page = (block: number, results: unknown[]) => ({
      outputBlob,
      block,
      batchId: 'batch-1',
      runsCreatedFrom: '2026-01-01T00:00:00.000Z',
      results,
    });
    outputsRequested.length = 0;
    await io().writeBatchResults(page(1, [result(3)]), context);
    const failed = { line: 2, status: 'failed', error: { kind: 'invalid_json', message: 'no' }, costUsd: 0 };
    expect(await io().writeBatchResults(page(0, [result(1), failed]), context)).toEqual({
      block: 0,
      lines: 2,
      unavailable: 0,
    });
    // Line 4's run cannot be read back: it is written as failed, and the page is told so.
    expect(await io().writeBatchResults(page(1, [result(3), result(4)]), context)).toEqual({
      block: 1,
      lines: 2,
      unavailable: 1,
    });
    // Only succeeded lines' outputs are asked for, by the batch's id prefix and the page's start.
    expect(outputsRequested.map((request) => request.instanceIds)).toEqual([
      ['batch-1:3'],
      ['batch-1:1'],
      ['batch-1:3', 'batch-1:4'],
    ]);
    expect(outputsRequested[0]).toMatchObject({
      instanceIdPrefix: 'batch-1:',
      createdFrom: new Date('2026-01-01T00:00:00.000Z'),
    });
    const summary: BatchSummary = {
      kind: 'batch',
      workflow: 'ticket-triage',
      version: '1.0.0',
      itemsBlob: 'x/y',
      outputBlob,
      summaryBlob: `${container}/out/results.summary.json`,
      total: 4,
      succeeded: 4,
      failed: 0,
      costUsd: 0,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
    };
    await io().finishBatch({ outputBlob, blocks: 2, summary });
    await io().finishBatch({ outputBlob, blocks: 2, summary });
    const text = (
      await service.getContainerClient(container).getBlockBlobClient('out/results.jsonl').downloadToBuffer()
    ).toString('utf8');
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { line: 1, runId: 'batch-1:1', status: 'succeeded', output: { echo: 'batch-1:1' }, costUsd: 0 },
      failed,
      { line: 3, runId: 'batch-1:3', status: 'succeeded', output: { echo: 'batch-1:3' }, costUsd: 0 },
      {
        line: 4,
        runId: 'batch-1:4',
        status: 'failed',
        error: {
          kind: 'output_unavailable',
          message: 'the run finished, but its output could not be read back (was batch-1:4 purged?)',
        },
        costUsd: 0,
      },
    ]);
    expect(await io().exists(summary.summaryBlob)).toBe(true);
    expect(await io().exists(`${container}/nothing.jsonl`)).toBe(false);
    await expect(io().countBatchItems({ itemsBlob: `${container}/nothing.jsonl` })).rejects.toThrow(
      `No items blob ${container}/nothing.jsonl`,
    );
  });
});

describe('batch blobs outside the allowed containers', () => {
  it('are refused before any storage call, naming the container and the setting', async () => {
    const allowedOnly = createBatchIo({
      blobServiceClient: service,
      runOutputs: () => Promise.resolve(new Map()),
      allowedContainers: () => ['agent-artifacts', 'batches'],
    });
    const itemsBlob = await upload('allowed-check.jsonl', `${ok(1)}\n`);
    await expect(allowedOnly.countBatchItems({ itemsBlob })).rejects.toThrow(
      `${itemsBlob} is in container "${container}", which batches may not use; allowed: agent-artifacts, batches (QUEUE_BLOB_CONTAINERS)`,
    );
    await expect(allowedOnly.exists(`secrets/keys.json`)).rejects.toThrow(/container "secrets"/);
    const allowingIt = createBatchIo({
      blobServiceClient: service,
      runOutputs: () => Promise.resolve(new Map()),
      allowedContainers: () => [container],
    });
    expect(await allowingIt.countBatchItems({ itemsBlob })).toMatchObject({ lines: 1 });
  });
});
