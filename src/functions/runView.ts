import type { ArtifactRef } from '../shared/toolTypes.js';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { cacheHitRate } from '../shared/cacheHitRate.js';
import type { TokenUsage } from '../shared/modelTypes.js';
import {
  RunProgress,
  RunWorkflowInput,
  RunWorkflowOutput,
  type LedgerRow,
  type RunOutcome,
} from '../shared/runTypes.js';

export interface RunError {
  readonly kind: string;
  readonly message: string;
  readonly stepId?: string;
}

export interface RunLedgerView {
  /** Per step, role and deployment; only once the run has finished. */
  readonly rows?: readonly (LedgerRow & { readonly cacheHitRate: number | null })[];
  readonly totals: {
    readonly calls?: number;
    readonly usage: TokenUsage;
    readonly costUsd: number;
    /** Cache read ÷ (input + cache write + cache read), 0–1; null before any prompt token (cacheHitRate.ts). */
    readonly cacheHitRate: number | null;
  };
}

/** What `GET /api/runs/{id}` (and `?wait` on the starter) answers. */
export interface RunView {
  readonly id: string;
  /** The orchestrator function (`runWorkflow`, or `agentLoop` for an agent step's sub-run). */
  readonly orchestrator: string;
  readonly workflow: string | null;
  readonly version: string | number | null;
  /** The Durable runtime status: Pending, Running, Completed, Failed, Terminated, Suspended, … */
  readonly status: string;
  /** How a finished `runWorkflow` run ended: completed, budget_exceeded or failed. */
  readonly outcome: RunOutcome | null;
  readonly progress: RunProgress | null;
  readonly output: unknown;
  readonly error: RunError | null;
  readonly ledger: RunLedgerView | null;
  /** Files the run's tools produced (blob references), once it has finished. */
  readonly artifacts: ArtifactRef[];
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'Completed',
  'Failed',
  'Terminated',
  'Canceled',
]);

/** Workflow name and version from the input, for a run that has not reported progress yet. */
export function identityFromInput(
  input: unknown,
): { workflow: string; version: string | number } | undefined {
  const parsed = RunWorkflowInput.safeParse(input);
  return parsed.success
    ? { workflow: parsed.data.definition.name, version: parsed.data.definition.version }
    : undefined;
}

function failureMessage(output: unknown, fallback: string): string {
  if (typeof output === 'string' && output.trim() !== '') return output;
  if (output !== null && output !== undefined) return JSON.stringify(output);
  return fallback;
}

export function toRunView(status: DurableOrchestrationStatus): RunView {
  const runtimeStatus: string = status.runtimeStatus;
  const progress = RunProgress.safeParse(status.customStatus);
  const result = runtimeStatus === 'Completed' ? RunWorkflowOutput.safeParse(status.output) : undefined;
  const finished = result?.success ? result.data : undefined;
  const identity = finished ?? (progress.success ? progress.data : identityFromInput(status.input));

  let error: RunError | null = null;
  if (finished?.error) error = finished.error;
  else if (runtimeStatus === 'Failed')
    error = { kind: 'orchestration_failed', message: failureMessage(status.output, 'The run failed') };
  else if (runtimeStatus === 'Terminated')
    error = { kind: 'terminated', message: failureMessage(status.output, 'The run was terminated') };

  let ledger: RunLedgerView | null = null;
  if (finished) {
    const { rows, totals } = finished.ledger;
    ledger = {
      rows: rows.map((row) => ({ ...row, cacheHitRate: cacheHitRate(row.usage) })),
      totals: { ...totals, cacheHitRate: cacheHitRate(totals.usage) },
    };
  } else if (progress.success) {
    const { usage, costUsd } = progress.data;
    ledger = { totals: { usage, costUsd, cacheHitRate: cacheHitRate(usage) } };
  }

  let output: unknown = null;
  if (finished) output = finished.output ?? null;
  else if (runtimeStatus === 'Completed') output = status.output ?? null;

  return {
    id: status.instanceId,
    orchestrator: status.name,
    workflow: identity?.workflow ?? null,
    version: identity?.version ?? null,
    status: runtimeStatus,
    outcome: finished?.outcome ?? null,
    progress: progress.success ? progress.data : null,
    output,
    error,
    ledger,
    artifacts: finished?.artifacts ?? [],
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
  };
}
