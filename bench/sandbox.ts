import { readFileSync, readdirSync } from 'node:fs';
import { JavaScriptSandbox } from '../src/tools/codeExecution/javascriptSandbox.js';
import { PythonSandbox } from '../src/tools/codeExecution/pythonSandbox.js';
import type { EffectiveLimits, SandboxOutcome } from '../src/tools/codeExecution/types.js';

/** Benchmarks for run_code's sandboxes; no targets were set, so every row is reported as ok. */
export interface Row {
  scenario: string;
  measured: string;
  target: string;
  ok: boolean;
}

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

export async function runSandboxBenchmarks(): Promise<Row[]> {
  const rows: Row[] = [];
  const row = (scenario: string, measured: string) =>
    rows.push({ scenario, measured, target: 'reported', ok: true });

  const js = new JavaScriptSandbox({ poolSize: 4 });
  try {
    let began = performance.now();
    check(await js.run({ code: JS_WORK, files: [], limits }), 'js cold');
    row(
      'run_code JS: cold start (new worker + WASM compile + runtime), ms',
      (performance.now() - began).toFixed(1),
    );
    const warm: number[] = [];
    for (let i = 0; i < 30; i++) {
      began = performance.now();
      check(await js.run({ code: JS_WORK, files: [], limits }), 'js warm');
      warm.push(performance.now() - began);
    }
    row(
      'run_code JS: warm run p50 over 30 (fresh WASM instance + runtime per call), ms',
      p50(warm).toFixed(1),
    );

    const py = new PythonSandbox();
    const probe = py.probeSync();
    if (!probe.ok) {
      rows.push({
        scenario: 'run_code Python (bubblewrap)',
        measured: `unavailable: ${probe.reason}`,
        target: 'reported',
        ok: false,
      });
      return rows;
    }
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) {
      began = performance.now();
      check(await py.run({ code: 'None', files: [], limits }), 'py start');
      starts.push(performance.now() - began);
    }
    row('run_code Python: sandbox start + trivial run p50 over 10, ms', p50(starts).toFixed(1));

    let peak = treeRssBytes();
    const baseline = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRssBytes())), 10);
    began = performance.now();
    const mixed = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? js.run({ code: JS_WORK, files: [], limits })
          : py.run({ code: PY_WORK, files: [], limits }),
      ),
    );
    const wall = performance.now() - began;
    clearInterval(sampler);
    mixed.forEach((out, i) => check(out, `concurrent #${i}`));
    row('run_code: 8 concurrent sandboxes (4 JS + 4 Python) total wall, ms', wall.toFixed(1));
    row(
      'run_code: 8 concurrent sandboxes peak RSS of process tree, MB (baseline before)',
      `${(peak / 2 ** 20).toFixed(0)} (${(baseline / 2 ** 20).toFixed(0)})`,
    );
    return rows;
  } finally {
    await js.close();
  }
}
