import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { idempotentInstanceId } from '../../src/functions/runStarter.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../src/offline/offlineModelServer.js';
import type { BatchItemResult, BatchProgress, BatchSummary } from '../../src/shared/batchJobTypes.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * A batch over a JSONL blob, end to end: the real app on the local host, started by a queue message, items
 * answered by a scripted model (real Anthropic SDK client) that refuses the items marked to fail.
 */
const appDir = path.resolve(__dirname, '../..');
const containerName = `batch-${process.pid}`;
const queueName = `wr-batch-${process.pid}`;
const LINES = 1_000;

let host: TestHost;
let model: OfflineModelServer;
let container: ContainerClient;
let queue: QueueClient;

/** Every 100 lines: one line that is not JSON, one that fails the schema, one the model refuses (3%). */
function itemLine(line: number): string {
  const slot = line % 100;
  if (slot === 7) return `{"subject": "broken line ${line}"`;
  if (slot === 42) return JSON.stringify({ subject: `Ticket ${line}` });
  const body = slot === 77 ? `FAIL-MODEL on line ${line}` : `Order ${line} arrived damaged.`;
  return JSON.stringify({ subject: `Ticket ${line}`, body });
}

beforeAll(async () => {
  model = await startOfflineModelServer({
    script: (request) => {
      const text = JSON.stringify(request.body);
      if (text.includes('FAIL-MODEL')) return { kind: 'error', status: 400, message: 'Scripted refusal' };
      const line = /Ticket (\d+)/.exec(text)?.[1] ?? '?';
      return {
        kind: 'structured',
        value: { category: 'billing', priority: 'normal', confidence: 0.9, summary: `line ${line}` },
        usage: { inputTokens: 100, outputTokens: 20 },
      };
    },
  });
  const connection = inject('azuriteConnectionString');
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: model.openaiBaseUrl,
    WORKFLOW_REQUESTS_QUEUE: queueName,
    // The test's own container, besides the default artifacts container (results of batches without outputBlob).
    QUEUE_BLOB_CONTAINERS: `${containerName},agent-artifacts`,
  });
  container = BlobServiceClient.fromConnectionString(connection).getContainerClient(containerName);
  await container.createIfNotExists();
  queue = QueueServiceClient.fromConnectionString(connection).getQueueClient(queueName);
  await queue.createIfNotExists();
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
  await container?.deleteIfExists();
  await queue?.deleteIfExists();
});

describe('batch over a JSONL blob', () => {
  it('1,000 lines with 3% failing: 1,000 results in order, summary counts right, progress on the way', async () => {
    const items = Array.from({ length: LINES }, (_, index) => itemLine(index + 1)).join('\n');
    // CRLF and no newline after the last line: both are ordinary JSONL.
    await container
      .getBlockBlobClient('in/items.jsonl')
      .upload(items.replace(/\n/g, '\r\n'), Buffer.byteLength(items) + LINES - 1);
    const key = `batch-${process.pid}`;
    const message = {
      workflow: 'ticket-triage',
      itemsBlob: `${containerName}/in/items.jsonl`,
      outputBlob: `${containerName}/out/results.jsonl`,
      concurrency: 16,
      idempotencyKey: key,
    };
    await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
    const batchId = idempotentInstanceId('queue', key, 'batch');

    const seen: BatchProgress[] = [];
    const viewed: BatchProgress[] = [];
    const deadline = Date.now() + 150_000;
    let status = host.host.backend.getStatus(batchId, {});
    while (status?.runtimeStatus !== 'Completed' && Date.now() < deadline) {
      if (status?.runtimeStatus === 'Failed')
        throw new Error(`batch failed: ${JSON.stringify(status.output)}`);
      if (status?.customStatus) {
        seen.push(status.customStatus as BatchProgress);
        const view = await fetch(`${host.host.url}/api/runs/${batchId}`, {
          headers: { 'x-functions-key': host.host.keys.functionKey },
        });
        const { progress } = (await view.json()) as { progress: BatchProgress | null };
        if (progress) viewed.push(progress);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = host.host.backend.getStatus(batchId, {});
    }
    expect(status?.runtimeStatus).toBe('Completed');
    const summary = status?.output as BatchSummary;
    expect(summary).toMatchObject({
      kind: 'batch',
      workflow: 'ticket-triage',
      total: LINES,
      succeeded: 970,
      failed: 30,
      outputBlob: `${containerName}/out/results.jsonl`,
      summaryBlob: `${containerName}/out/results.summary.json`,
    });
    expect(summary.costUsd).toBeGreaterThan(0);

    const partial = seen.filter((p) => p.done > 0 && p.done < LINES);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((p) => p.total === LINES && p.kind === 'batch' && p.failed <= 30)).toBe(true);
    // The batch's own status moves a page (128 lines) at a time; the run view adds the running page's
    // lanes, so it moves item by item, and never backwards.
    expect(seen.every((p) => p.done % 128 === 0 || p.done === LINES)).toBe(true);
    expect(viewed.some((p) => p.done % 128 !== 0 && p.done < LINES)).toBe(true);
    expect(viewed.every((p, i) => i === 0 || p.done >= (viewed[i - 1]?.done ?? 0))).toBe(true);
    expect(viewed.every((p) => p.succeeded + p.failed === p.done && p.failed <= 30)).toBe(true);

    const results = (await container.getBlockBlobClient('out/results.jsonl').downloadToBuffer())
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as BatchItemResult);
    expect(results).toHaveLength(LINES);
    expect(results.map((r) => r.line)).toEqual(Array.from({ length: LINES }, (_, index) => index + 1));
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.line % 100).sort((a, b) => a - b)).toEqual([
      ...Array<number>(10).fill(7),
      ...Array<number>(10).fill(42),
      ...Array<number>(10).fill(77),
    ]);
    expect(results.find((r) => r.line === 7)?.error).toMatchObject({ kind: 'invalid_json' });
    expect(results.find((r) => r.line === 42)?.error).toMatchObject({
      kind: 'invalid_input',
      message: expect.stringContaining('/body is required') as unknown,
    });
    expect(results.find((r) => r.line === 77)).toMatchObject({
      runId: `${batchId}:77`,
      error: { stepId: 'classify' },
    });
    // The results writer read every item run's output back from the Durable runtime, through the client's
    // local RPC endpoint: the app's own public origin, which devhost advertises, does not even resolve.
    expect(host.host.webhookOrigin).toMatch(/\.invalid$/);
    await expect(fetch(host.host.webhookOrigin)).rejects.toThrow();
    expect(results.filter((r) => r.status === 'succeeded' && r.output === undefined)).toEqual([]);
    expect(results.find((r) => r.line === 500)).toMatchObject({
      status: 'succeeded',
      runId: `${batchId}:500`,
      output: { triage: { summary: 'line 500' }, escalated: false },
    });
    const costs = results.reduce((sum, r) => sum + r.costUsd, 0);
    expect(costs).toBeCloseTo(summary.costUsd, 10);

    const stored = JSON.parse(
      (await container.getBlockBlobClient('out/results.summary.json').downloadToBuffer()).toString('utf8'),
    ) as BatchSummary;
    expect(stored).toEqual(summary);

    // Continue-as-new per page keeps the history to one page's worth.
    const history = host.host.backend.getStatus(batchId, { showHistory: true })?.historyEvents ?? [];
    expect(history.length).toBeLessThan(600);

    const view = await fetch(`${host.host.url}/api/runs/${batchId}`, {
      headers: { 'x-functions-key': host.host.keys.functionKey },
    });
    expect(await view.json()).toMatchObject({
      kind: 'batch',
      status: 'Completed',
      workflow: 'ticket-triage',
      progress: { done: LINES, failed: 30, total: LINES },
    });
  }, 180_000);
});
