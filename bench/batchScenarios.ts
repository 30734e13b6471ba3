/**
 * The batch rows of the entry-point benchmarks: a batch of ticket-triage lines against a model that
 * takes 50 ms, as wall time over the ideal, and the same pipeline against a model that answers at once,
 * the most items per second this machine can push through.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import type { DevHost } from '../devhost/host.js';
import { DEFAULT_BATCH_CONTAINER } from '../src/config/app.js';
import { idempotentInstanceId } from '../src/functions/runStarter.js';
import type { WireTotals } from '../devhost/durable/wireMeter.js';
import { BATCH_CONCURRENCY, isDone, MODEL_LATENCY_MS, ticket, waitUntil } from './entrypointCommon.js';
import { batchTimeline } from './batchTimeline.js';
import { costSince, repeat, toRow, type Row } from './measure.js';

export const CAPACITY_ITEMS = 3_000;
/** The batch row's target, wall ÷ ideal; the capacity row shows the rate it asks for. */
const TARGET_RATIO = 1.3;

/** Enough single items that their median holds still from run to run. */
const SINGLE_ITEM_SAMPLES = 15;

/**
 * One item alone, started over HTTP and timed from its 202 to its completion: its run's critical path
 * (two episodes and the model call), which no round of a batch can beat. A batch item also waits for its
 * lane's episode between items, so this ideal is slightly stricter than a batch's own critical path.
 */
export async function singleItemMs(host: DevHost): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < SINGLE_ITEM_SAMPLES; i++) {
    const response = await fetch(`${host.url}/api/workflows/ticket-triage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
      body: JSON.stringify(ticket(i)),
    });
    const { id } = (await response.json()) as { id: string };
    const began = performance.now();
    await waitUntil(() => isDone(host, id), 30_000, 'one item', 2);
    samples.push(performance.now() - began);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? NaN;
}

interface BatchRun {
  batchId: string;
  /** From the batch's run appearing (the queue trigger started it) to its completion. */
  wallMs: number;
  /** From the enqueue to the batch's run appearing: the queue trigger's polling, not the batch. */
  pickupMs: number;
  /** Host CPU and orchestrator channel from the enqueue to the batch's completion. */
  cost: { cpuMs: number; wire: WireTotals };
  succeeded: number;
  failed: number;
}

/**
 * Enqueues a batch of `items` ticket-triage lines and waits for it. The wall is timed from the batch's
 * run starting, as the single-item ideal is timed from its run's start (the 202): how long the message
 * waited for the queue trigger's next poll (up to `maxPollingInterval` on an idle queue, two seconds in
 * the shipped host.json, a minute by Azure's default) is the queue's, reported beside it, not the batch's.
 */
async function runBatch(
  host: DevHost,
  connection: string,
  queueName: string,
  name: string,
  items: number,
): Promise<BatchRun> {
  const container =
    BlobServiceClient.fromConnectionString(connection).getContainerClient(DEFAULT_BATCH_CONTAINER);
  await container.createIfNotExists();
  const lines = Array.from({ length: items }, (_, i) => JSON.stringify(ticket(i))).join('\n');
  await container.getBlockBlobClient(`${name}.jsonl`).upload(lines, Buffer.byteLength(lines));
  const queue = QueueServiceClient.fromConnectionString(connection).getQueueClient(queueName);
  const message = {
    workflow: 'ticket-triage',
    itemsBlob: `${DEFAULT_BATCH_CONTAINER}/${name}.jsonl`,
    concurrency: BATCH_CONCURRENCY,
    idempotencyKey: name,
  };
  const batchId = idempotentInstanceId('queue', name, 'batch');
  const cost = costSince(host);
  const enqueued = performance.now();
  await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
  // Polled as closely as the single-item ideal is, and only until the run exists.
  const started = () => host.backend.getStatus(batchId, { showInput: false }) !== undefined;
  await waitUntil(started, 60_000, `the batch ${name} to start`, 2);
  const began = performance.now();
  await waitUntil(() => isDone(host, batchId), 900_000, `the batch ${name}`);
  const wallMs = performance.now() - began;
  const summary = host.backend.getStatus(batchId)?.output as { succeeded: number; failed: number };
  return { batchId, wallMs, pickupMs: began - enqueued, cost: cost(), ...summary };
}

export async function batch(
  host: DevHost,
  connection: string,
  queueName: string,
  perItemMs: number,
  items: number,
  /** The host's state dir, to print where the batch's time went (`--timeline`). */
  timelineOf?: string,
): Promise<Row[]> {
  const rounds = Math.ceil(items / BATCH_CONCURRENCY);
  let allSucceeded = true;
  const [reps = []] = await repeat(async (rep) => {
    const run = await runBatch(host, connection, queueName, `bench-batch-${rep}`, items);
    if (timelineOf !== undefined) {
      console.error(batchTimeline(timelineOf, run.batchId, BATCH_CONCURRENCY, items).join('\n'));
    }
    allSucceeded &&= run.succeeded === items;
    return [
      {
        value: run.wallMs / (rounds * perItemMs),
        note: `wall ${(run.wallMs / 1000).toFixed(1)} s from the batch's start, after ${(run.pickupMs / 1000).toFixed(2)} s in the queue; ideal ${rounds} × ${perItemMs.toFixed(0)} ms; ${run.succeeded} ok, ${run.failed} failed`,
        ...run.cost,
        units: items,
      },
    ];
  });
  const row = toRow(
    {
      scenario: `entry points: ${items}-item batch, model ${MODEL_LATENCY_MS} ms, concurrency ${BATCH_CONCURRENCY}: wall ÷ ideal`,
      target: `≤ ${TARGET_RATIO}`,
      digits: 2,
      ok: (m) => m <= TARGET_RATIO,
      cpuUnit: 'item',
    },
    reps,
  );
  return [{ ...row, ok: row.ok && allSucceeded }];
}

/**
 * The same pipeline against a model that answers at once: the most items per second this machine can
 * push through, to set beside what the ≤ 1.3 target asks of it at 50 ms.
 */
export async function batchCapacity(
  host: DevHost,
  connection: string,
  queueName: string,
  perItemMs: number,
): Promise<Row[]> {
  const needed = BATCH_CONCURRENCY / ((TARGET_RATIO * perItemMs) / 1000);
  let allSucceeded = true;
  const [reps = []] = await repeat(async (rep) => {
    const run = await runBatch(host, connection, queueName, `bench-capacity-${rep}`, CAPACITY_ITEMS);
    allSucceeded &&= run.succeeded === CAPACITY_ITEMS;
    return [{ value: CAPACITY_ITEMS / (run.wallMs / 1000), ...run.cost, units: CAPACITY_ITEMS }];
  });
  const row = toRow(
    {
      scenario: `entry points: batch pipeline capacity (${CAPACITY_ITEMS} items, model 0 ms, concurrency ${BATCH_CONCURRENCY}): items/s`,
      target: `shown (the 50 ms row's ≤ ${TARGET_RATIO} needs ≥ ${needed.toFixed(0)} items/s)`,
      digits: 0,
      ok: () => true,
      cpuUnit: 'item',
    },
    reps,
  );
  return [{ ...row, ok: allSucceeded }];
}
