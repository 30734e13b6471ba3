/**
 * The soak test's bookkeeping (scripts/soak.ts): which runs it started, how each ended, and every side
 * effect it saw (callback deliveries, blob writes), turned into the counts of its table. Pure, so the
 * lost and duplicate detection is tested on synthetic inputs (test/unit/soakAccounting.test.ts).
 */
import { createHash } from 'node:crypto';
import { FailureKind } from '../../src/shared/modelTypes.js';

export type Entry = 'http' | 'queue' | 'batch';

/**
 * Error kinds the soak itself causes: the model failures its injected faults end in once they outlast the
 * retries (src/shared/modelTypes.ts `FailureKind`), and a rejected approval (src/orchestrators/approval.ts).
 */
export const EXPECTED_FAILURE_KINDS: ReadonlySet<string> = new Set<string>([
  ...FailureKind.extract(['rate_limited', 'overloaded', 'server_error', 'timeout', 'network']).options,
  ...FailureKind.extract(['bad_request', 'invalid_output']).options,
  'approval_rejected',
]);

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export interface TrackedRun {
  readonly id: string;
  readonly workflow: string;
  readonly entry: Entry;
  /** The soak asked for a completion callback. */
  readonly callback: boolean;
  /** For approval runs: what the soak answers. */
  readonly decision?: 'approve' | 'reject';
}

/** One reading of a run through `GET /api/runs/{id}`: its view, or `missing` for a 404. */
export type Observation =
  | { readonly kind: 'missing' }
  | {
      readonly kind: 'found';
      readonly status: string;
      readonly outcome?: string | null;
      readonly errorKind?: string | null;
    };

export type RunVerdict = 'running' | 'completed' | 'failed_expected' | 'failed_unexpected' | 'lost';

interface RunState {
  readonly run: TrackedRun;
  last: Observation | undefined;
  /** Seen in a terminal status at least once. */
  finished: boolean;
  /** Seen, then missing afterwards. */
  vanished: boolean;
}

export interface WriteRecord {
  readonly key: string;
  readonly digest: string;
}

/** A side effect seen more than once: `distinct` > 1 is a duplicate with different content. */
export interface RepeatedEffect {
  readonly key: string;
  readonly times: number;
  readonly distinct: number;
}

export const digest = (bytes: Buffer | string): string =>
  createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/**
 * Every effect of one kind (callback deliveries a receiver accepted, or blob writes) by key: a key written
 * twice with the same bytes is at-least-once delivery doing its job; with different bytes it is a duplicate.
 */
export class EffectLog {
  private readonly byKey = new Map<string, string[]>();

  record(key: string, content: Buffer | string): void {
    this.recordDigest({ key, digest: digest(content) });
  }

  recordDigest({ key, digest: value }: WriteRecord): void {
    const list = this.byKey.get(key);
    if (list) list.push(value);
    else this.byKey.set(key, [value]);
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Keys seen more than once, with how many distinct contents. */
  repeated(): RepeatedEffect[] {
    const out: RepeatedEffect[] = [];
    for (const [key, digests] of this.byKey) {
      if (digests.length > 1) out.push({ key, times: digests.length, distinct: new Set(digests).size });
    }
    return out;
  }

  duplicates(): RepeatedEffect[] {
    return this.repeated().filter((effect) => effect.distinct > 1);
  }
}

export class SoakLedger {
  private readonly runs = new Map<string, RunState>();

  start(run: TrackedRun): void {
    if (this.runs.has(run.id)) throw new Error(`run ${run.id} was started twice by the soak`);
    this.runs.set(run.id, { run, last: undefined, finished: false, vanished: false });
  }

  get(id: string): TrackedRun | undefined {
    return this.runs.get(id)?.run;
  }

  observe(id: string, observation: Observation): void {
    const state = this.runs.get(id);
    if (!state) throw new Error(`observation for run ${id}, which the soak did not start`);
    if (observation.kind === 'missing' && state.last?.kind === 'found') state.vanished = true;
    if (observation.kind === 'found' && TERMINAL.has(observation.status)) state.finished = true;
    state.last = observation;
  }

  all(): TrackedRun[] {
    return [...this.runs.values()].map((s) => s.run);
  }

  /** Runs still to poll: not yet seen in a terminal status, and not vanished. */
  pending(): TrackedRun[] {
    return [...this.runs.values()].filter((s) => !s.finished && !s.vanished).map((s) => s.run);
  }

  /** Runs seen finished: the final check reads them again, so one that disappeared later counts as lost. */
  finished(): TrackedRun[] {
    return [...this.runs.values()].filter((s) => s.finished).map((s) => s.run);
  }

  verdict(id: string, final: boolean): RunVerdict {
    const state = this.runs.get(id);
    if (!state) throw new Error(`no run ${id}`);
    const last = state.last;
    if (state.vanished || last?.kind === 'missing') return final || state.vanished ? 'lost' : 'running';
    if (last === undefined || !TERMINAL.has(last.status)) return final ? 'lost' : 'running';
    if (last.status === 'Completed' && (last.outcome ?? 'completed') === 'completed') return 'completed';
    const kind = last.errorKind ?? '';
    if (kind === 'approval_rejected')
      return state.run.decision === 'reject' ? 'failed_expected' : 'failed_unexpected';
    return EXPECTED_FAILURE_KINDS.has(kind) ? 'failed_expected' : 'failed_unexpected';
  }

  /** Counts per workflow and in total; with `final`, every run not finished is lost. */
  summary(final: boolean): Map<string, Record<RunVerdict | 'started', number>> {
    const rows = new Map<string, Record<RunVerdict | 'started', number>>();
    const row = (name: string) => {
      let existing = rows.get(name);
      if (!existing) {
        existing = {
          started: 0,
          running: 0,
          completed: 0,
          failed_expected: 0,
          failed_unexpected: 0,
          lost: 0,
        };
        rows.set(name, existing);
      }
      return existing;
    };
    row('total');
    for (const state of this.runs.values()) {
      const verdict = this.verdict(state.run.id, final);
      const name = state.run.entry === 'batch' ? `${state.run.workflow} (batch)` : state.run.workflow;
      for (const target of [row(name), row('total')]) {
        target.started += 1;
        target[verdict] += 1;
      }
    }
    const total = rows.get('total');
    rows.delete('total');
    const sorted = new Map([...rows].sort(([a], [b]) => a.localeCompare(b)));
    if (total) sorted.set('total', total);
    return sorted;
  }

  /** Failed runs by error kind (`approval_rejected`, `bad_request`, …). */
  failureKinds(): Map<string, number> {
    const kinds = new Map<string, number>();
    for (const state of this.runs.values()) {
      const last = state.last;
      if (last?.kind !== 'found' || !TERMINAL.has(last.status)) continue;
      if (last.status === 'Completed' && (last.outcome ?? 'completed') === 'completed') continue;
      const kind = last.errorKind ?? last.status;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    return kinds;
  }

  /** Runs that ended in a way the soak did not cause, and lost runs, with their last observation. */
  problems(final: boolean): string[] {
    const out: string[] = [];
    for (const state of this.runs.values()) {
      const verdict = this.verdict(state.run.id, final);
      if (verdict === 'lost' || verdict === 'failed_unexpected') {
        const why = state.vanished
          ? 'vanished after it was seen'
          : JSON.stringify(state.last ?? 'never seen');
        out.push(`${verdict} ${state.run.workflow} ${state.run.entry} ${state.run.id}: ${why}`);
      }
    }
    return out;
  }
}

/** A plain text table: the first row is the header; columns after the first are right-aligned (numbers). */
export function formatTable(rows: readonly (readonly string[])[], align: 'right' | 'left' = 'right'): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) =>
        i === 0 || align === 'left' ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
