/**
 * The run's step timeline: one record per top-level step, kept by the orchestrator from its own clock
 * and ledger, so it replays identically and costs no extra history.
 */
import { roundUsd } from '../shared/money.js';
import type { Step } from '../definitions/schema.js';
import type { TokenUsage } from '../shared/modelTypes.js';
import type { Ledger, StepRecord, StepStatus, StepTokens } from '../shared/runTypes.js';

/** Longest error text a record keeps; the full message is in the run's error. */
export const MAX_RECORDED_ERROR_CHARS = 300;
/** Most deployments a record lists. */
export const MAX_RECORDED_DEPLOYMENTS = 5;

export interface Timeline {
  readonly records: StepRecord[];
  /** Ledger totals when the current step started: its tokens and cost are the difference. */
  baseline: { usage: TokenUsage; costUsd: number } | undefined;
}

export function emptyTimeline(): Timeline {
  return { records: [], baseline: undefined };
}

const ZERO_TOKENS: StepTokens = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };

/** The role a step declares: its own, or that of the step a map runs. */
function declaredRole(step: Step): string | undefined {
  if (step.kind === 'llm' || step.kind === 'agent') return step.role;
  if (step.kind === 'map') return declaredRole(step.step);
  return undefined;
}

function current(timeline: Timeline): StepRecord | undefined {
  const last = timeline.records.at(-1);
  return last && (last.status === 'running' || last.status === 'waiting') ? last : undefined;
}

export function startStep(timeline: Timeline, step: Step, now: Date, ledger: Ledger): void {
  const role = declaredRole(step);
  timeline.records.push({
    stepId: step.id,
    kind: step.kind,
    status: 'running',
    ...(role === undefined ? {} : { role }),
    startedAt: now.toISOString(),
    tokens: { ...ZERO_TOKENS },
    costUsd: 0,
    toolCalls: 0,
  });
  timeline.baseline = { usage: { ...ledger.totals.usage }, costUsd: ledger.totals.costUsd };
}

export function skipStep(timeline: Timeline, step: Step, now: Date): void {
  const at = now.toISOString();
  timeline.records.push({
    stepId: step.id,
    kind: step.kind,
    status: 'skipped',
    startedAt: at,
    endedAt: at,
    tokens: { ...ZERO_TOKENS },
    costUsd: 0,
    toolCalls: 0,
  });
}

/** Marks the running step as waiting (for an approval) or running again. */
export function markWaiting(timeline: Timeline, waiting: boolean): void {
  const record = current(timeline);
  if (record) record.status = waiting ? 'waiting' : 'running';
}

export function addToolCalls(timeline: Timeline, count: number): void {
  const record = current(timeline);
  if (record) record.toolCalls += count;
}

/** Brings the running step's tokens, cost and deployments up to date with the ledger. */
export function refreshCurrent(timeline: Timeline, ledger: Ledger): void {
  const record = current(timeline);
  const baseline = timeline.baseline;
  if (!record || !baseline) return;
  const { usage, costUsd } = ledger.totals;
  record.tokens = {
    input: usage.inputTokens - baseline.usage.inputTokens,
    output: usage.outputTokens - baseline.usage.outputTokens,
    cacheWrite: usage.cacheWriteTokens - baseline.usage.cacheWriteTokens,
    cacheRead: usage.cacheReadTokens - baseline.usage.cacheReadTokens,
  };
  record.costUsd = roundUsd(Math.max(0, costUsd - baseline.costUsd));
  const ownRow = (stepId: string) =>
    stepId === record.stepId ||
    stepId.startsWith(`${record.stepId}.`) ||
    stepId.startsWith(`${record.stepId}/`);
  const deployments = [
    ...new Set(ledger.rows.filter((row) => ownRow(row.stepId)).map((row) => row.deployment)),
  ];
  if (deployments.length > 0) record.deployments = deployments.slice(0, MAX_RECORDED_DEPLOYMENTS);
}

/** Ends the running step (if any) as completed or failed. */
export function endStep(
  timeline: Timeline,
  status: Extract<StepStatus, 'completed' | 'failed'>,
  now: Date,
  ledger: Ledger,
  error?: string,
): void {
  refreshCurrent(timeline, ledger);
  const record = current(timeline);
  if (!record) return;
  record.status = status;
  record.endedAt = now.toISOString();
  if (error !== undefined) record.error = error.slice(0, MAX_RECORDED_ERROR_CHARS);
  timeline.baseline = undefined;
}

/**
 * The timeline for custom status (copies), undefined when empty; `fitCustomStatus` drops its oldest
 * records when the whole status would pass 16 KB.
 */
export function timelineForStatus(timeline: Timeline): StepRecord[] | undefined {
  if (timeline.records.length === 0) return undefined;
  return timeline.records.map((record) => ({ ...record }));
}

/** Tool calls a finished child run made, from its own timeline. */
export function childToolCalls(records: readonly StepRecord[] | undefined): number {
  return (records ?? []).reduce((sum, record) => sum + record.toolCalls, 0);
}
