import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SIZES, type WorkloadName } from './common.js';
import { cpuSeconds, processTree, residentBytes } from './procstat.js';
import type { FromWorker, ToWorker } from './worker.js';

/**
 * npm run bench:peers — the same workloads on durable-agents (devhost) and on each peer engine, one
 * engine at a time on this machine, each in a fresh worker process. See bench/README.md.
 */
const USAGE = `Usage: npm run bench:peers -- [options]

  --reps <n>            repetitions per workload, the table shows the median (default 3)
  --quick               one repetition
  --engines <a,b,...>   only these engines (durable-agents, restate, dbos, langgraph)
  --profile <workload>  durable-agents only: run <workload> (sequence, fanOut, many, agent) under
                        --cpu-prof and print the top self-time functions of each thread
  -h, --help            this text`;

const ENGINES = ['durable-agents', 'restate', 'dbos', 'langgraph'] as const;
const PEERS = ENGINES.filter((e) => e !== 'durable-agents');
const WORKLOADS: WorkloadName[] = ['sequence', 'fanOut', 'many', 'agent'];
const NOT_MEASURED = [
  'temporal: not measured: its dev server (temporal CLI `server start-dev`) downloads the server binary at run time; no npm package ships it',
  'inngest: not measured: its dev server (inngest-cli) downloads its binary at run time (npm postinstall); no npm package ships it',
];

interface Sample {
  wallMs: number;
  cpuS: number;
  peakMb: number;
  stamps?: number[];
}
interface EngineRun {
  versions: Record<string, string>;
  failure?: string;
  samples: Partial<Record<WorkloadName, Sample[]>>;
  errors: string[];
}

// ---- the loopback fake model: answers every request after SIZES.modelLatencyMs ----

function startFakeModel(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'chatcmpl-bench',
            object: 'chat.completion',
            model: 'fake',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
          }),
        );
      }, SIZES.modelLatencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- one engine in its worker process ----

class Worker {
  readonly child: ChildProcess;
  #waiters: ((m: FromWorker) => void)[] = [];
  #exit: Promise<void>;

  constructor(engine: string, execArgv: string[]) {
    this.child = fork(path.join(__dirname, 'worker.js'), [engine], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Engines log at warning level, as the durable-agents host does here (log: () => {}): the Restate
      // SDK logs two lines per invocation at its default INFO (RESTATE_LOGGING, read once at load).
      env: { RESTATE_LOGGING: 'WARN', ...process.env },
    });
    this.child.on('message', (m: FromWorker) => this.#waiters.shift()?.(m));
    this.#exit = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', (code) => {
      for (const w of this.#waiters.splice(0)) w({ type: 'failed', message: `worker exited (code ${code})` });
    });
  }

  next(timeoutMs: number): Promise<FromWorker> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ type: 'error', message: `no answer within ${timeoutMs / 1000} s` }),
        timeoutMs,
      );
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  send(message: ToWorker): void {
    this.child.send(message);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) {
      const tree = processTree(this.child.pid!);
      this.send({ type: 'stop' });
      const stopped = await Promise.race([this.#exit.then(() => true), sleep(30_000).then(() => false)]);
      if (!stopped) {
        // Only processes this run started: the worker and its descendants.
        for (const pid of tree.reverse()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    }
    await this.#exit;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one workload in the worker, measuring CPU of the worker's process tree and its peak PSS. */
async function measure(worker: Worker, message: Extract<ToWorker, { type: 'run' }>): Promise<Sample> {
  const pid = worker.child.pid!;
  let tree = processTree(pid);
  const cpuBefore = cpuSeconds(tree);
  let peak = residentBytes(tree);
  const sampler = setInterval(() => {
    tree = processTree(pid);
    peak = Math.max(peak, residentBytes(tree));
  }, 50);
  worker.send(message);
  const answer = await worker.next(600_000);
  clearInterval(sampler);
  tree = processTree(pid);
  const cpuS = cpuSeconds(tree) - cpuBefore;
  if (answer.type !== 'result')
    throw new Error('message' in answer ? answer.message : `unexpected ${answer.type}`);
  return { wallMs: answer.wallMs, cpuS, peakMb: peak / 1024 / 1024, stamps: answer.stamps };
}

async function runEngine(
  engine: string,
  reps: number,
  modelUrl: string,
  only?: WorkloadName,
  execArgv: string[] = [],
): Promise<EngineRun> {
  const run: EngineRun = { versions: {}, samples: {}, errors: [] };
  process.stdout.write(`\n${engine}: starting…\n`);
  const worker = new Worker(engine, execArgv);
  const ready = await worker.next(300_000);
  if (ready.type !== 'ready') {
    run.failure = 'message' in ready ? ready.message : `unexpected ${ready.type}`;
    process.stdout.write(`${engine}: could not start: ${run.failure}\n`);
    await worker.stop();
    return run;
  }
  run.versions = ready.versions;
  try {
    for (const workload of only ? [only] : WORKLOADS) {
      try {
        // Warm-up at a tenth of the size: JIT, connection pools and first-use tables, for every engine alike.
        await measure(worker, { type: 'run', workload, runId: `warm-${workload}`, scale: 0.1, modelUrl });
        for (let rep = 1; rep <= reps; rep++) {
          const sample = await measure(worker, {
            type: 'run',
            workload,
            runId: `${workload}-${rep}`,
            scale: 1,
            modelUrl,
          });
          (run.samples[workload] ??= []).push(sample);
          process.stdout.write(
            `${engine}: ${workload} #${rep}: ${sample.wallMs.toFixed(0)} ms wall, ${sample.cpuS.toFixed(2)} s CPU, peak ${sample.peakMb.toFixed(0)} MB\n`,
          );
        }
      } catch (error) {
        const message = `${workload}: ${error instanceof Error ? error.message : String(error)}`;
        run.errors.push(message);
        process.stdout.write(`${engine}: ${message}\n`);
      }
    }
  } finally {
    await worker.stop();
  }
  return run;
}

// ---- the table ----

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Interval before step k (1-based) is stamps[k-1] - stamps[k-2]; growth = median around 200 / around 10. */
function growth(stamps: number[]): number {
  const interval = (k: number) => stamps[k - 1]! - stamps[k - 2]!;
  const around = (from: number, to: number) =>
    median(Array.from({ length: to - from + 1 }, (_, i) => interval(from + i)));
  const n = stamps.length;
  return around(n - 9, n) / around(6, 15);
}

interface RowSpec {
  label: string;
  /** 'flat': closer to 1 is better, and anything up to 1 counts as flat (a faster end is noise). */
  better: 'lower' | 'higher' | 'flat';
  digits: number;
  /** One value per repetition of the workload. */
  values(samples: Partial<Record<WorkloadName, Sample[]>>): number[] | undefined;
  goal?: { text: string; met: (v: number) => boolean };
}

const per =
  (w: WorkloadName, f: (s: Sample) => number) => (samples: Partial<Record<WorkloadName, Sample[]>>) =>
    samples[w]?.map(f);

const ROWS: RowSpec[] = [
  {
    label: '(a) 200-step sequence: ms/step',
    better: 'lower',
    digits: 2,
    values: per('sequence', (s) => s.wallMs / SIZES.sequenceSteps),
    goal: { text: '≤ 1', met: (v) => v <= 1 },
  },
  {
    label: '(a) growth, step 10 → step 200',
    better: 'flat',
    digits: 2,
    values: per('sequence', (s) => growth(s.stamps ?? [])),
    goal: { text: '≤ 1.3', met: (v) => v <= 1.3 },
  },
  {
    label: '(b) fan-out 2,000: steps/s',
    better: 'higher',
    digits: 0,
    values: per('fanOut', (s) => SIZES.fanOutWidth / (s.wallMs / 1000)),
    goal: { text: '≥ 10,000', met: (v) => v >= 10_000 },
  },
  {
    label: '(c) 500 × 5 at once: runs/s',
    better: 'higher',
    digits: 0,
    values: per('many', (s) => SIZES.manyRuns / (s.wallMs / 1000)),
    goal: { text: '≥ 600', met: (v) => v >= 600 },
  },
  {
    label: '(c) peak memory, all processes (MB PSS)',
    better: 'lower',
    digits: 0,
    values: per('many', (s) => s.peakMb),
    goal: { text: '< 300', met: (v) => v < 300 },
  },
  {
    label: '(d) 100 agents × 10 calls of 50 ms: wall ÷ ideal',
    better: 'lower',
    digits: 2,
    values: per('agent', (s) => s.wallMs / (SIZES.agentCalls * SIZES.modelLatencyMs)),
  },
  {
    label: '(e) CPU s per 1,000 steps: (a) sequence',
    better: 'lower',
    digits: 2,
    values: per('sequence', (s) => (s.cpuS / SIZES.sequenceSteps) * 1000),
  },
  {
    label: '(e) CPU s per 1,000 steps: (b) fan-out',
    better: 'lower',
    digits: 2,
    values: per('fanOut', (s) => (s.cpuS / SIZES.fanOutWidth) * 1000),
  },
  {
    label: '(e) CPU s per 1,000 steps: (c) 500 × 5',
    better: 'lower',
    digits: 2,
    values: per('many', (s) => (s.cpuS / (SIZES.manyRuns * SIZES.manySteps)) * 1000),
  },
];

function formatValue(xs: number[] | undefined, digits: number): string {
  if (!xs || xs.length === 0 || xs.some((x) => !Number.isFinite(x))) return '—';
  const f = (x: number) =>
    x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (xs.length === 1) return f(xs[0]!);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

function printTable(runs: Map<string, EngineRun>): void {
  const engines = [...runs.keys()];
  const header = ['workload', ...engines, 'vs best peer', 'goal'];
  const lines: string[][] = [];
  for (const row of ROWS) {
    const cells = engines.map((e) => formatValue(row.values(runs.get(e)!.samples), row.digits));
    const ours = row.values(runs.get('durable-agents')?.samples ?? {});
    const oursMedian = ours && ours.length > 0 ? median(ours) : NaN;
    const peerMedians = engines
      .filter((e) => e !== 'durable-agents')
      .map((e) => row.values(runs.get(e)!.samples))
      .filter((xs): xs is number[] => !!xs && xs.length > 0)
      .map(median)
      .filter(Number.isFinite);
    let verdict = '—';
    if (Number.isFinite(oursMedian) && peerMedians.length > 0) {
      // Scores where higher is better; the verdict gives how many times better the winner is.
      const score = (v: number) =>
        row.better === 'higher' ? v : 1 / (row.better === 'flat' ? Math.max(1, v) : v);
      const best = Math.max(...peerMedians.map(score));
      const ours = score(oursMedian);
      verdict = ours >= best ? `ahead ${(ours / best).toFixed(2)}×` : `BEHIND ${(best / ours).toFixed(2)}×`;
    }
    let goal = '';
    if (row.goal) {
      goal = Number.isFinite(oursMedian)
        ? `${row.goal.text}: ${row.goal.met(oursMedian) ? 'met' : 'MISSED'}`
        : row.goal.text;
    }
    lines.push([row.label, ...cells, verdict, goal]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${fmt(header)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const l of lines) process.stdout.write(`${fmt(l)}\n`);
}

// ---- --profile: where devhost's time goes ----

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function summariseProfiles(dir: string): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      nodes: ProfileNode[];
      samples: number[];
      timeDeltas: number[];
    };
    const totalUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
    const perSample = totalUs / Math.max(1, profile.samples.length);
    const byFunction = new Map<string, number>();
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url
        ? `${url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '~/')}:${lineNumber + 1}`
        : '';
      const key = `${functionName || '(anonymous)'} ${where}`.trim();
      byFunction.set(key, (byFunction.get(key) ?? 0) + (node.hitCount ?? 0) * perSample);
    }
    const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
    process.stdout.write(`\nprofile ${file}: ${(totalUs / 1e6).toFixed(2)} s sampled; top self time:\n`);
    for (const [key, us] of top) {
      process.stdout.write(
        `  ${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`,
      );
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string' },
      quick: { type: 'boolean' },
      engines: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const reps = values.quick ? 1 : Number(values.reps ?? 3);
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`--reps must be a whole number ≥ 1, got "${values.reps}"`);
  const engines = values.engines ? values.engines.split(',').map((e) => e.trim()) : [...ENGINES];
  const unknown = engines.filter((e) => !(ENGINES as readonly string[]).includes(e));
  if (unknown.length > 0)
    throw new Error(`unknown engine(s) ${unknown.join(', ')}; known: ${ENGINES.join(', ')}`);
  const profile = values.profile as WorkloadName | undefined;
  if (profile !== undefined && !WORKLOADS.includes(profile)) {
    throw new Error(`--profile takes one of ${WORKLOADS.join(', ')}, got "${profile}"`);
  }

  const model = await startFakeModel();
  const modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1/chat/completions`;
  try {
    if (profile) {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-peers-profile-'));
      await runEngine('durable-agents', reps, modelUrl, profile, ['--cpu-prof', '--cpu-prof-dir', dir]);
      summariseProfiles(dir);
      process.stdout.write(`\nprofiles kept in ${dir} (open in Chrome DevTools → Performance)\n`);
      return;
    }
    const runs = new Map<string, EngineRun>();
    for (const engine of engines) runs.set(engine, await runEngine(engine, reps, modelUrl));

    process.stdout.write(
      `\nbench:peers — ${reps === 1 ? 'one repetition' : `median (min–max) of ${reps} repetitions`}, one engine at a time, ` +
        `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}.\n` +
        'Absolute figures move with the machine and its load; the ratios between engines measured in this run are the comparison.\n',
    );
    printTable(runs);
    process.stdout.write('\nversions:\n');
    for (const [engine, run] of runs) {
      const v = Object.entries(run.versions).map(([k, x]) => `${k} ${x}`);
      process.stdout.write(`  ${engine}: ${v.length > 0 ? v.join(', ') : '(did not start)'}\n`);
    }
    process.stdout.write('\nnot measured / failed:\n');
    for (const [engine, run] of runs) {
      if (run.failure) process.stdout.write(`  ${engine}: could not run: ${run.failure}\n`);
      for (const e of run.errors) process.stdout.write(`  ${engine}: ${e}\n`);
    }
    for (const peer of PEERS.filter((p) => !engines.includes(p)))
      process.stdout.write(`  ${peer}: not selected (--engines)\n`);
    for (const line of NOT_MEASURED) process.stdout.write(`  ${line}\n`);
  } finally {
    model.close();
    model.closeAllConnections();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:peers failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
