/** Runs as the operator API shows them: a summary per list row, and one run's detail. */
import type { DurableOrchestrationStatus } from 'durable-functions';
import { toRunView, type RunView } from '../functions/runView.js';
import { BatchRunInput } from '../shared/batchTypes.js';
import { Names } from '../shared/names.js';
import type { CallbackOutcome } from '../shared/requestTypes.js';
import type {
  ApprovalRecord,
  AuditRecord,
  RunDetail,
  RunProgressSummary,
  RunSummary,
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
  return {
    id: view.id,
    workflow: view.workflow,
    version: view.version,
    status: view.status,
    ...(view.outcome === null ? {} : { outcome: view.outcome }),
    createdAt: view.createdTime,
    updatedAt: view.lastUpdatedTime,
    ...(summaryProgress ? { progress: summaryProgress } : {}),
    costUsd: view.ledger?.totals.costUsd ?? 0,
    ...(waitingFor ? { waitingFor } : {}),
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
}

export function detailOf(sources: DetailSources): RunDetail {
  const { instance, actions } = sources;
  const view = viewOf(instance);
  return {
    ...summaryOf(instance, view),
    input: redactSecrets(businessInput(instance.input)),
    output: redactSecrets(view.output),
    ...(view.error ? { error: view.error } : {}),
    ledger: view.ledger,
    timeline: buildTimeline(stepRecordsOf(instance), instance, sources.failedAttempts),
    approvals: approvalsOf(actions),
    actions: [...actions],
    ...(sources.callback ? { callback: sources.callback } : {}),
    ...(sources.includeHistory ? { history: redactSecrets(instance.historyEvents ?? []) as unknown[] } : {}),
  };
}
