import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevHost, type DevHost } from '../devhost/host.js';
import { runEntrypointBenchmarks } from './entrypoints.js';
import { runPromptCacheBenchmarks } from './promptCache.js';
import { runSandboxBenchmarks, type Row } from './sandbox.js';

/** Benchmarks for devhost's durable engine; figures are printed side by side with their targets. */
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
  const began = performance.now();
  const id = startInstance(host, 'sequence200', steps, 'bench-sequence');
  await waitForCompletion(host, [id], 120_000);
  const total = performance.now() - began;
  // When each step's activity ran (epoch ms), as the sequence returns them: step k is stamps[k - 1].
  const stamps = host.backend.getStatus(id)?.output as number[];
  const at = (k: number) => stamps[k - 1] ?? NaN;
  const stepMs = (k: number) => at(k) - at(k - 1);
  const window = (k: number) => (at(k) - at(k - 5)) / 5;
  const average = total / steps;
  return [
    {
      scenario: '(a) 200-step sequence: ms/step around step 10 / 100 / 200',
      measured: `${window(10).toFixed(2)} / ${window(100).toFixed(2)} / ${window(200).toFixed(2)} (growth 10→200: ${(window(200) / window(10)).toFixed(2)}x; last step ${stepMs(200).toFixed(2)})`,
      target: 'shown',
      ok: true,
    },
    {
      scenario: '(a) 200-step sequence: average ms/step',
      measured: average.toFixed(2),
      target: '≤ 2',
      ok: average <= 2,
    },
  ];
}

async function fanOutScenario(host: DevHost): Promise<Row[]> {
  const n = 2000;
  const began = performance.now();
  const id = startInstance(host, 'fanOut', n, 'bench-fanout');
  await waitForCompletion(host, [id], 120_000);
  const perSecond = n / ((performance.now() - began) / 1000);
  return [
    {
      scenario: '(b) fan-out of 2,000 no-op activities: activities/s',
      measured: perSecond.toFixed(0),
      target: '≥ 1,500',
      ok: perSecond >= 1500,
    },
  ];
}

async function manyInstancesScenario(host: DevHost): Promise<Row[]> {
  const n = 500;
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);
  const began = performance.now();
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${host.url}/durabletask/orchestrators/fiveSteps/bench-many-${i}`, { method: 'POST', body: '0' }),
    ),
  );
  const ids = responses.map((_, i) => `bench-many-${i}`);
  if (responses.some((r) => r.status !== 202)) throw new Error('a start request failed');
  await waitForCompletion(host, ids, 120_000);
  const runsPerSecond = n / ((performance.now() - began) / 1000);
  clearInterval(sampler);
  const rssMb = peakRss / 1024 / 1024;
  return [
    {
      scenario: '(c) 500 instances × 5 activities: runs/s',
      measured: runsPerSecond.toFixed(0),
      target: '≥ 150',
      ok: runsPerSecond >= 150,
    },
    {
      scenario: '(c) peak RSS of the host process (MB)',
      measured: rssMb.toFixed(0),
      target: '< 500',
      ok: rssMb < 500,
    },
  ];
}

function agentWorkflowRows(): Row[] {
  const output = execFileSync(process.execPath, [path.join(__dirname, 'agents.js')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = output.split('\n').find((l) => l.startsWith('ROWS '));
  if (!line) throw new Error(`agent benchmarks printed no ROWS line:\n${output}`);
  return JSON.parse(line.slice('ROWS '.length)) as Row[];
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'devhost-bench-'));
  const host = await startDevHost({ appDir, port: 0, stateDir, azurite: 'off', log: () => {} });
  const rows: Row[] = [];
  try {
    for (const scenario of [sequenceScenario, fanOutScenario, manyInstancesScenario]) {
      process.stdout.write(`running ${scenario.name}…\n`);
      rows.push(...(await scenario(host)));
    }
  } finally {
    await host.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  process.stdout.write('running sandbox benchmarks…\n');
  rows.push(...(await runSandboxBenchmarks()));
  process.stdout.write('running agent workflow benchmarks (own process: a process hosts one app)…\n');
  rows.push(...agentWorkflowRows());
  rows.push(...(await runPromptCacheBenchmarks()));
  process.stdout.write('running entry-point benchmarks (own process)…\n');
  rows.push(...(await runEntrypointBenchmarks()));
  const width = Math.max(...rows.map((r) => r.scenario.length));
  process.stdout.write(`\n${'scenario'.padEnd(width)}  ${'measured'.padEnd(40)}  target\n`);
  for (const row of rows) {
    process.stdout.write(
      `${row.scenario.padEnd(width)}  ${row.measured.padEnd(40)}  ${row.target}${row.ok ? '' : '  (MISSED)'}\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
