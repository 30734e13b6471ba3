import { readFileSync, readdirSync } from 'node:fs';
import { JavaScriptSandbox } from '../src/tools/codeExecution/javascriptSandbox.js';
import { PythonSandbox } from '../src/tools/codeExecution/pythonSandbox.js';
import type { EffectiveLimits, SandboxOutcome } from '../src/tools/codeExecution/types.js';

import {
  procCpuMs,
  repeat,
  REPETITIONS,
  toRow,
  type Rep,
  type Row,
  type RowSpec,
  type Table,
} from './measure.js';

/** Benchmarks for run_code's sandboxes; no targets were set, so every row is reported as ok. */
export type { Row } from './measure.js';

const limits: EffectiveLimits = {
  timeoutMs: 5_000,
  memoryMb: 64,
  maxOutputBytes: 64 * 1024,
  maxArtifactBytes: 1024 * 1024,
  maxArtifacts: 5,
};
const JS_WORK = 'let s = 0; for (let i = 0; i < 100000; i++) s += i; s';
const PY_WORK = 's = 0\nfor i in range(100000):\n    s += i\ns';

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Resident memory of this process and all its descendants (threads share the process's RSS). */
function treeRssBytes(root = process.pid): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const pages = Number(fields[21]);
      rss.set(Number(entry), pages * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

function check(out: SandboxOutcome, what: string): void {
  if (!out.ok) throw new Error(`${what} failed: ${out.errorKind} ${out.errorMessage ?? ''}`);
}

const SANDBOX_FOOTNOTE =
  `median of ${REPETITIONS} repetitions, each with a new JavaScript sandbox pool (so "cold" is cold every time). ` +
  'host CPU: /proc/self/stat utime+stime+cutime+cstime (this process with its worker threads, plus the ' +
  'reaped Python sandbox processes; 10 ms resolution) per unit. No durable host runs here, so no wire bytes.';

/** One repetition of every sandbox row, in a fixed order; Python rows are left out when it is unavailable. */
async function sandboxOnce(): Promise<{ reps: Rep[]; python: string | undefined }> {
  const reps: Rep[] = [];
  const js = new JavaScriptSandbox({ poolSize: 4 });
  const timed = async (units: number, body: () => Promise<number>): Promise<Rep> => {
    const cpu = procCpuMs('self', true);
    const value = await body();
    return { value, cpuMs: procCpuMs('self', true) - cpu, units };
  };
  try {
    reps.push(
      await timed(1, async () => {
        const began = performance.now();
        check(await js.run({ code: JS_WORK, files: [], limits }), 'js cold');
        return performance.now() - began;
      }),
    );
    reps.push(
      await timed(30, async () => {
        const warm: number[] = [];
        for (let i = 0; i < 30; i++) {
          const began = performance.now();
          check(await js.run({ code: JS_WORK, files: [], limits }), 'js warm');
          warm.push(performance.now() - began);
        }
        return p50(warm);
      }),
    );
    const py = new PythonSandbox();
    const probe = py.probeSync();
    if (!probe.ok) return { reps, python: probe.reason };
    reps.push(
      await timed(10, async () => {
        const starts: number[] = [];
        for (let i = 0; i < 10; i++) {
          const began = performance.now();
          check(await py.run({ code: 'None', files: [], limits }), 'py start');
          starts.push(performance.now() - began);
        }
        return p50(starts);
      }),
    );
    let peak = treeRssBytes();
    const baseline = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRssBytes())), 10);
    const concurrent = await timed(8, async () => {
      const began = performance.now();
      const mixed = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0
            ? js.run({ code: JS_WORK, files: [], limits })
            : py.run({ code: PY_WORK, files: [], limits }),
        ),
      );
      const wall = performance.now() - began;
      mixed.forEach((out, i) => check(out, `concurrent #${i}`));
      return wall;
    });
    clearInterval(sampler);
    reps.push(concurrent, {
      ...concurrent,
      value: peak / 2 ** 20,
      note: `baseline before ${(baseline / 2 ** 20).toFixed(0)} MB`,
    });
    return { reps, python: undefined };
  } finally {
    await js.close();
  }
}

export async function runSandboxBenchmarks(): Promise<Table> {
  let python: string | undefined;
  const byRow = await repeat(async () => {
    const once = await sandboxOnce();
    python = once.python;
    return once.reps;
  });
  const shown = { target: 'reported', ok: () => true };
  const specs: RowSpec[] = [
    {
      scenario: 'run_code JS: cold start (new worker + WASM compile + runtime), ms',
      digits: 1,
      cpuUnit: 'start',
      ...shown,
    },
    {
      scenario: 'run_code JS: warm run p50 over 30 (fresh WASM instance + runtime per call), ms',
      digits: 1,
      cpuUnit: 'run',
      ...shown,
    },
    {
      scenario: 'run_code Python: sandbox start + trivial run p50 over 10, ms',
      digits: 1,
      cpuUnit: 'run',
      ...shown,
    },
    {
      scenario: 'run_code: 8 concurrent sandboxes (4 JS + 4 Python) total wall, ms',
      digits: 1,
      cpuUnit: 'sandbox',
      ...shown,
    },
    {
      scenario: 'run_code: 8 concurrent sandboxes peak RSS of process tree, MB',
      digits: 0,
      cpuUnit: 'sandbox',
      ...shown,
    },
  ];
  const rows: Row[] = specs.flatMap((spec, i) => (byRow[i] ? [toRow(spec, byRow[i])] : []));
  if (python !== undefined) {
    rows.push({
      scenario: 'run_code Python (bubblewrap)',
      measured: `unavailable: ${python}`,
      target: 'reported',
      ok: false,
    });
  }
  return { title: 'run_code sandboxes', rows, footnote: SANDBOX_FOOTNOTE };
}
