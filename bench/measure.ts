/**
 * How every `npm run bench` row is measured and printed: each scenario runs `REPETITIONS` times, the
 * row shows the median with the min–max, the host CPU per unit of work beside it, and, where a durable
 * host ran, the bytes per orchestrator episode the real Functions worker would exchange with the Durable
 * extension (devhost/durable/wireMeter.ts: every stored input added back). Each table ends with a
 * footnote saying what was measured.
 */
import { readFileSync } from 'node:fs';
import type { WireTotals } from '../devhost/durable/wireMeter.js';

export const REPETITIONS = 3;

/** How a child process hands its tables to bench/run.ts: one stdout line, this prefix, then JSON. */
export const TABLES_PREFIX = 'TABLES ';

export interface Row {
  scenario: string;
  /** The median and min–max over the repetitions, and notes from the median repetition. */
  measured: string;
  target: string;
  ok: boolean;
  /** Host CPU per unit of work (median over the repetitions), or why there is none. */
  cpu?: string;
  /** Orchestrator channel bytes per episode as the real worker would exchange them (median repetition). */
  wire?: string;
}

export interface Table {
  title: string;
  rows: Row[];
  /** What was measured: which processes' CPU, what the unit is, what the wire figure counts. */
  footnote: string;
}

/** One repetition of one row. */
export interface Rep {
  value: number;
  /** Text shown after the range, from the repetition whose value is the median. */
  note?: string;
  /** Host CPU time used by the repetition, and the units of work it did (CPU is shown per unit). */
  cpuMs?: number;
  units?: number;
  /** The orchestrator channel totals over the repetition (`wireDelta`). */
  wire?: WireTotals;
}

export interface RowSpec {
  scenario: string;
  target: string;
  /** Digits after the point for the value. */
  digits: number;
  /** Judged on the median. */
  ok: (median: number) => boolean;
  /** Names the unit CPU is counted per, e.g. `step` gives "0.8 ms/step". */
  cpuUnit?: string;
  /** Printed instead of a CPU figure, saying why there is none. */
  noCpu?: string;
}

/** Runs `once` REPETITIONS times, one after the other; each call returns one Rep per row. */
export async function repeat(once: (rep: number) => Promise<Rep[]>): Promise<Rep[][]> {
  const byRow: Rep[][] = [];
  for (let rep = 0; rep < REPETITIONS; rep++) {
    const reps = await once(rep);
    reps.forEach((r, i) => (byRow[i] ??= []).push(r));
  }
  return byRow;
}

/** The median of an odd-length list, or the lower middle value of an even one. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

function medianRep(reps: readonly Rep[]): Rep | undefined {
  const m = median(reps.map((r) => r.value));
  return reps.find((r) => r.value === m);
}

const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : String(value);

export function kib(chars: number): string {
  return chars >= 1024 * 1024
    ? `${(chars / 1024 / 1024).toFixed(2)} MiB`
    : chars >= 10 * 1024
      ? `${(chars / 1024).toFixed(0)} KiB`
      : `${(chars / 1024).toFixed(1)} KiB`;
}

/** `in / out per episode` as the real worker would exchange them, then what devhost itself exchanged. */
export function wirePerEpisode(wire: WireTotals | undefined): string | undefined {
  if (wire === undefined || wire.episodes === 0) return undefined;
  const per = (chars: number) => kib(chars / wire.episodes);
  return (
    `${per(wire.extensionSentChars)} in / ${per(wire.extensionReceivedChars)} out ` +
    `(${wire.episodes} episodes; devhost sent ${per(wire.sentChars)} / got ${per(wire.receivedChars)})`
  );
}

/** The row of `spec` from its repetitions: median (min–max), CPU per unit, wire per episode. */
export function toRow(spec: RowSpec, reps: readonly Rep[]): Row {
  const values = reps.map((r) => r.value);
  const m = median(values);
  const mid = medianRep(reps);
  const range = `${fixed(Math.min(...values), spec.digits)}–${fixed(Math.max(...values), spec.digits)}`;
  const cpuValues = reps.flatMap((r) =>
    r.cpuMs !== undefined && r.units !== undefined && r.units > 0 ? [r.cpuMs / r.units] : [],
  );
  const cpu =
    spec.noCpu ??
    (cpuValues.length > 0 && spec.cpuUnit !== undefined
      ? `${fixed(median(cpuValues), median(cpuValues) < 10 ? 2 : 1)} ms/${spec.cpuUnit}`
      : undefined);
  const wire = wirePerEpisode(mid?.wire);
  return {
    scenario: spec.scenario,
    measured: `${fixed(m, spec.digits)} (${range}, n=${reps.length})${mid?.note ? `; ${mid.note}` : ''}`,
    target: spec.target,
    ok: spec.ok(m),
    ...(cpu !== undefined ? { cpu } : {}),
    ...(wire !== undefined ? { wire } : {}),
  };
}

export function wireDelta(before: WireTotals, after: WireTotals): WireTotals {
  return {
    episodes: after.episodes - before.episodes,
    sentChars: after.sentChars - before.sentChars,
    receivedChars: after.receivedChars - before.receivedChars,
    extensionSentChars: after.extensionSentChars - before.extensionSentChars,
    extensionReceivedChars: after.extensionReceivedChars - before.extensionReceivedChars,
  };
}

/**
 * Starts counting what a stretch of a benchmark costs the host running in this process: CPU (every
 * thread) and the orchestrator channel; call the result at the end of the stretch.
 */
export function costSince(host: { wireTotals(): WireTotals }): () => { cpuMs: number; wire: WireTotals } {
  const cpu = process.cpuUsage();
  const wire = host.wireTotals();
  return () => ({ cpuMs: cpuMsSince(cpu), wire: wireDelta(wire, host.wireTotals()) });
}

/** CPU milliseconds of this process (every thread: the host and its language workers) since `since`. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** Clock ticks per second of /proc's times: USER_HZ, 100 on Linux (`getconf CLK_TCK`). */
const USER_HZ = 100;

/**
 * CPU milliseconds of a process from /proc/<pid>/stat (proc(5)): utime + stime, plus cutime + cstime
 * (its children that it has waited for) with `withChildren`. 10 ms resolution. NaN when not readable.
 */
export function procCpuMs(pid: number | 'self', withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime field 14.
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const [utime = NaN, stime = NaN, cutime = NaN, cstime = NaN] = fields.slice(11, 15);
    return ((utime + stime + (withChildren ? cutime + cstime : 0)) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

export function printTables(tables: readonly Table[], write: (text: string) => void): void {
  const all = tables.flatMap((t) => t.rows);
  const w = {
    scenario: Math.max(8, ...all.map((r) => r.scenario.length)),
    measured: Math.max(8, ...all.map((r) => r.measured.length)),
    cpu: Math.max(8, ...all.map((r) => (r.cpu ?? '—').length)),
    wire: Math.max(8, ...all.map((r) => (r.wire ?? '—').length)),
  };
  for (const table of tables) {
    write(`\n${table.title}\n`);
    write(
      `${'scenario'.padEnd(w.scenario)}  ${'median (min–max)'.padEnd(w.measured)}  ${'host CPU'.padEnd(w.cpu)}  ` +
        `${'real worker bytes/episode'.padEnd(w.wire)}  target\n`,
    );
    for (const row of table.rows) {
      write(
        `${row.scenario.padEnd(w.scenario)}  ${row.measured.padEnd(w.measured)}  ${(row.cpu ?? '—').padEnd(w.cpu)}  ` +
          `${(row.wire ?? '—').padEnd(w.wire)}  ${row.target}${row.ok ? '' : '  (MISSED)'}\n`,
      );
    }
    write(`  * ${table.footnote}\n`);
  }
}
