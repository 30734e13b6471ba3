import type { ArtifactRef } from '../shared/toolTypes.js';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { cacheHitRate } from '../shared/cacheHitRate.js';
import { CallbackOutcome } from '../shared/requestTypes.js';
import { parseRunFailure } from '../shared/runFailure.js';
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
  /** Where the completion callback stands, for a run started with one (`runCallback`, `<id>:callback`). */
  readonly callback: CallbackView | null;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
}

/** A run's completion callback: waiting for the run, pending (between attempts), delivered or failed. */
export type CallbackView = CallbackOutcome;

function withoutFinal(progress: RunProgress): RunProgress {
  if (progress.final === undefined) return progress;
  const { final: _final, ...rest } = progress;
  return rest;
}

/**
 * The callback's state from its orchestration's status (undefined when it has not started yet): its
 * output once finished, its custom status while it runs; an orchestration that crashed counts as failed.
 */
export function callbackViewOf(
  status:
    { readonly runtimeStatus: string; readonly output: unknown; readonly customStatus?: unknown } | undefined,
): CallbackView {
  if (status === undefined) return { state: 'waiting', attempts: 0 };
  const runtimeStatus: string = status.runtimeStatus;
  const done = CallbackOutcome.safeParse(status.output);
  if (runtimeStatus === 'Completed' && done.success) return done.data;
  if (runtimeStatus === 'Failed' || runtimeStatus === 'Terminated') {
    const reason = failureMessage(status.output, `the callback orchestration is ${runtimeStatus}`);
    return { state: 'failed', attempts: 0, lastError: reason };
  }
  const current = CallbackOutcome.safeParse(status.customStatus);
  return current.success ? current.data : { state: 'waiting', attempts: 0 };
}

/** Whether the run was started with a completion callback (its input names one). */
export function hasCallback(input: unknown): boolean {
  const parsed = RunWorkflowInput.safeParse(input);
  return parsed.success && parsed.data.callback !== undefined;
}

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

/** What a run that stopped without completing reports: from `final`, or only outcome and error. */
interface StoppedResult {
  readonly outcome: RunOutcome;
  readonly error?: RunError;
  readonly ledger?: RunWorkflowOutput['ledger'];
  readonly artifacts?: ArtifactRef[];
}

/**
 * The result a run that stopped without completing left before failing: from its last custom status
 * (`final`), or, when that is missing (a status refused as too large), from its failure message.
 */
function stoppedResult(
  status: DurableOrchestrationStatus,
  progress: RunProgress | undefined,
): StoppedResult | undefined {
  return progress?.final ?? parseRunFailure(status.output);
}

export function toRunView(status: DurableOrchestrationStatus): RunView {
  const runtimeStatus: string = status.runtimeStatus;
  const parsedProgress = RunProgress.safeParse(status.customStatus);
  const result = runtimeStatus === 'Completed' ? RunWorkflowOutput.safeParse(status.output) : undefined;
  const stopped = runtimeStatus === 'Failed' ? stoppedResult(status, parsedProgress.data) : undefined;
  // `final` is the result, shown as outcome, error, ledger and artifacts: not progress.
  const progress = parsedProgress.success
    ? { success: true as const, data: withoutFinal(parsedProgress.data) }
    : parsedProgress;
  const finished: StoppedResult | undefined = result?.success ? result.data : stopped;
  const identity =
    (result?.success ? result.data : undefined) ??
    (progress.success ? progress.data : identityFromInput(status.input));

  let error: RunError | null = null;
  if (finished?.error) error = finished.error;
  else if (runtimeStatus === 'Failed')
    error = { kind: 'orchestration_failed', message: failureMessage(status.output, 'The run failed') };
  else if (runtimeStatus === 'Terminated')
    error = { kind: 'terminated', message: failureMessage(status.output, 'The run was terminated') };

  let ledger: RunLedgerView | null = null;
  if (finished?.ledger) {
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
  if (result?.success) output = result.data.output ?? null;
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
    callback: null,
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
  };
}
