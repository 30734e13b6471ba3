/** What one `runWorkflow` execution keeps while it walks its steps: ledger, budget, progress. */
import type { OrchestrationContext } from 'durable-functions';
import type { ArtifactRef } from '../shared/toolTypes.js';
import type { WorkflowDefinition } from '../definitions/schema.js';
import { ModelRouteSpec, splitRoleTarget, type CallModelSuccess } from '../shared/modelTypes.js';
import type {
  Ledger,
  LedgerRow,
  RunBudget,
  RunFinal,
  RunProgress,
  RunWorkflowInput,
} from '../shared/runTypes.js';
import { addModelCall, addRows, budgetOverrun, emptyLedger, intersectBudgets } from './ledger.js';
import { modelBatchPolicy, type ModelBatchPolicy } from './providerBatch.js';
import { modelRetryPolicy, type ModelRetryPolicy } from './modelPolicy.js';
import { budgetExceeded } from './runStopped.js';
import { fitCustomStatus } from './customStatus.js';
import { emptyTimeline, refreshCurrent, timelineForStatus, type Timeline } from './timeline.js';
import type { RunTrace } from '../shared/traceTypes.js';
import { runTraceOf } from './trace.js';

/** Where a step (or a map item, or a branch) sits in the run. */
export interface StepAt {
  /** The ledger row key: the top-level step id, or `parallel.branch`; map items share their map's. */
  readonly ledgerStep: string;
  /** Unique in the run: error `stepId`, callModel `stepId`, child instance suffix (`research:3`). */
  readonly label: string;
}

type ProgressFields = Pick<RunProgress, 'step' | 'stepIndex' | 'map' | 'waitingFor' | 'batch'>;

export interface RunState {
  readonly context: OrchestrationContext;
  readonly input: RunWorkflowInput;
  /** The top-level run: callModel `runId` and the artifact folder. */
  readonly runId: string;
  readonly budget: RunBudget | undefined;
  readonly modelRetry: ModelRetryPolicy;
  readonly modelBatch: ModelBatchPolicy;
  ledger: Ledger;
  progress: ProgressFields;
  /** One record per top-level step, for operators. */
  readonly timeline: Timeline;
  /** Files the run's tools produced, its child runs' included. */
  readonly artifacts: ArtifactRef[];
  /** The run's trace context for activities and children; undefined when the run is not traced. */
  readonly trace: RunTrace | undefined;
}

export function createRunState(context: OrchestrationContext, input: RunWorkflowInput): RunState {
  const runId = input.rootRunId ?? context.df.instanceId;
  return {
    context,
    input,
    runId,
    trace: runTraceOf(input, runId),
    budget: intersectBudgets(input.definition.budget, input.inheritedBudget),
    modelRetry: modelRetryPolicy(input.options?.modelRetry),
    modelBatch: modelBatchPolicy(input.options?.modelBatch),
    ledger: emptyLedger(),
    progress: { stepIndex: 0 },
    timeline: emptyTimeline(),
    artifacts: [],
  };
}

export function log(run: RunState, message: string): void {
  if (!run.context.df.isReplaying) run.context.log(`${run.context.df.instanceId}: ${message}`);
}

/** Publishes the run's custom status, changed by `patch` (a key set to undefined is cleared). */
export function reportProgress(run: RunState, patch: Partial<ProgressFields> = {}): void {
  run.context.df.setCustomStatus(fitCustomStatus(progressStatus(run, patch)));
}

/**
 * The last custom status of a run that stops without completing: its progress and timeline, and the
 * result it fails with (`final`), which the run views read once the runtime status is `Failed`.
 */
export function reportFinal(run: RunState, final: RunFinal, patch: Partial<ProgressFields> = {}): void {
  run.context.df.setCustomStatus(fitCustomStatus({ ...progressStatus(run, patch), final }));
}

function progressStatus(run: RunState, patch: Partial<ProgressFields>): RunProgress {
  run.progress = { ...run.progress, ...patch };
  const { definition } = run.input;
  const status: RunProgress = {
    workflow: definition.name,
    version: definition.version,
    stepIndex: run.progress.stepIndex,
    stepCount: definition.steps.length,
    usage: run.ledger.totals.usage,
    costUsd: run.ledger.totals.costUsd,
  };
  if (run.progress.step !== undefined) status.step = run.progress.step;
  if (run.progress.map !== undefined) status.map = run.progress.map;
  if (run.progress.waitingFor !== undefined) status.waitingFor = run.progress.waitingFor;
  if (run.progress.batch !== undefined) status.batch = run.progress.batch;
  refreshCurrent(run.timeline, run.ledger);
  const timeline = timelineForStatus(run.timeline);
  if (timeline !== undefined) status.timeline = timeline;
  return status;
}

/** Stops the run cleanly once the budget is spent. @throws RunStopped */
export function enforceBudget(run: RunState, label: string): void {
  const overrun = budgetOverrun(run.ledger, run.budget);
  if (overrun !== undefined) throw budgetExceeded(label, `${overrun} (stopped after ${label})`);
}

export function recordModelCall(run: RunState, at: StepAt, role: string, result: CallModelSuccess): void {
  run.ledger = addModelCall(run.ledger, at.ledgerStep, role, result);
  enforceBudget(run, at.label);
}

export function recordChildLedger(run: RunState, rows: readonly LedgerRow[], at: StepAt): void {
  run.ledger = addRows(run.ledger, rows);
  enforceBudget(run, at.label);
}

/** Sub-orchestration ids derive from ours, so a replay (or a retry of the parent) finds the same child. */
export function childInstanceId(run: RunState, at: StepAt): string {
  return `${run.context.df.instanceId}:${at.label}`;
}

/**
 * The role callModel routes by: a workflow's `roles` may point a role at another configured role, or
 * at its own `provider:deployment` (checked against the known providers when the definition loads).
 */
export function resolveRole(
  definition: WorkflowDefinition,
  role: string,
): { role: string; route?: ModelRouteSpec } {
  const target = definition.roles?.[role];
  if (target === undefined) return { role };
  const parsed = splitRoleTarget(target);
  return 'role' in parsed ? { role: parsed.role } : { role, route: ModelRouteSpec.parse(parsed) };
}
