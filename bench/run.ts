import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevHost, type DevHost } from '../devhost/host.js';
import { runEntrypointBenchmarks } from './entrypoints.js';
import {
  costSince,
  printTables,
  repeat,
  REPETITIONS,
  TABLES_PREFIX,
  toRow,
  type Row,
  type Table,
} from './measure.js';
import { runPromptCacheBenchmarks } from './promptCache.js';
import { runSandboxBenchmarks } from './sandbox.js';

/**
 * `npm run bench`: devhost's durable engine here, then the sandbox, agent-workflow, prompt-cache and
 * entry-point benchmarks; every row is a median of REPETITIONS runs (bench/measure.ts), printed beside
 * its target, one table per group with a footnote on what was measured.
 */
const appDir = path.resolve(__dirname, '../../bench/apps/bench-app');

async function waitForCompletion(host: DevHost, ids: string[], timeoutMs: number): Promise<void> {
  const pending = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const status = host.backend.getStatus(id);
      if (status?.runtimeStatus === 'Completed') pending.delete(id);
      else if (status && ['Failed', 'Terminated'].includes(status.runtimeStatus)) {
        throw new Error(`${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out with ${pending.size} instances pending`);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

function startInstance(host: DevHost, name: string, input: unknown, instanceId: string): string {
  const outcome = host.backend.start({ orchestratorName: name, input, instanceId });
  if (outcome.kind !== 'started') throw new Error(`could not start ${name}: ${outcome.kind}`);
  return outcome.instanceId;
}

async function sequenceScenario(host: DevHost): Promise<Row[]> {
  const steps = 200;
  const reps = await repeat(async (rep) => {
    const cost = costSince(host);
    const began = performance.now();
    const id = startInstance(host, 'sequence200', steps, `bench-sequence-${rep}`);
    await waitForCompletion(host, [id], 120_000);
    const total = performance.now() - began;
    const spent = { ...cost(), units: steps };
    // When each step's activity ran (epoch ms), as the sequence returns them: step k is stamps[k - 1].
    const stamps = host.backend.getStatus(id)?.output as number[];
    const at = (k: number) => stamps[k - 1] ?? NaN;
    const window = (k: number) => (at(k) - at(k - 5)) / 5;
    const growth = window(200) / window(10);
    return [
      {
        value: growth,
        note: `ms/step around step 10 / 100 / 200: ${window(10).toFixed(2)} / ${window(100).toFixed(2)} / ${window(200).toFixed(2)}`,
        ...spent,
      },
      { value: total / steps, ...spent },
    ];
  });
  return [
    toRow(
      {
        scenario: '(a) 200-step sequence: growth of ms/step from step 10 to 200',
        target: 'shown',
        digits: 2,
        ok: () => true,
        cpuUnit: 'step',
      },
      reps[0] ?? [],
    ),
    toRow(
      {
        scenario: '(a) 200-step sequence: average ms/step',
        target: '≤ 2',
        digits: 2,
        ok: (m) => m <= 2,
        cpuUnit: 'step',
      },
      reps[1] ?? [],
    ),
  ];
}

async function fanOutScenario(host: DevHost): Promise<Row[]> {
  const n = 2000;
  const [reps = []] = await repeat(async (rep) => {
    const cost = costSince(host);
    const began = performance.now();
    const id = startInstance(host, 'fanOut', n, `bench-fanout-${rep}`);
    await waitForCompletion(host, [id], 120_000);
    return [{ value: n / ((performance.now() - began) / 1000), ...cost(), units: n }];
  });
  return [
    toRow(
      {
        scenario: '(b) fan-out of 2,000 no-op activities: activities/s',
        target: '≥ 1,500',
        digits: 0,
        ok: (m) => m >= 1500,
        cpuUnit: 'activity',
      },
      reps,
    ),
  ];
}

async function manyInstancesScenario(host: DevHost): Promise<Row[]> {
  const n = 500;
  const reps = await repeat(async (rep) => {
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);
    const cost = costSince(host);
    const began = performance.now();
    const ids = Array.from({ length: n }, (_, i) => `bench-many-${rep}-${i}`);
    const responses = await Promise.all(
      ids.map((id) =>
        fetch(`${host.url}/durabletask/orchestrators/fiveSteps/${id}`, { method: 'POST', body: '0' }),
      ),
    );
    if (responses.some((r) => r.status !== 202)) throw new Error('a start request failed');
    await waitForCompletion(host, ids, 120_000);
    const runsPerSecond = n / ((performance.now() - began) / 1000);
    clearInterval(sampler);
    const spent = { ...cost(), units: n };
    return [
      { value: runsPerSecond, ...spent },
      { value: peakRss / 1024 / 1024, ...spent },
    ];
  });
  return [
    toRow(
      {
        scenario: '(c) 500 instances × 5 activities: runs/s',
        target: '≥ 150',
        digits: 0,
        ok: (m) => m >= 150,
        cpuUnit: 'run',
      },
      reps[0] ?? [],
    ),
    toRow(
      {
        scenario: '(c) peak RSS of the host process (MB)',
        target: '< 500',
        digits: 0,
        ok: (m) => m < 500,
        cpuUnit: 'run',
      },
      reps[1] ?? [],
    ),
  ];
}

function agentWorkflowTables(): Table[] {
  const output = execFileSync(process.execPath, [path.join(__dirname, 'agents.js')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = output.split('\n').find((l) => l.startsWith(TABLES_PREFIX));
  if (!line) throw new Error(`agent benchmarks printed no ${TABLES_PREFIX.trim()} line:\n${output}`);
  return JSON.parse(line.slice(TABLES_PREFIX.length)) as Table[];
}

const ENGINE_FOOTNOTE =
  `median of ${REPETITIONS} repetitions on one host (min–max beside it). host CPU: process.cpuUsage() of ` +
  'this one process over each repetition, which holds the devhost (HTTP, engine, SQLite), its language ' +
  "worker thread and the bench's own polling; (c)'s 500 start requests also come from it. real worker " +
  'bytes/episode: replay payload in / orchestrator answer out, with every stored input the Durable ' +
  'extension resends (devhost/durable/wireMeter.ts), in KiB of JSON text; "devhost" is what it actually ' +
  'sent, leaving out inputs durable-functions never reads.';

async function main(): Promise<void> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'devhost-bench-'));
  const host = await startDevHost({ appDir, port: 0, stateDir, azurite: 'off', log: () => {} });
  const engineRows: Row[] = [];
  try {
    for (const scenario of [sequenceScenario, fanOutScenario, manyInstancesScenario]) {
      process.stdout.write(`running ${scenario.name} ×${REPETITIONS}…\n`);
      engineRows.push(...(await scenario(host)));
    }
  } finally {
    await host.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const tables: Table[] = [
    { title: 'Durable engine (devhost, bench app)', rows: engineRows, footnote: ENGINE_FOOTNOTE },
  ];
  let failed = false;
  // A group that fails is reported as a row, and the tables measured before and after it still print.
  const group = async (title: string, run: () => Promise<Table | Table[]>): Promise<void> => {
    process.stdout.write(`running ${title} ×${REPETITIONS}…\n`);
    try {
      const result = await run();
      tables.push(...(Array.isArray(result) ? result : [result]));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${title} failed: ${message}\n`);
      failed = true;
      tables.push({
        title,
        rows: [
          { scenario: title, measured: `failed: ${message.split('\n')[0] ?? ''}`, target: '', ok: false },
        ],
        footnote: 'the group failed; its error is printed above',
      });
    }
  };
  // `--only engine` prints the durable engine table alone.
  if (process.argv.includes('--only')) {
    printTables(tables, (text) => process.stdout.write(text));
    return;
  }
  await group('sandbox benchmarks', runSandboxBenchmarks);
  await group('agent workflow benchmarks (own process: a process hosts one app)', () =>
    Promise.resolve(agentWorkflowTables()),
  );
  await group('prompt cache benchmarks', runPromptCacheBenchmarks);
  await group('entry-point benchmarks (own process)', runEntrypointBenchmarks);
  printTables(tables, (text) => process.stdout.write(text));
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
