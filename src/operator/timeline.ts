/**
 * A run's step timeline for operators: the step records the run keeps (status, times, tokens, cost,
 * deployments, tool calls, error) plus retries, which only the Durable history shows.
 */
import { cacheHitRate } from '../shared/cacheHitRate.js';
import { roundUsd } from '../shared/money.js';
import { Names } from '../shared/names.js';
import type { TimelineEntry } from '../shared/operatorTypes.js';
import type { StepRecord } from '../shared/runTypes.js';

type HistoryEvent = Record<string, unknown>;

const FINISHED_UNSUCCESSFULLY: Readonly<Record<string, string>> = {
  Failed: 'the orchestration failed',
  Terminated: 'the run was terminated',
  Canceled: 'the run was canceled',
};

/** An event's `Result`, parsed when it is JSON text. */
export function resultOf(event: HistoryEvent): unknown {
  const result = event.Result;
  if (typeof result !== 'string') return result;
  try {
    return JSON.parse(result) as unknown;
  } catch {
    return result;
  }
}

/** Activities that answer a failure as `{ ok: false }` rather than throwing: model calls and provider batches. */
const CLASSIFIED_ACTIVITIES: ReadonlySet<unknown> = new Set([
  Names.activities.callModel,
  Names.activities.submitModelBatch,
  Names.activities.pollModelBatch,
  Names.activities.collectModelBatchResults,
]);

/** A model call answered with an error, or an activity execution that threw: each is one failed attempt. */
export function isFailedAttempt(event: HistoryEvent): boolean {
  if (event.EventType === 'TaskFailed') return true;
  if (event.EventType !== 'TaskCompleted' || !CLASSIFIED_ACTIVITIES.has(event.FunctionName)) return false;
  const result = resultOf(event);
  return typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === false;
}

/** The top-level step a child instance belongs to: child ids are `<parent>:<label>`, labels `step`, `step:3`, `step.branch`. */
export function stepOfChild(runId: string, childId: string): string | undefined {
  if (!childId.startsWith(`${runId}:`)) return undefined;
  return childId.slice(runId.length + 1).split(/[:./]/)[0] || undefined;
}

/** The step running at `timestamp`: the last one that started by then and had not ended before it. */
function stepAt(records: readonly StepRecord[], timestamp: string): string | undefined {
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return undefined;
  let found: string | undefined;
  for (const record of records) {
    if (record.status === 'skipped' || record.startedAt === undefined) continue;
    const started = Date.parse(record.startedAt);
    const ended = record.endedAt === undefined ? Infinity : Date.parse(record.endedAt);
    if (started <= at && at <= ended) found = record.stepId;
  }
  return found;
}

/**
 * Failed attempts per step: the run's own events are placed by time (top-level steps run one after
 * another), its children's by instance id. Grandchildren are not read.
 */
export function countFailedAttempts(
  runId: string,
  records: readonly StepRecord[],
  history: readonly HistoryEvent[],
  children: ReadonlyMap<string, readonly HistoryEvent[]>,
): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (stepId: string | undefined) => {
    if (stepId !== undefined) counts.set(stepId, (counts.get(stepId) ?? 0) + 1);
  };
  for (const event of history) {
    if (isFailedAttempt(event) && typeof event.Timestamp === 'string') add(stepAt(records, event.Timestamp));
  }
  for (const [childId, events] of children) {
    const stepId = stepOfChild(runId, childId);
    for (const event of events) if (isFailedAttempt(event)) add(stepId);
  }
  return counts;
}

/**
 * The timeline as operators see it. A step still running when the run itself stopped (terminated, or
 * the orchestrator crashed) is shown failed with the reason, ending when the run last changed.
 */
export function buildTimeline(
  records: readonly StepRecord[],
  run: { readonly runtimeStatus: string; readonly lastUpdatedTime: string },
  failedAttempts: ReadonlyMap<string, number> = new Map(),
): TimelineEntry[] {
  const stopped = FINISHED_UNSUCCESSFULLY[run.runtimeStatus];
  return records.map((record) => {
    const attempts = failedAttempts.get(record.stepId) ?? 0;
    const interrupted = stopped !== undefined && (record.status === 'running' || record.status === 'waiting');
    const entry: TimelineEntry = interrupted
      ? { ...record, status: 'failed', endedAt: run.lastUpdatedTime, error: stopped, retries: 0 }
      : { ...record, retries: 0 };
    // The last failed attempt of a failed step is its failure, not a retry.
    return {
      ...entry,
      retries: Math.max(0, attempts - (entry.status === 'failed' && attempts > 0 ? 1 : 0)),
      // The step's cost is the ledger's growth during it: a difference of sums, rounded like them.
      costUsd: roundUsd(entry.costUsd),
      cacheHitRate: cacheHitRate(record.tokens),
    };
  });
}
