/** The operator API contract (`/api/operator/…`), shared by its handlers, the dashboard and the CLI. */
import { z } from 'zod';
import { ModelBatchProgress } from './providerBatchTypes.js';
import type { CallbackOutcome } from './requestTypes.js';
import { StepRecord } from './runTypes.js';

/** Durable runtime statuses, as the Durable HTTP API spells them. */
export const RUNTIME_STATUSES = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
] as const;
export const RuntimeStatus = z.enum(RUNTIME_STATUSES);
export type RuntimeStatus = z.infer<typeof RuntimeStatus>;

/**
 * The statuses of a finished run: it will not change again on its own (rewind and restart start it
 * anew). The one list: `isFinished` below, the purge filter, batch listings; the dashboard's browser copy
 * (src/dashboard/dom.mjs) is pinned to it by test/unit/finishedStatuses.test.ts.
 */
export const FINISHED_STATUSES = ['Completed', 'Failed', 'Canceled', 'Terminated'] as const;
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];

/** Whether a run with this runtime status has finished (succeeded, failed, canceled or terminated). */
export function isFinished(status: string | undefined): boolean {
  return (FINISHED_STATUSES as readonly (string | undefined)[]).includes(status);
}

/** Only finished runs can be purged. */
export const PURGEABLE_STATUSES = FINISHED_STATUSES;

export const RUN_ACTIONS = ['terminate', 'suspend', 'resume', 'rewind', 'restart'] as const;
export const RunAction = z.enum(RUN_ACTIONS);
export type RunAction = z.infer<typeof RunAction>;

export const APPROVAL_ACTIONS = ['approve', 'reject'] as const;
export const ApprovalAction = z.enum(APPROVAL_ACTIONS);
export type ApprovalAction = z.infer<typeof ApprovalAction>;

/** Body of terminate, suspend, resume, rewind and restart. */
export const ActionBody = z.strictObject({ reason: z.string().max(1_000).optional() });
export type ActionBody = z.infer<typeof ActionBody>;

/** Body of approve and reject (the approval event carries at most 2,000 characters of comment). */
export const ApprovalBody = z.strictObject({ comment: z.string().max(2_000).optional() });
export type ApprovalBody = z.infer<typeof ApprovalBody>;

/**
 * A status filter as the operator API takes it everywhere: `["Failed", "Terminated"]` or
 * `"failed,terminated"`, names in any case (normalized to the runtime's spelling when known).
 */
function statusList(value: unknown): unknown {
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items)) return value;
  return items
    .map((item: unknown) => (typeof item === 'string' ? item.trim() : item))
    .filter((item: unknown) => item !== '')
    .map((item: unknown) =>
      typeof item === 'string'
        ? (PURGEABLE_STATUSES.find((s) => s.toLowerCase() === item.toLowerCase()) ?? item)
        : item,
    );
}

export const PurgeBody = z.strictObject({
  createdFrom: z.iso.datetime({ offset: true }).optional(),
  createdTo: z.iso.datetime({ offset: true }).optional(),
  /** An array or a comma-separated string, any case, as `status` of the run list takes them. */
  status: z.preprocess(statusList, z.array(z.enum(PURGEABLE_STATUSES)).min(1)).optional(),
});
export type PurgeBody = z.infer<typeof PurgeBody>;

export const RunProgressSummary = z.strictObject({
  step: z.string().optional(),
  stepIndex: z.int().nonnegative(),
  stepCount: z.int().positive(),
  map: z.strictObject({ stepId: z.string(), done: z.int(), total: z.int() }).optional(),
  /** A `batch: true` step waiting for its provider batch. */
  batch: ModelBatchProgress.optional(),
});
export type RunProgressSummary = z.infer<typeof RunProgressSummary>;

export const WaitingFor = z.strictObject({
  event: z.string(),
  until: z.string(),
  message: z.string().optional(),
});
export type WaitingFor = z.infer<typeof WaitingFor>;

/**
 * How a finished run ended, whatever runtime status carries it (`Completed` with an outcome in the output,
 * or `Failed`): a rejected approval is `rejected`, not `failed`, so it never looks like success.
 */
export const RUN_OUTCOMES = [
  'completed',
  'failed',
  'budget_exceeded',
  'rejected',
  'terminated',
  'canceled',
] as const;
export const RunOutcomeColumn = z.enum(RUN_OUTCOMES);
export type RunOutcomeColumn = z.infer<typeof RunOutcomeColumn>;

/** A batch run's items: how many, how far, how many failed. */
export const BatchCounts = z.strictObject({
  total: z.int().nonnegative(),
  done: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  failed: z.int().nonnegative(),
});
export type BatchCounts = z.infer<typeof BatchCounts>;

/** One row of `GET /api/operator/runs`. */
export const RunSummary = z.strictObject({
  id: z.string(),
  /** `batch` for a JSONL batch (`runBatch`), `run` for a workflow run, `agent`/`child` with `all=true`. */
  kind: z.enum(['run', 'batch', 'agent', 'child']),
  workflow: z.string().nullable(),
  version: z.union([z.string(), z.number()]).nullable(),
  status: z.string(),
  outcome: RunOutcomeColumn.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  progress: RunProgressSummary.optional(),
  costUsd: z.number().nonnegative(),
  waitingFor: WaitingFor.optional(),
  /** Batch runs: their items. */
  batch: BatchCounts.optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunList = z.strictObject({
  runs: z.array(RunSummary),
  continuationToken: z.string().optional(),
});
export type RunList = z.infer<typeof RunList>;

/** One step of a run's timeline: what the run recorded, plus retries counted from the Durable history. */
export const TimelineEntry = StepRecord.extend({
  retries: z.int().nonnegative(),
  /** The step's prompt-cache hit rate, 0–1 (cacheHitRate.ts); null before any prompt token. */
  cacheHitRate: z.number().min(0).max(1).nullable().optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** A decision made through the operator API, as recorded in the audit log. */
export const ApprovalRecord = z.strictObject({
  event: z.string(),
  approved: z.boolean(),
  by: z.string(),
  at: z.string(),
  comment: z.string().optional(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/** One operator action on a run: who, when, what, and why. */
export const AuditRecord = z.strictObject({
  runId: z.string(),
  action: z.enum([...RUN_ACTIONS, ...APPROVAL_ACTIONS, 'purge']),
  by: z.string(),
  at: z.string(),
  reason: z.string().optional(),
  comment: z.string().optional(),
  /**
   * `business`: a business caller acted through `/api/runs/{id}/approve|reject|cancel` (function key).
   * `event`: the run's history shows an approval event no operator or business call recorded, e.g. one
   * raised directly through the Durable `sendEventPostUri`; `by` is then what the event said, if known.
   */
  via: z.enum(['business', 'event']).optional(),
  /** approve/reject: the event raised. */
  event: z.string().optional(),
  /** restart, on the original run: the run it started. */
  newRunId: z.string().optional(),
  /** restart, on the new run: the run it was restarted from. */
  restartedFrom: z.string().optional(),
  /** purge: the filter and how many instances went. */
  filter: z.record(z.string(), z.unknown()).optional(),
  instancesDeleted: z.int().nonnegative().optional(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export interface RunDetail extends RunSummary {
  /** The workflow input with secret-looking values masked. */
  readonly input: unknown;
  readonly output: unknown;
  readonly error?: { readonly kind: string; readonly message: string; readonly stepId?: string };
  readonly ledger: unknown;
  readonly timeline: TimelineEntry[];
  readonly approvals: ApprovalRecord[];
  readonly actions: AuditRecord[];
  /** The completion callback, for a run started with one (`CallbackOutcome` in shared/requestTypes.ts). */
  readonly callback?: CallbackOutcome;
  /** Raw Durable history events, with `?history=true`. */
  readonly history?: unknown[];
  /** Everything the run did on one time axis (operator/waterfall.ts). */
  readonly waterfall: WaterfallSpan[];
  /** The agent and child runs this run started, with theirs. */
  readonly children: ChildRun[];
  /** Batch runs: failed items with their errors (at most {@link MAX_FAILED_ITEMS}). */
  readonly failedItems?: FailedItem[];
}

export const MAX_FAILED_ITEMS = 50;

export interface FailedItem {
  readonly line: number;
  readonly runId: string;
  readonly status: string;
  readonly error: { readonly kind: string; readonly message: string; readonly stepId?: string } | null;
}

export const SPAN_KINDS = [
  'step',
  'model',
  'tool',
  'activity',
  'retry_wait',
  'timer',
  'approval',
  'child',
] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

/**
 * One bar of a run's waterfall. `id` is `<instance>#<event id>` for what the Durable history holds
 * (drill-down: `GET /api/operator/runs/{id}/calls/{eventId}?instance=<instance>`), `step:<id>` for steps.
 */
export interface WaterfallSpan {
  readonly id: string;
  readonly kind: SpanKind;
  readonly name: string;
  /** The Durable instance the event is in: the run, or one of its agent/child runs. */
  readonly instanceId: string;
  readonly eventId?: number;
  readonly stepId?: string;
  readonly status: 'running' | 'completed' | 'failed' | 'waiting' | 'skipped' | 'canceled';
  readonly start: string;
  readonly end?: string;
  /** Depth in the child tree: 0 for the run's own events. */
  readonly depth: number;
  readonly model?: {
    readonly provider: string;
    readonly deployment: string;
    readonly model?: string;
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly cacheReadTokens: number;
    readonly cacheWriteTokens: number;
    readonly cacheHitRate: number | null;
    readonly costUsd: number;
    readonly latencyMs?: number;
    readonly stopReason?: string;
  };
  /** Tool calls: the tool's name (the activity is `tool_<name>`). */
  readonly tool?: string;
  /** Child spans: the child instance. */
  readonly childId?: string;
  /** What went wrong, shortened. */
  readonly error?: string;
  /** Drill-down exists for this span. */
  readonly detail: boolean;
}

/** One agent or child run in the tree. */
export interface ChildRun {
  readonly id: string;
  readonly orchestrator: string;
  readonly stepId?: string;
  readonly status: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly children: ChildRun[];
}

/** `GET /api/operator/runs/{id}/calls/{eventId}`: what one model or tool call was given and answered. */
export interface CallDetail {
  readonly runId: string;
  readonly instanceId: string;
  readonly eventId: number;
  readonly span: WaterfallSpan;
  /** Model calls: the system prompt and the messages sent, rebuilt from the agent's history. */
  readonly request?: { readonly system?: string; readonly messages: unknown[]; readonly note?: string };
  /** Model calls: the answer's text, thinking summary and tool calls. */
  readonly response?: {
    readonly text: string;
    readonly thinking: string[];
    readonly toolCalls: { readonly id: string; readonly name: string; readonly arguments: unknown }[];
    readonly stopReason?: string;
  };
  /** Tool calls: the arguments the model gave and what the tool answered. */
  readonly arguments?: unknown;
  readonly result?: unknown;
  /** A failed call's error (TaskFailed reason and details, or the model failure). */
  readonly failure?: unknown;
}

/** `GET /api/operator/workflows`: the workflows this app knows, for the list's filter. */
export interface WorkflowList {
  readonly workflows: { readonly name: string; readonly version: string | number }[];
}

export interface ActionAccepted {
  readonly id: string;
  readonly action: RunAction | ApprovalAction;
  readonly newRunId?: string;
}
