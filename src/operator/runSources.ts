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
import { childStarts, type InstanceHistory } from './waterfall.js';

/** Histories read per detail request, all levels together, and how many at once. */
export const MAX_CHILD_HISTORIES = 64;
const CHILD_HISTORY_CONCURRENCY = 6;
/** Agent runs of child workflows are grandchildren; deeper levels are rare and not read. */
const MAX_CHILD_DEPTH = 3;

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

/** The run's sub-orchestrations and theirs, level by level, at most {@link MAX_CHILD_HISTORIES}. */
export async function descendantHistories(
  management: DurableManagement,
  run: DurableInstance,
): Promise<Map<string, InstanceHistory>> {
  const found = new Map<string, InstanceHistory>();
  let level: readonly InstanceHistory[] = [historyOf(run)];
  for (let depth = 0; depth < MAX_CHILD_DEPTH && level.length > 0; depth++) {
    const ids = level
      .flatMap((instance) => childStarts(instance.historyEvents).map((child) => child.id))
      .filter((id) => !found.has(id) && id.startsWith(`${run.instanceId}:`))
      .slice(0, MAX_CHILD_HISTORIES - found.size);
    const next: InstanceHistory[] = [];
    let cursor = 0;
    const worker = async () => {
      for (let index = cursor++; index < ids.length; index = cursor++) {
        const child = await management.getInstance(ids[index] as string, { history: true, input: false });
        if (child) {
          const history = historyOf(child);
          found.set(child.instanceId, history);
          next.push(history);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHILD_HISTORY_CONCURRENCY, ids.length) }, worker));
    level = next;
  }
  return found;
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
