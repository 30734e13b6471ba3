/**
 * Benchmarks of the business entry points on the local host: HTTP starts per second, queue messages per
 * second from enqueue to started run, and a 10,000-item batch against a model that takes 50 ms per call.
 *
 * One process hosts one Functions app, and bench/run.ts already hosts the devhost bench app, so
 * `runEntrypointBenchmarks()` runs the scenarios in a child process (this file with `--child`). The HTTP
 * and queue scenarios run on the app's own host.json; the batch on a host whose concurrency limits
 * allow its 32 lanes. The HTTP load comes from a third process (`--post-starts`), as callers are remote.
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevHost, type DevHost } from '../devhost/host.js';
import { freeLoopbackPorts } from '../devhost/net.js';
import { startAzurite } from '../devhost/storage/azurite.js';
import { idempotentInstanceId } from '../src/functions/runStarter.js';
import { keepAliveAgents, requestWhole } from '../src/http/requestWhole.js';
import { startOfflineModelServer } from '../src/offline/offlineModelServer.js';
import { batch, batchCapacity, singleItemMs } from './batchScenarios.js';
import { announceEndpoints, startEndpointsProcess } from './endpointsProcess.js';
import { BATCH_CONCURRENCY, isDone, MODEL_LATENCY_MS, ticket, waitForEach } from './entrypointCommon.js';
import {
  costSince,
  cpuMsSince,
  printTables,
  repeat,
  REPETITIONS,
  TABLES_PREFIX,
  toRow,
  type Row,
  type Table,
} from './measure.js';

const ROOT = path.resolve(__dirname, '../..');
/**
 * `node dist/bench/entrypoints.js --child [--only http|queue|batch] [--batch-items N] [--timeline]` profiles
 * one scenario; `--timeline` also prints where the timed batch's time went (bench/batchTimeline.ts).
 */
const argValue = (flag: string) => {
  const at = process.argv.indexOf(flag);
  return at < 0 ? undefined : process.argv[at + 1];
};
const ONLY = argValue('--only');
const BATCH_ITEMS = Number(argValue('--batch-items') ?? 10_000);
const TIMELINE = process.argv.includes('--timeline');
const HTTP_STARTS = 1_000;
const HTTP_IN_FLIGHT = 50;
const QUEUE_MESSAGES = 500;
/**
 * The real app (dist/src) with the repository's host.json; for the batch, with the per-worker
 * concurrency raised to what a batch of concurrency 32 needs (32 model calls, 32 lanes and their runs).
 */
function benchAppDir(forBatch: boolean): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'entrypoints-app-'));
  const hostJson = JSON.parse(readFileSync(path.join(ROOT, 'host.json'), 'utf8')) as {
    extensions: { durableTask: Record<string, unknown>; queues: Record<string, unknown> };
  };
  if (forBatch) {
    hostJson.extensions.durableTask.maxConcurrentActivityFunctions = 2 * BATCH_CONCURRENCY;
    hostJson.extensions.durableTask.maxConcurrentOrchestratorFunctions = 2 * BATCH_CONCURRENCY;
  }
  writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson));
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ main: path.join(ROOT, 'dist/src/index.js') }),
  );
  return dir;
}

/**
 * In the load process (`--post-starts <baseUrl>`, key in FUNCTIONS_KEY): POSTs the starts over node:http
 * with one keep-alive connection per caller, the cheapest client Node has, so the load generator takes as
 * little as it can of the cores it shares with the host. Prints the ids and its own CPU time.
 */
async function postStarts(baseUrl: string, key: string): Promise<void> {
  const agents = keepAliveAgents();
  const url = new URL(`${baseUrl}/api/workflows/ticket-triage`);
  const post = (body: string) =>
    requestWhole(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'x-functions-key': key,
        },
        body,
      },
      agents,
    );
  const ids: string[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_IN_FLIGHT }, async () => {
      for (let i = next++; i < HTTP_STARTS; i = next++) {
        const { status, body } = await post(JSON.stringify(ticket(i)));
        if (status !== 202) throw new Error(`start ${i}: HTTP ${status} ${body.toString('utf8')}`);
        ids.push((JSON.parse(body.toString('utf8')) as { id: string }).id);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  agents['http:'].destroy();
  process.stdout.write(`${STARTS_PREFIX}${JSON.stringify({ ids, seconds, cpuMs: cpuMsSince(cpu) })}\n`);
}

const STARTS_PREFIX = 'STARTS ';
interface StartsResult {
  ids: string[];
  seconds: number;
  /** The load process's own CPU time. */
  cpuMs: number;
}

/** Business systems call from elsewhere: the load comes from another process, as remote callers would. */
function startsFromAnotherProcess(host: DevHost): Promise<StartsResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [__filename, '--post-starts', host.url],
      { env: { ...process.env, FUNCTIONS_KEY: host.keys.functionKey }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(STARTS_PREFIX));
        if (error || line === undefined) {
          reject(new Error(`the load process failed: ${error?.message ?? ''}\n${stderr.slice(-2000)}`));
          return;
        }
        resolve(JSON.parse(line.slice(STARTS_PREFIX.length)) as StartsResult);
      },
    );
  });
}

async function httpStarts(host: DevHost): Promise<Row[]> {
  const [reps = []] = await repeat(async () => {
    const cost = costSince(host);
    const began = performance.now();
    const { ids, seconds, cpuMs: loadCpuMs } = await startsFromAnotherProcess(host);
    await waitForEach(ids, (id) => isDone(host, id), 'the HTTP-started runs');
    const allDoneSeconds = (performance.now() - began) / 1000;
    return [
      {
        value: HTTP_STARTS / seconds,
        note: `all ${HTTP_STARTS} runs done after ${allDoneSeconds.toFixed(1)} s; load process ${(loadCpuMs / HTTP_STARTS).toFixed(2)} ms CPU per POST`,
        ...cost(),
        units: HTTP_STARTS,
      },
    ];
  });
  return [
    toRow(
      {
        scenario: `entry points: HTTP starts/s (${HTTP_STARTS} POST /api/workflows/ticket-triage, ${HTTP_IN_FLIGHT} in flight, shipped host.json)`,
        target: '≥ 500',
        digits: 0,
        ok: (m) => m >= 500,
        cpuUnit: 'start and its run',
      },
      reps,
    ),
  ];
}

async function queueStarts(host: DevHost, connection: string, queueName: string): Promise<Row[]> {
  const queue = QueueServiceClient.fromConnectionString(connection).getQueueClient(queueName);
  await queue.createIfNotExists();
  const [reps = []] = await repeat(async (rep) => {
    const key = (i: number) => `bench-${rep}-${i}`;
    const ids = Array.from({ length: QUEUE_MESSAGES }, (_, i) => idempotentInstanceId('queue', key(i)));
    const cost = costSince(host);
    const began = performance.now();
    for (let first = 0; first < QUEUE_MESSAGES; first += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, QUEUE_MESSAGES - first) }, (_, offset) => {
          const i = first + offset;
          const message = { workflow: 'ticket-triage', input: ticket(i), idempotencyKey: key(i) };
          return queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
        }),
      );
    }
    await waitForEach(
      ids,
      (id) => host.backend.getStatus(id, { showInput: false }) !== undefined,
      'queue-started runs',
    );
    const perSecond = QUEUE_MESSAGES / ((performance.now() - began) / 1000);
    await waitForEach(ids, (id) => isDone(host, id), 'the queue-started runs');
    return [{ value: perSecond, ...cost(), units: QUEUE_MESSAGES }];
  });
  return [
    toRow(
      {
        scenario: `entry points: queue messages/s, enqueue to started run (${QUEUE_MESSAGES} messages)`,
        target: 'shown',
        digits: 0,
        ok: () => true,
        cpuUnit: 'message and its run',
      },
      reps,
    ),
  ];
}

export const ENTRYPOINTS_FOOTNOTE =
  `median of ${REPETITIONS} repetitions on one host per group (min–max beside it); the batch ideal is the ` +
  'median single item, timed once per host. host CPU: process.cpuUsage() of the host process (devhost, the ' +
  'app on its language worker thread, the store polling) over each repetition until every run is done, per ' +
  'unit; not the load process, the model process nor Azurite (remote on Azure). real worker bytes/episode: ' +
  'every orchestrator episode of the repetition (runs, batch, lanes), replay payload in / answer out with ' +
  'every stored input the extension resends (devhost/durable/wireMeter.ts).';

/**
 * The scripted model, served from its own process (`--serve-model`) as a remote endpoint would be:
 * one server answering after 50 ms, and one answering at once for the capacity row.
 */
async function serveModel(): Promise<void> {
  const answering = (delayMs: number) =>
    startOfflineModelServer({
      script: () => ({
        kind: 'structured',
        value: { category: 'billing', priority: 'normal', confidence: 0.9, summary: 'A damaged order.' },
        delayMs,
      }),
    });
  const [model, instant] = await Promise.all([answering(MODEL_LATENCY_MS), answering(0)]);
  announceEndpoints({
    anthropicBaseUrl: model.anthropicBaseUrl,
    openaiBaseUrl: model.openaiBaseUrl,
    instantAnthropicBaseUrl: instant.anthropicBaseUrl,
  });
}

async function runInThisProcess(): Promise<Row[]> {
  const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
  const azurite = await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
  const model = await startEndpointsProcess(__filename, '--serve-model');
  const { anthropicBaseUrl = '', openaiBaseUrl = '', instantAnthropicBaseUrl = '' } = model.endpoints;
  const queueName = 'bench-workflow-requests';
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString,
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'bench-key',
    ANTHROPIC_BASE_URL: anthropicBaseUrl,
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: openaiBaseUrl,
    WORKFLOW_REQUESTS_QUEUE: queueName,
  });
  /** A fresh host and state for each group of scenarios, so one scenario's backlog never slows the next. */
  async function withHost(
    forBatch: boolean,
    scenarios: (host: DevHost, stateDir: string) => Promise<Row[]>,
  ): Promise<Row[]> {
    const appDir = benchAppDir(forBatch);
    const stateDir = mkdtempSync(path.join(tmpdir(), 'entrypoints-state-'));
    const host = await startDevHost({ appDir, port: 0, stateDir, azurite: 'off', log: () => {} });
    try {
      return await scenarios(host, stateDir);
    } finally {
      await host.stop();
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(appDir, { recursive: true, force: true });
    }
  }
  /** Points the app's Claude endpoint elsewhere for the hosts started meanwhile (workers share the env). */
  async function withModelAt<T>(baseUrl: string, scenarios: () => Promise<T>): Promise<T> {
    process.env.ANTHROPIC_BASE_URL = baseUrl;
    try {
      return await scenarios();
    } finally {
      process.env.ANTHROPIC_BASE_URL = anthropicBaseUrl;
    }
  }
  const wanted = (name: string) => ONLY === undefined || ONLY === name;
  async function batchRows(): Promise<Row[]> {
    let perItemMs = NaN;
    const atModelLatency = await withHost(true, async (host, stateDir) => {
      perItemMs = await singleItemMs(host);
      const timeline = TIMELINE ? stateDir : undefined;
      return batch(host, azurite.connectionString, queueName, perItemMs, BATCH_ITEMS, timeline);
    });
    const capacity = await withModelAt(instantAnthropicBaseUrl, () =>
      withHost(true, (host) => batchCapacity(host, azurite.connectionString, queueName, perItemMs)),
    );
    return [...atModelLatency, ...capacity];
  }
  try {
    return [
      ...(wanted('http') || wanted('queue')
        ? await withHost(false, async (host) => [
            ...(wanted('http') ? await httpStarts(host) : []),
            ...(wanted('queue') ? await queueStarts(host, azurite.connectionString, queueName) : []),
          ])
        : []),
      ...(wanted('batch') ? await batchRows() : []),
    ];
  } finally {
    model.stop();
    await azurite.stop();
  }
}

/** Runs the entry-point scenarios in a child process and returns their table. */
export function runEntrypointBenchmarks(): Promise<Table[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [__filename, '--child'],
      { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(TABLES_PREFIX));
        if (error || line === undefined) {
          reject(new Error(`entry-point benchmarks failed: ${error?.message ?? ''}\n${stderr.slice(-2000)}`));
          return;
        }
        resolve(JSON.parse(line.slice(TABLES_PREFIX.length)) as Table[]);
      },
    );
  });
}

if (require.main === module && process.argv.includes('--post-starts')) {
  postStarts(argValue('--post-starts') ?? '', process.env.FUNCTIONS_KEY ?? '').catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else if (require.main === module && process.argv.includes('--serve-model')) {
  serveModel().catch((error: unknown) => {
    process.stderr.write(
      `the model process failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
} else if (require.main === module && process.argv.includes('--child')) {
  runInThisProcess()
    .then((rows) => {
      const tables: Table[] = [
        { title: 'Entry points (real app on devhost)', rows, footnote: ENTRYPOINTS_FOOTNOTE },
      ];
      if (process.argv.includes('--print')) printTables(tables, (text) => process.stdout.write(text));
      process.stdout.write(`${TABLES_PREFIX}${JSON.stringify(tables)}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
}
