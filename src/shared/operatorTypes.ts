/** The operator API contract (`/api/operator/…`), shared by its handlers, the dashboard and the CLI. */
import { z } from 'zod';
import { ModelBatchProgress } from './modelBatchTypes.js';
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

/** Only finished runs can be purged. */
export const PURGEABLE_STATUSES = ['Completed', 'Failed', 'Canceled', 'Terminated'] as const;

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

/** One row of `GET /api/operator/runs`. */
export const RunSummary = z.strictObject({
  id: z.string(),
  workflow: z.string().nullable(),
  version: z.union([z.string(), z.number()]).nullable(),
  status: z.string(),
  outcome: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  progress: RunProgressSummary.optional(),
  costUsd: z.number().nonnegative(),
  waitingFor: WaitingFor.optional(),
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
  /** Set when a business caller acted through `/api/runs/{id}/approve|reject|cancel` (function key). */
  via: z.literal('business').optional(),
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
  /** Raw Durable history events, with `?history=true`. */
  readonly history?: unknown[];
}

export interface ActionAccepted {
  readonly id: string;
  readonly action: RunAction | ApprovalAction;
  readonly newRunId?: string;
}
