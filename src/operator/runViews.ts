/** Runs as the operator API shows them: a summary per list row, and one run's detail. */
import type { DurableOrchestrationStatus } from 'durable-functions';
import { toRunView, type RunView } from '../functions/runView.js';
import { BatchProgress, BatchRunInput, BatchSummary } from '../shared/batchJobTypes.js';
import { roundUsd } from '../shared/money.js';
import { Names } from '../shared/names.js';
import type { CallbackOutcome } from '../shared/requestTypes.js';
import type {
  ApprovalRecord,
  AuditRecord,
  BatchCounts,
  ChildRun,
  FailedItem,
  RunDetail,
  RunOutcomeColumn,
  RunProgressSummary,
  RunSummary,
  WaterfallSpan,
} from '../shared/operatorTypes.js';
import { RunProgress, RunWorkflowInput, RunWorkflowOutput, type StepRecord } from '../shared/runTypes.js';
import type { DurableInstance } from './durableManagement.js';
import { redactSecrets } from './redact.js';
import { buildTimeline } from './timeline.js';

/** Sub-orchestrations (agent loops, child workflows) have ids `<parent>:<label>`; top-level runs never do. */
export function isTopLevelRun(instance: Pick<DurableInstance, 'name' | 'instanceId'>): boolean {
  return instance.name !== Names.orchestrators.agentLoop && !instance.instanceId.includes(':');
}

export function viewOf(instance: DurableInstance): RunView {
  const status = {
    ...instance,
    createdTime: new Date(instance.createdTime),
    lastUpdatedTime: new Date(instance.lastUpdatedTime),
  } as unknown as DurableOrchestrationStatus;
  return toRunView(status);
}

const WAITING_STATUSES = new Set(['Running', 'Suspended', 'Pending']);

/** A rejected approval stops the run with this error kind (orchestrators/approval.ts). */
const REJECTED_KIND = 'approval_rejected';

/**
 * The list's outcome column. A finished run carries its outcome in the output (`Completed` with
 * `outcome`), or ends `Failed` (with or without an outcome the view could read); either way a rejected
 * approval shows as `rejected`. Runs still going have none.
 */
export function outcomeOf(view: Pick<RunView, 'status' | 'outcome' | 'error'>): RunOutcomeColumn | undefined {
  const rejected =
    view.error?.kind === REJECTED_KIND || (view.error?.message ?? '').includes(`${REJECTED_KIND}`);
  if (view.status === 'Terminated') return 'terminated';
  if (view.status === 'Canceled') return 'canceled';
  if (view.outcome === null && view.status !== 'Failed') return undefined;
  if (rejected) return 'rejected';
  if (view.outcome !== null) return view.outcome;
  return 'failed';
}

/** A batch run's workflow, counts and cost, from its custom status, its output or its input. */
export function batchOf(
  instance: Pick<DurableInstance, 'customStatus' | 'output' | 'input'>,
):
  | { workflow: string | null; version: string | number | null; counts: BatchCounts; costUsd: number }
  | undefined {
  const summary = BatchSummary.safeParse(instance.output);
  if (summary.success) {
    const { workflow, version, total, succeeded, failed, costUsd } = summary.data;
    return { workflow, version, counts: { total, done: succeeded + failed, succeeded, failed }, costUsd };
  }
  const progress = BatchProgress.safeParse(instance.customStatus);
  const input = BatchRunInput.safeParse(instance.input);
  if (!progress.success && !input.success) return undefined;
  const definition = input.success ? input.data.run.definition : undefined;
  const counts = progress.success
    ? {
        total: progress.data.total,
        done: progress.data.done,
        succeeded: progress.data.succeeded,
        failed: progress.data.failed,
      }
    : { total: 0, done: 0, succeeded: 0, failed: 0 };
  return {
    workflow: progress.success ? progress.data.workflow : (definition?.name ?? null),
    version: definition?.version ?? null,
    counts,
    costUsd: progress.success ? progress.data.costUsd : 0,
  };
}

function kindOf(instance: Pick<DurableInstance, 'name' | 'instanceId'>): RunSummary['kind'] {
  if (instance.name === Names.orchestrators.runBatch) return 'batch';
  if (instance.name === Names.orchestrators.agentLoop) return 'agent';
  return instance.instanceId.includes(':') ? 'child' : 'run';
}

export function summaryOf(instance: DurableInstance, view: RunView = viewOf(instance)): RunSummary {
  const progress = view.progress;
  const summaryProgress: RunProgressSummary | undefined = progress
    ? {
        ...(progress.step === undefined ? {} : { step: progress.step }),
        stepIndex: progress.stepIndex,
        stepCount: progress.stepCount,
        ...(progress.map === undefined ? {} : { map: progress.map }),
        ...(progress.batch === undefined ? {} : { batch: progress.batch }),
      }
    : undefined;
  const waitingFor = WAITING_STATUSES.has(view.status) ? progress?.waitingFor : undefined;
  const outcome = outcomeOf(view);
  const batch = instance.name === Names.orchestrators.runBatch ? batchOf(instance) : undefined;
  return {
    id: view.id,
    kind: kindOf(instance),
    workflow: batch?.workflow ?? view.workflow,
    version: batch?.version ?? view.version,
    status: view.status,
    ...(outcome === undefined ? {} : { outcome }),
    createdAt: view.createdTime,
    updatedAt: view.lastUpdatedTime,
    ...(summaryProgress ? { progress: summaryProgress } : {}),
    costUsd: roundUsd(batch?.costUsd ?? view.ledger?.totals.costUsd ?? 0),
    ...(waitingFor ? { waitingFor } : {}),
    ...(batch ? { batch: batch.counts } : {}),
  };
}

/** The step records the run kept: in its output once finished, in its custom status while it runs. */
export function stepRecordsOf(instance: DurableInstance): StepRecord[] {
  const output = RunWorkflowOutput.safeParse(instance.output);
  if (output.success && output.data.timeline) return output.data.timeline;
  const progress = RunProgress.safeParse(instance.customStatus);
  return progress.success ? (progress.data.timeline ?? []) : [];
}

/**
 * What the business system sent: the workflow input of a `runWorkflow` run, the blobs and concurrency of a
 * batch (not the page and results it carries between generations), else the raw orchestration input.
 */
export function businessInput(input: unknown): unknown {
  const run = RunWorkflowInput.safeParse(input);
  if (run.success) return run.data.input;
  const batch = BatchRunInput.safeParse(input);
  if (!batch.success) return input;
  const { itemsBlob, outputBlob, summaryBlob, concurrency } = batch.data;
  return { workflow: batch.data.run.definition.name, itemsBlob, outputBlob, summaryBlob, concurrency };
}

export function approvalsOf(actions: readonly AuditRecord[]): ApprovalRecord[] {
  return actions.flatMap((record) =>
    (record.action === 'approve' || record.action === 'reject') && record.event !== undefined
      ? [
          {
            event: record.event,
            approved: record.action === 'approve',
            by: record.by,
            at: record.at,
            ...(record.comment === undefined ? {} : { comment: record.comment }),
          },
        ]
      : [],
  );
}

export interface DetailSources {
  readonly instance: DurableInstance;
  readonly actions: readonly AuditRecord[];
  /** The run's completion callback (`<id>:callback`), when it was started with one. */
  readonly callback?: CallbackOutcome | null;
  readonly failedAttempts: ReadonlyMap<string, number>;
  readonly includeHistory: boolean;
  readonly waterfall?: WaterfallSpan[];
  readonly children?: ChildRun[];
  readonly failedItems?: FailedItem[];
}

export function detailOf(sources: DetailSources): RunDetail {
  const { instance, actions } = sources;
  const view = viewOf(instance);
  return {
    ...summaryOf(instance, view),
    input: redactSecrets(businessInput(instance.input)),
    output: redactSecrets(view.output),
    ...(view.error ? { error: view.error } : {}),
    ledger: view.ledger && {
      ...view.ledger,
      ...(view.ledger.rows
        ? { rows: view.ledger.rows.map((row) => ({ ...row, costUsd: roundUsd(row.costUsd) })) }
        : {}),
      totals: { ...view.ledger.totals, costUsd: roundUsd(view.ledger.totals.costUsd) },
    },
    timeline: buildTimeline(stepRecordsOf(instance), instance, sources.failedAttempts),
    approvals: approvalsOf(actions),
    actions: [...actions],
    ...(sources.callback ? { callback: sources.callback } : {}),
    ...(sources.includeHistory ? { history: redactSecrets(instance.historyEvents ?? []) as unknown[] } : {}),
    waterfall: sources.waterfall ?? [],
    children: sources.children ?? [],
    ...(sources.failedItems ? { failedItems: sources.failedItems } : {}),
  };
}
