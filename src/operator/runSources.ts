/**
 * What a run's detail reads besides the run itself: the histories of its agent and child runs (for
 * retries, the waterfall and the child tree), a batch's failed items, and approvals its history shows
 * that nobody recorded in the audit log.
 */
import { Names } from '../shared/names.js';
import type { AuditRecord, FailedItem, WaterfallSpan } from '../shared/operatorTypes.js';
import { FINISHED_STATUSES, MAX_FAILED_ITEMS } from '../shared/operatorTypes.js';
import type { DurableInstance, DurableManagement } from './durableManagement.js';
import { outcomeOf, viewOf } from './runViews.js';
import { parentOf, pendingChildIds, type InstanceHistory } from './waterfall.js';

/** Histories read per detail request, all levels together, and how many at once. */
export const MAX_CHILD_HISTORIES = 64;
const CHILD_HISTORY_CONCURRENCY = 6;
const DESCENDANT_PAGES = 5;

export function historyOf(instance: DurableInstance): InstanceHistory {
  return {
    instanceId: instance.instanceId,
    name: instance.name,
    runtimeStatus: instance.runtimeStatus,
    createdTime: instance.createdTime,
    lastUpdatedTime: instance.lastUpdatedTime,
    historyEvents: instance.historyEvents ?? [],
  };
}

/**
 * The ids of a run's agent and child runs at every level, shallowest first, at most `limit`. Found by id
 * prefix (`<run id>:`, runState.ts `childInstanceId`) through the instance listing, not from the run's
 * history: the Durable HTTP API drops a finished child's `SubOrchestrationInstanceCreated` event, and with
 * it the child's id (DurableClient.cs `GetDurableOrchestrationStatusAsync`). The completion callback's
 * orchestration (`<run id>:callback`) is not a child of the run's work and is left out.
 */
export async function descendantIds(
  management: DurableManagement,
  run: DurableInstance,
  limit: number = MAX_CHILD_HISTORIES,
): Promise<string[]> {
  const found = new Map<string, string>();
  for (const id of pendingChildIds(run.historyEvents ?? [])) found.set(id, '');
  let token: string | undefined;
  for (let page = 0; page < DESCENDANT_PAGES; page++) {
    const listing = await management.listInstances({
      instanceIdPrefix: `${run.instanceId}:`,
      top: 200,
      ...(token ? { continuationToken: token } : {}),
    });
    for (const instance of listing.instances) {
      if (instance.name === Names.orchestrators.runCallback) {
        found.delete(instance.instanceId);
        continue;
      }
      found.set(instance.instanceId, instance.createdTime);
    }
    token = listing.continuationToken;
    if (token === undefined) break;
  }
  const known = new Set(found.keys());
  const depth = (id: string): number => {
    const parent = parentOf(run.instanceId, id, known);
    return parent === undefined || parent === run.instanceId ? 1 : 1 + depth(parent);
  };
  return [...found]
    .map(([id, created]) => ({ id, created, depth: depth(id) }))
    .sort((a, b) => a.depth - b.depth || a.created.localeCompare(b.created) || a.id.localeCompare(b.id))
    .slice(0, limit)
    .map(({ id }) => id);
}

/** The histories of the run's agent and child runs, every level, at most {@link MAX_CHILD_HISTORIES}. */
export async function descendantHistories(
  management: DurableManagement,
  run: DurableInstance,
): Promise<Map<string, InstanceHistory>> {
  const ids = await descendantIds(management, run);
  const fetched = new Map<string, InstanceHistory>();
  let cursor = 0;
  const worker = async () => {
    for (let index = cursor++; index < ids.length; index = cursor++) {
      const child = await management.getInstance(ids[index] as string, { history: true, input: false });
      if (child) fetched.set(child.instanceId, historyOf(child));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHILD_HISTORY_CONCURRENCY, ids.length) }, worker));
  // In the order found (shallowest first), whatever order the reads finished in.
  return new Map(ids.flatMap((id) => (fetched.has(id) ? [[id, fetched.get(id) as InstanceHistory]] : [])));
}

const ITEM_LINE = /:(\d+)$/;
const FAILED_ITEM_PAGES = 10;

/**
 * A batch's items that did not complete, with their errors: its item runs are `<batch id>:<line>`
 * (shared/batchJobTypes.ts `itemInstanceId`). At most {@link MAX_FAILED_ITEMS}, lowest lines first.
 */
export async function failedBatchItems(
  management: DurableManagement,
  batchId: string,
): Promise<FailedItem[]> {
  const failed: FailedItem[] = [];
  let token: string | undefined;
  for (let page = 0; page < FAILED_ITEM_PAGES; page++) {
    const listing = await management.listInstances({
      instanceIdPrefix: `${batchId}:`,
      runtimeStatus: [...FINISHED_STATUSES],
      top: 200,
      ...(token ? { continuationToken: token } : {}),
    });
    for (const instance of listing.instances) {
      const line = ITEM_LINE.exec(instance.instanceId.slice(batchId.length));
      if (instance.name !== Names.orchestrators.runWorkflow || !line) continue;
      const view = viewOf(instance);
      const outcome = outcomeOf(view);
      if (outcome === undefined || outcome === 'completed') continue;
      failed.push({
        line: Number(line[1]),
        runId: instance.instanceId,
        status: outcome,
        error: view.error,
      });
    }
    token = listing.continuationToken;
    if (token === undefined) break;
  }
  return failed.sort((a, b) => a.line - b.line).slice(0, MAX_FAILED_ITEMS);
}

const REJECTED_BY = /was rejected by (.+?)(?:: |$)/;

/**
 * The audit trail with the approvals the run's own history shows but no operator or business call
 * recorded (an event raised through the Durable `sendEventPostUri`, or the raw event API): each approval
 * event beyond the recorded decisions on it becomes a record `via: "event"`, approved when its step went on,
 * rejected when the run stopped at that step with a rejection. `by` is who the rejection message names, else
 * "unknown" (an approval event's payload is not in the history the HTTP API shows).
 */
export function withEventApprovals(
  runId: string,
  actions: readonly AuditRecord[],
  waterfall: readonly WaterfallSpan[],
  error: { readonly kind: string; readonly message: string; readonly stepId?: string } | null,
): AuditRecord[] {
  const recorded = new Map<string, number>();
  for (const action of actions) {
    if ((action.action === 'approve' || action.action === 'reject') && action.event !== undefined) {
      recorded.set(action.event, (recorded.get(action.event) ?? 0) + 1);
    }
  }
  const added: AuditRecord[] = [];
  for (const span of waterfall) {
    if (span.kind !== 'approval' || span.depth !== 0 || span.end === undefined) continue;
    const covered = recorded.get(span.name) ?? 0;
    if (covered > 0) {
      recorded.set(span.name, covered - 1);
      continue;
    }
    const step = waterfall.find((candidate) => candidate.kind === 'step' && candidate.stepId === span.stepId);
    const rejected =
      error?.kind === 'approval_rejected' && (error.stepId === undefined || error.stepId === span.stepId);
    if (!rejected && step?.status !== 'completed') continue;
    const by = rejected ? (REJECTED_BY.exec(error.message)?.[1] ?? 'unknown') : 'unknown';
    added.push({
      runId,
      action: rejected ? 'reject' : 'approve',
      by,
      at: span.end,
      event: span.name,
      via: 'event',
    });
  }
  return [...actions, ...added].sort((a, b) => a.at.localeCompare(b.at));
}
