/**
 * `npm run soak`: the shipped app on the local host (`node dist/devhost/cli.js start --app .`, a child
 * process) under a mixed load of the shipped workflows, over HTTP and the `workflow-requests` queue (runs
 * and JSONL batches), while the host is SIGKILLed and restarted at random intervals, the model answers
 * with injected faults, the completion-callback receiver fails at random and research-report approvals
 * are answered through the API. It prints a table of runs started, completed, failed as expected, lost
 * and duplicated side effects, and exits 1 when any run was lost or any side effect was duplicated with
 * different content. Flags and what each count means: README "Soak test".
 *
 * Everything the host talks to lives in this process and outlives the kills: Azurite (a child process,
 * never killed), the offline model server with a fault script (src/offline/), the callback receiver, and
 * a recording proxy in front of Azurite's blob endpoint that sees every blob the app writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { freeLoopbackPorts } from '../devhost/net.js';
import { startAzurite, type AzuriteProcess } from '../devhost/storage/azurite.js';
import {
  RUN_ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyCallbackSignature,
} from '../src/activities/callback.js';
import { idempotentInstanceId } from '../src/functions/runStarter.js';
import {
  startOfflineModelServer,
  type ModelReply,
  type OfflineModelServer,
} from '../src/offline/offlineModelServer.js';
import { seededRandom } from '../src/offline/prng.js';
import { EffectLog, formatTable, SoakLedger, type Entry, type TrackedRun } from './lib/soakAccounting.js';

const root = resolve(__dirname, '../..');
const WORKFLOWS = ['ticket-triage', 'research-report', 'data-analysis', 'document-intake'] as const;
type Workflow = (typeof WORKFLOWS)[number];
/** Workflows whose runs also go in as JSONL batches (small inputs, no approval). */
const BATCH_WORKFLOWS: readonly Workflow[] = ['ticket-triage', 'data-analysis'];
const BATCH_ITEMS = 3;
const QUEUE = 'workflow-requests';
const KEYS = { master: 'soak-master-key', function: 'soak-function-key', system: 'soak-system-key' };
const SIGNING_SECRET = 'soak-callback-signing-secret-0123456789abcdef';
const POLL_MS = 2_000;

const Flags = z.strictObject({
  minutes: z.coerce.number().positive(),
  'drain-minutes': z.coerce.number().min(0),
  seed: z.coerce.number().int().min(0).max(0xffffffff),
  rate: z.coerce.number().positive(),
  'max-in-flight': z.coerce.number().int().positive(),
  'model-fault-rate': z.coerce.number().min(0).max(1),
  'callback-share': z.coerce.number().min(0).max(1),
  'callback-failure-rate': z.coerce.number().min(0).max(1),
  'queue-share': z.coerce.number().min(0).max(1),
  'batch-share': z.coerce.number().min(0).max(1),
  'approval-share': z.coerce.number().min(0).max(1),
  'reject-share': z.coerce.number().min(0).max(1),
  'kill-min-seconds': z.coerce.number().positive(),
  'kill-max-seconds': z.coerce.number().positive(),
  'progress-seconds': z.coerce.number().positive(),
  state: z.string().optional(),
  'keep-state': z.boolean(),
  help: z.boolean(),
});
type Flags = z.infer<typeof Flags>;

const DEFAULTS: Record<string, string> = {
  minutes: '10',
  'drain-minutes': '5',
  rate: '30',
  'max-in-flight': '16',
  'model-fault-rate': '0.2',
  'callback-share': '0.5',
  'callback-failure-rate': '0.3',
  'queue-share': '0.4',
  'batch-share': '0.1',
  'approval-share': '0.8',
  'reject-share': '0.3',
  'kill-min-seconds': '20',
  'kill-max-seconds': '90',
  'progress-seconds': '30',
};

const USAGE = `npm run soak -- [flags]   (docs: README "Soak test")
  --minutes <n>               load period (default 10)
  --drain-minutes <n>         after the load, wait this long at most for every run and callback to settle (default 5)
  --seed <n>                  seed of every random choice (default: random, printed)
  --rate <n>                  runs started per minute (default 30)
  --max-in-flight <n>         at most this many unfinished runs at once (default 16)
  --model-fault-rate <p>      share of model requests answered with an injected fault (default 0.2)
  --callback-share <p>        share of runs started with a completion callback (default 0.5)
  --callback-failure-rate <p> share of callback deliveries the receiver fails (default 0.3)
  --queue-share <p>           share of starts sent on the queue as single runs (default 0.4)
  --batch-share <p>           share of starts sent on the queue as JSONL batches (default 0.1)
  --approval-share <p>        share of research-report runs that require approval (default 0.8)
  --reject-share <p>          share of those approvals the soak rejects (default 0.3)
  --kill-min-seconds <n>      shortest time between SIGKILLs of the host (default 20)
  --kill-max-seconds <n>      longest time between SIGKILLs of the host (default 90)
  --progress-seconds <n>      one progress line this often (default 30)
  --state <dir>               state folder (host state, Azurite data, host logs); default a new temp folder
  --keep-state                keep the state folder (it is always kept when the soak fails)`;

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(
        [...Object.keys(DEFAULTS), 'seed', 'state'].map((name) => [name, { type: 'string' as const }]),
      ),
      'keep-state': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const parsed = Flags.safeParse({
    ...DEFAULTS,
    seed: String(Math.floor(Math.random() * 0xffffffff)),
    ...values,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`bad flags:\n  ${problems.join('\n  ')}\n\n${USAGE}`);
  }
  if (parsed.data['kill-max-seconds'] < parsed.data['kill-min-seconds'])
    throw new Error('--kill-max-seconds must be at least --kill-min-seconds');
  if (parsed.data['queue-share'] + parsed.data['batch-share'] > 1)
    throw new Error('--queue-share plus --batch-share must be at most 1');
  return parsed.data;
}

const sample = (workflow: Workflow) =>
  JSON.parse(readFileSync(join(root, 'scripts/samples', `${workflow}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

/** The sample body, marked with the run number so every run has its own input. */
function inputFor(workflow: Workflow, n: number, requireApproval: boolean): Record<string, unknown> {
  const body = sample(workflow);
  switch (workflow) {
    case 'ticket-triage':
      return { ...body, subject: `${String(body.subject)} (soak ${n})` };
    case 'research-report':
      return { ...body, topic: `${String(body.topic)} (soak ${n})`, questions: 2, requireApproval };
    case 'data-analysis':
      return { ...body, question: `${String(body.question)} (soak ${n})` };
    case 'document-intake':
      return body;
  }
}

/** Model faults the offline model answers with instead of its answer; weights sum to 1. */
const FAULTS: readonly { readonly name: string; readonly weight: number; readonly reply: ModelReply }[] = [
  {
    name: '429',
    weight: 0.25,
    reply: { kind: 'error', status: 429, retryAfterSeconds: 1, message: 'Injected rate limit' },
  },
  {
    name: '529',
    weight: 0.2,
    reply: { kind: 'error', status: 529, retryAfterSeconds: 1, message: 'Injected overload' },
  },
  { name: '500', weight: 0.2, reply: { kind: 'error', status: 500, message: 'Injected server error' } },
  { name: 'malformed', weight: 0.15, reply: { kind: 'malformed', variant: 'unparseable' } },
  { name: 'missing fields', weight: 0.15, reply: { kind: 'malformed', variant: 'missing-fields' } },
  { name: '400', weight: 0.05, reply: { kind: 'error', status: 400, message: 'Injected bad request' } },
];

interface Counters {
  modelRequests: number;
  modelFaults: Map<string, number>;
  kills: number;
  restarts: number;
  callbackAttempts: number;
  callbackFailed: number;
  badSignatures: number;
  blobWrites: number;
  startRetries: number;
  approvals: number;
  rejections: number;
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks)));
    request.on('error', fail);
  });

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
};

/** Receives completion callbacks; fails `failureRate` of them (500, 503, 429 or a dropped connection). */
function callbackReceiver(
  random: () => number,
  failureRate: number,
  counters: Counters,
  delivered: EffectLog,
) {
  return createServer((request, response) => {
    void readBody(request).then((body) => {
      counters.callbackAttempts += 1;
      const text = body.toString('utf8');
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const signed = verifyCallbackSignature(SIGNING_SECRET, {
        timestamp: header(TIMESTAMP_HEADER),
        signature: header(SIGNATURE_HEADER),
        body: text,
      });
      if (!signed) counters.badSignatures += 1;
      if (random() < failureRate) {
        counters.callbackFailed += 1;
        const pick = random();
        if (pick < 0.25) return void request.socket.destroy();
        return void response.writeHead(pick < 0.5 ? 500 : pick < 0.75 ? 503 : 429).end();
      }
      delivered.record(header(RUN_ID_HEADER) ?? '(no run id)', text);
      response.writeHead(200).end();
    });
  });
}

/**
 * A proxy in front of Azurite's blob endpoint recording every write the app makes: Put Blob by blob name,
 * Put Block by blob name and block id (a batch's results blob is staged a block per page). Shared Key
 * signatures cover the path and x-ms-* headers, not the host, so the app's requests pass through unchanged.
 */
function blobProxy(blobPort: number, counters: Counters, writes: EffectLog) {
  return createServer((request, response) => {
    void readBody(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://proxy');
      const comp = url.searchParams.get('comp');
      const isWrite =
        request.method === 'PUT' &&
        !url.searchParams.has('restype') &&
        (comp === null || comp === 'block') &&
        request.headers['x-ms-copy-source'] === undefined;
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port: blobPort,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          if (isWrite && status >= 200 && status < 300) {
            counters.blobWrites += 1;
            const blob = decodeURIComponent(url.pathname).split('/').slice(2).join('/');
            const block = url.searchParams.get('blockid');
            writes.record(comp === 'block' ? `${blob}#block=${block ?? ''}` : blob, body);
          }
          response.writeHead(status, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      upstream.end(body);
    });
  });
}

/** The local host as a child process, killed and restarted; its output goes to `<state>/host-<n>.log`. */
class HostProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(
    private readonly port: number,
    private readonly stateDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.generation += 1;
    const log = openSync(join(this.stateDir, `host-${this.generation}.log`), 'a');
    const child = spawn(
      process.execPath,
      [
        '--require',
        join(root, 'dist/scripts/soakLoopbackCallbacks.js'),
        join(root, 'dist/devhost/cli.js'),
        'start',
        '--app',
        root,
        '--port',
        String(this.port),
        '--state',
        join(this.stateDir, 'host'),
        '--no-azurite',
      ],
      { env: this.env, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `the host exited (${child.exitCode ?? child.signalCode}) while starting; see ${this.stateDir}/host-${this.generation}.log`,
        );
      }
      try {
        const answer = await fetch(`${this.url}/api/openapi.json`, {
          headers: { 'x-functions-key': KEYS.function },
        });
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(
          `the host did not answer within 120 s; see ${this.stateDir}/host-${this.generation}.log`,
        );
      await sleep(200);
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
  }
}

type Json = Record<string, unknown>;

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  for (const file of ['dist/devhost/cli.js', 'dist/src/index.js', 'dist/scripts/soakLoopbackCallbacks.js'])
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`npm run build\``);
  const seed = flags.seed;
  const stateDir = flags.state ? resolve(flags.state) : mkdtempSync(join(tmpdir(), 'durable-agents-soak-'));
  mkdirSync(stateDir, { recursive: true });
  const rng = {
    load: seededRandom(seed),
    kills: seededRandom(seed ^ 0x1111),
    faults: seededRandom(seed ^ 0x2222),
    callbacks: seededRandom(seed ^ 0x3333),
  };
  console.log(
    `soak: seed ${seed}, ${flags.minutes} min load at ${flags.rate} runs/min, state in ${stateDir}\n` +
      `  model faults ${flags['model-fault-rate'] * 100} %, callback failures ${flags['callback-failure-rate'] * 100} %, ` +
      `SIGKILL every ${flags['kill-min-seconds']}-${flags['kill-max-seconds']} s`,
  );

  const counters: Counters = {
    modelRequests: 0,
    modelFaults: new Map(),
    kills: 0,
    restarts: 0,
    callbackAttempts: 0,
    callbackFailed: 0,
    badSignatures: 0,
    blobWrites: 0,
    startRetries: 0,
    approvals: 0,
    rejections: 0,
  };
  const ledger = new SoakLedger();
  const deliveries = new EffectLog();
  const writes = new EffectLog();
  const callbackState = new Map<string, string>();
  const answered = new Set<string>();

  const cleanups: (() => Promise<void>)[] = [];
  let host: HostProcess | undefined;
  let exitCode = 1;
  try {
    const ports = await freeLoopbackPorts(4);
    const [blobPort = 0, queuePort = 0, tablePort = 0, hostPort = 0] = ports;
    const azurite: AzuriteProcess = await startAzurite({
      blobPort,
      queuePort,
      tablePort,
      dataDir: join(stateDir, 'azurite'),
    });
    cleanups.push(() => azurite.stop());

    const proxy = blobProxy(blobPort, counters, writes);
    const proxyPort = await listen(proxy);
    cleanups.push(() => new Promise((done) => proxy.close(() => done())));
    const appStorage = azurite.connectionString.replace(
      `BlobEndpoint=http://127.0.0.1:${blobPort}/`,
      `BlobEndpoint=http://127.0.0.1:${proxyPort}/`,
    );
    if (appStorage === azurite.connectionString)
      throw new Error(`cannot find the blob endpoint in ${azurite.connectionString}`);

    const model: OfflineModelServer = await startOfflineModelServer({
      script: () => {
        counters.modelRequests += 1;
        // The offline server keeps every request it saw; the soak needs none of them, and an hour of them
        // would fill memory.
        (model.requests as unknown[]).length = 0;
        (model.batchItems as unknown[]).length = 0;
        if (rng.faults() >= flags['model-fault-rate']) return undefined;
        let pick = rng.faults();
        const fault = FAULTS.find((f) => (pick -= f.weight) < 0) ?? FAULTS[0];
        if (!fault) return undefined;
        counters.modelFaults.set(fault.name, (counters.modelFaults.get(fault.name) ?? 0) + 1);
        return fault.reply;
      },
    });
    cleanups.push(() => model.stop());

    const receiver = callbackReceiver(rng.callbacks, flags['callback-failure-rate'], counters, deliveries);
    const receiverOrigin = `http://127.0.0.1:${await listen(receiver)}`;
    cleanups.push(() => new Promise((done) => receiver.close(() => done())));

    const queue = new QueueClient(azurite.connectionString, QUEUE);
    await queue.createIfNotExists();
    const poisonQueue = new QueueClient(azurite.connectionString, `${QUEUE}-poison`);
    await poisonQueue.createIfNotExists();
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'batches',
    );
    await blobs.createIfNotExists();

    host = new HostProcess(hostPort, stateDir, {
      ...process.env,
      AzureWebJobsStorage: appStorage,
      OFFLINE_MODEL: 'off',
      FOUNDRY_BASE_URL: model.foundryBaseUrl,
      FOUNDRY_API_KEY: 'soak-foundry-key',
      AZURE_OPENAI_ENDPOINT: model.url,
      AZURE_OPENAI_API_KEY: 'soak-azure-openai-key',
      CALLBACK_SIGNING_SECRET: SIGNING_SECRET,
      SOAK_CALLBACK_ORIGIN: receiverOrigin,
      DEVHOST_MASTER_KEY: KEYS.master,
      DEVHOST_FUNCTION_KEY: KEYS.function,
      DEVHOST_SYSTEM_KEY: KEYS.system,
      WORKFLOW_REQUESTS_QUEUE: QUEUE,
    });
    const theHost = host;
    await theHost.start();
    let hostUp = true;
    const t0 = Date.now();
    const loadEnd = t0 + flags.minutes * 60_000;
    const drainEnd = loadEnd + flags['drain-minutes'] * 60_000;
    let loading = true;
    let stopped = false;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${theHost.url}${path}`, {
        ...init,
        headers: { 'x-functions-key': KEYS.function, 'content-type': 'application/json', ...init.headers },
        signal: AbortSignal.timeout(30_000),
      });

    // SIGKILL and restart at random intervals while the load runs.
    let fatal: Error | undefined;
    const killer = (async () => {
      while (loading) {
        const wait =
          (flags['kill-min-seconds'] +
            rng.kills() * (flags['kill-max-seconds'] - flags['kill-min-seconds'])) *
          1000;
        const until = Math.min(Date.now() + wait, loadEnd);
        while (loading && Date.now() < until) await sleep(Math.min(500, until - Date.now()));
        if (!loading) return;
        hostUp = false;
        await theHost.kill('SIGKILL');
        counters.kills += 1;
        await sleep(rng.kills() * 2_000);
        await theHost.start();
        counters.restarts += 1;
        hostUp = true;
      }
    })().catch((error: unknown) => {
      fatal = error instanceof Error ? error : new Error(`the host could not be restarted: ${String(error)}`);
      stopped = true;
    });

    // Starts: one run (HTTP or queue) or one JSONL batch, retried until the host takes it.
    let n = 0;
    let starting = 0;
    const startOne = async (number: number) => {
      const r = rng.load;
      const roll = r();
      const entry: Entry =
        roll < flags['batch-share']
          ? 'batch'
          : roll < flags['batch-share'] + flags['queue-share']
            ? 'queue'
            : 'http';
      const pool = entry === 'batch' ? BATCH_WORKFLOWS : WORKFLOWS;
      const workflow = pool[Math.floor(r() * pool.length)] ?? 'ticket-triage';
      const approval = workflow === 'research-report' && r() < flags['approval-share'];
      const decision = approval ? (r() < flags['reject-share'] ? 'reject' : 'approve') : undefined;
      const callback = entry !== 'batch' && r() < flags['callback-share'];
      const callbackUrl = callback ? `${receiverOrigin}/hook/${number}` : undefined;
      const key = `soak-${seed}-${number}`;
      const input = inputFor(workflow, number, approval);
      const track = (id: string) => {
        const run: TrackedRun = { id, workflow, entry, callback, ...(decision ? { decision } : {}) };
        ledger.start(run);
      };
      if (entry === 'batch') {
        const name = `${key}.jsonl`;
        const lines = Array.from({ length: BATCH_ITEMS }, (_, i) =>
          JSON.stringify(inputFor(workflow, number * 100 + i, false)),
        );
        const text = `${lines.join('\n')}\n`;
        await blobs.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
        const message = { workflow, itemsBlob: `batches/${name}`, concurrency: 2, idempotencyKey: key };
        await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
        track(idempotentInstanceId('queue', key, 'batch'));
        return;
      }
      if (entry === 'queue') {
        const message = { workflow, input, idempotencyKey: key, ...(callbackUrl ? { callbackUrl } : {}) };
        await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
        track(idempotentInstanceId('queue', key));
        return;
      }
      for (;;) {
        try {
          const answer = await api(`/api/workflows/${workflow}`, {
            method: 'POST',
            headers: { 'idempotency-key': key, ...(callbackUrl ? { 'callback-url': callbackUrl } : {}) },
            body: JSON.stringify(input),
          });
          const text = await answer.text();
          if (answer.status === 200 || answer.status === 202) {
            track(z.object({ id: z.string() }).parse(JSON.parse(text)).id);
            return;
          }
          if (answer.status < 500)
            throw new Error(`POST /api/workflows/${workflow} answered ${answer.status}: ${text}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('POST ')) throw error;
        }
        counters.startRetries += 1;
        await sleep(500);
      }
    };

    // Polls unfinished runs and answers approvals.
    const poll = async (run: TrackedRun) => {
      let answer: Response;
      try {
        answer = await api(`/api/runs/${encodeURIComponent(run.id)}`);
      } catch {
        return; // host down
      }
      if (answer.status === 404) {
        await answer.body?.cancel();
        // A queue message may not have been picked up yet: only the final check counts it as lost.
        if (run.entry === 'http' || ledger.finished().some((f) => f.id === run.id))
          ledger.observe(run.id, { kind: 'missing' });
        return;
      }
      if (answer.status !== 200) return void (await answer.body?.cancel());
      const view = (await answer.json()) as Json;
      const error = view.error as Json | null;
      ledger.observe(run.id, {
        kind: 'found',
        status: String(view.status),
        outcome: (view.outcome as string | null) ?? null,
        errorKind: (error?.kind as string | undefined) ?? null,
      });
      const cb = view.callback as Json | null;
      if (cb && typeof cb.state === 'string') callbackState.set(run.id, cb.state);
      const progress = view.progress as Json | null;
      if (run.decision && !answered.has(run.id) && progress?.waitingFor) {
        try {
          const action = await api(`/api/runs/${encodeURIComponent(run.id)}/${run.decision}`, {
            method: 'POST',
            body: JSON.stringify({ comment: `soak ${run.decision}` }),
          });
          const text = await action.text();
          if (action.status < 300 || action.status === 409) {
            answered.add(run.id);
            if (run.decision === 'approve') counters.approvals += 1;
            else counters.rejections += 1;
          } else if (action.status < 500) {
            console.log(`  ${run.decision} ${run.id} answered ${action.status}: ${text.slice(0, 200)}`);
            answered.add(run.id);
          }
        } catch {
          // host down: the next poll tries again
        }
      }
    };

    const callbacksSettled = () =>
      [
        ...callbackState.keys(),
        ...ledger
          .finished()
          .filter((r) => r.callback)
          .map((r) => r.id),
      ].every((id) => {
        const run = ledger.get(id);
        return !run?.callback || deliveries.has(id) || callbackState.get(id) === 'failed';
      });

    const progressLine = () => {
      const s = ledger.summary(false).get('total');
      const faults = [...counters.modelFaults.values()].reduce((a, b) => a + b, 0);
      const elapsed = Math.round((Date.now() - t0) / 1000);
      const mmss = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
      console.log(
        `[${mmss}] started ${s?.started ?? 0}, completed ${s?.completed ?? 0}, failed ${(s?.failed_expected ?? 0) + (s?.failed_unexpected ?? 0)}` +
          ` (unexpected ${s?.failed_unexpected ?? 0}), in flight ${s?.running ?? 0}, kills ${counters.kills}, ` +
          `model faults ${faults}/${counters.modelRequests}, callbacks ${deliveries.size} delivered / ${counters.callbackFailed} failed${hostUp ? '' : ', host down'}`,
      );
    };
    let nextProgress = t0 + flags['progress-seconds'] * 1000;

    let lastPoll = 0;
    while (!stopped) {
      const now = Date.now();
      if (loading && now >= loadEnd) {
        loading = false;
        await killer;
        console.log(`load period over; draining (at most ${flags['drain-minutes']} min)`);
      }
      if (loading) {
        const due = Math.floor(((now - t0) / 60_000) * flags.rate) + 1;
        const inFlight = ledger.pending().length + starting;
        if (n < due && inFlight < flags['max-in-flight']) {
          n += 1;
          starting += 1;
          const number = n;
          void startOne(number)
            .catch((error: unknown) => {
              fatal ??= new Error(
                `start ${number} failed: ${error instanceof Error ? error.message : String(error)}`,
              );
              stopped = true;
            })
            .finally(() => (starting -= 1));
        }
      }
      if (now - lastPoll >= POLL_MS && hostUp) {
        lastPoll = now;
        const pending = ledger.pending();
        for (let i = 0; i < pending.length; i += 8)
          await Promise.all(pending.slice(i, i + 8).map((run) => poll(run)));
        // Runs with a callback still to deliver: keep reading their callback state.
        for (const run of ledger.finished())
          if (run.callback && !deliveries.has(run.id) && callbackState.get(run.id) !== 'failed')
            await poll(run);
      }
      if (Date.now() >= nextProgress) {
        progressLine();
        nextProgress += flags['progress-seconds'] * 1000;
      }
      if (!loading && starting === 0) {
        if (ledger.pending().length === 0 && callbacksSettled()) break;
        if (Date.now() >= drainEnd) break;
      }
      await sleep(100);
    }
    if (fatal !== undefined) throw fatal;
    const loadMinutes = (Math.min(Date.now(), loadEnd) - t0) / 60_000;
    const drained = Date.now();

    // Final check: every run is read once more, so a finished run that disappeared counts as lost.
    for (const run of ledger.all()) await poll(run);
    progressLine();

    const poisoned = (await poisonQueue.getProperties()).approximateMessagesCount ?? 0;
    const summary = ledger.summary(true);
    const total = summary.get('total');
    const duplicateCallbacks = deliveries.duplicates();
    const duplicateWrites = writes.duplicates();
    const callbackRuns = ledger.finished().filter((r) => r.callback);
    const undelivered = callbackRuns.filter((r) => !deliveries.has(r.id));
    const faults = [...counters.modelFaults.values()].reduce((a, b) => a + b, 0);
    const pct = (part: number, whole: number) =>
      whole === 0 ? '0.0 %' : `${((100 * part) / whole).toFixed(1)} %`;

    const runTable = [
      ['workflow', 'started', 'completed', 'failed (expected)', 'failed (unexpected)', 'lost'],
      ...[...summary].map(([name, c]) => [
        name,
        String(c.started),
        String(c.completed),
        String(c.failed_expected),
        String(c.failed_unexpected),
        String(c.lost),
      ]),
    ];
    const lost = total?.lost ?? 0;
    const duplicated = duplicateCallbacks.length + duplicateWrites.length;
    const finishedCount =
      (total?.completed ?? 0) + (total?.failed_expected ?? 0) + (total?.failed_unexpected ?? 0);
    const facts = [
      ['measure', 'value'],
      ['seed', String(seed)],
      [
        'load period',
        `${loadMinutes.toFixed(1)} min, then ${((drained - loadEnd) / 1000).toFixed(0)} s drain`,
      ],
      ['runs started (http / queue / batch)', countEntries(ledger)],
      ['runs completed', String(total?.completed ?? 0)],
      ['runs failed as expected', String(total?.failed_expected ?? 0)],
      ['runs failed unexpectedly', String(total?.failed_unexpected ?? 0)],
      ['failures by error kind', [...ledger.failureKinds()].map(([k, v]) => `${k} ${v}`).join(', ') || '-'],
      ['runs lost', String(lost)],
      ['duplicated side effects', String(duplicated)],
      ['host SIGKILLs / restarts', `${counters.kills} / ${counters.restarts}`],
      ['HTTP start retries (host down)', String(counters.startRetries)],
      ['throughput (runs finished / min)', (finishedCount / ((drained - t0) / 60_000)).toFixed(1)],
      ['model requests', String(counters.modelRequests)],
      [
        'model faults injected',
        `${faults} (${pct(faults, counters.modelRequests)}: ${[...counters.modelFaults].map(([k, v]) => `${k} ${v}`).join(', ')})`,
      ],
      ['approvals approved / rejected', `${counters.approvals} / ${counters.rejections}`],
      ['callbacks asked (finished runs)', String(callbackRuns.length)],
      ['callbacks delivered / undelivered', `${deliveries.size} / ${undelivered.length}`],
      [
        'callback attempts / failed by receiver',
        `${counters.callbackAttempts} / ${counters.callbackFailed} (${pct(counters.callbackFailed, counters.callbackAttempts)})`,
      ],
      ['callbacks repeated (same body)', String(deliveries.repeated().length - duplicateCallbacks.length)],
      ['callbacks duplicated (different body)', String(duplicateCallbacks.length)],
      ['callback bad signatures', String(counters.badSignatures)],
      ['queue messages in poison', String(poisoned)],
      ['blob writes (blobs)', `${counters.blobWrites} (${writes.size})`],
      ['blobs rewritten (same bytes)', String(writes.repeated().length - duplicateWrites.length)],
      ['blobs duplicated (different bytes)', String(duplicateWrites.length)],
    ];
    console.log(`\n${formatTable(runTable)}\n\n${formatTable(facts, 'left')}\n`);
    const problems = [
      ...ledger.problems(true),
      ...duplicateCallbacks.map(
        (d) => `callback of ${d.key} delivered ${d.times} times with ${d.distinct} bodies`,
      ),
      ...duplicateWrites.map((d) => `blob ${d.key} written ${d.times} times with ${d.distinct} contents`),
      ...undelivered.map(
        (r) => `callback of ${r.id} not delivered (state ${callbackState.get(r.id) ?? 'unknown'})`,
      ),
    ];
    const repeats = [...deliveries.repeated(), ...writes.repeated()].filter((r) => r.distinct === 1);
    if (repeats.length > 0)
      console.log(
        `Repeated with the same content (at-least-once):\n  ${repeats
          .slice(0, 10)
          .map((r) => `${r.key} ×${r.times}`)
          .join('\n  ')}`,
      );
    if (problems.length > 0) console.log(`Problems:\n  ${problems.slice(0, 50).join('\n  ')}`);
    exitCode = lost > 0 || duplicated > 0 || counters.badSignatures > 0 ? 1 : 0;
    console.log(
      exitCode === 0
        ? 'soak passed: 0 lost, 0 duplicated'
        : `soak FAILED: ${lost} lost, ${duplicated} duplicated, ${counters.badSignatures} bad signatures`,
    );
    return exitCode;
  } finally {
    await host?.kill('SIGTERM');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (exitCode === 0 && !flags['keep-state'] && !flags.state)
      rmSync(stateDir, { recursive: true, force: true });
    else console.log(`state kept in ${stateDir}`);
  }
}

function countEntries(ledger: SoakLedger): string {
  const all = ledger.all();
  const count = (entry: Entry) => all.filter((r) => r.entry === entry).length;
  return `${all.length} (${count('http')} / ${count('queue')} / ${count('batch')})`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
