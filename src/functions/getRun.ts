import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { problem, problemResponse } from './problem.js';
import { BatchProgress, BatchSummary } from '../shared/batchTypes.js';
import { Names } from '../shared/names.js';
import { toRunView, type RunView } from './runView.js';

export interface GetRunDeps {
  readonly getClient: (context: InvocationContext) => DurableClient;
}

/** durable-functions 3.x reports an unknown instance only as an Error whose message names the HTTP 404. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && /\bHTTP 404\b|No instance with ID/.test(error.message);
}

export function unknownRun(id: string): HttpResponseInit {
  return problemResponse(problem('unknown-run', 404, 'Unknown run', `No run with id "${id}".`));
}

/** A batch run as `GET /api/runs/{id}` shows it: progress is done/failed/total and cost so far; output the summary. */
export interface BatchRunView extends Omit<RunView, 'progress' | 'outcome' | 'ledger'> {
  readonly kind: 'batch';
  /** Items' cost so far; per-item costs are in the results blob. */
  readonly ledger: { readonly totals: { readonly costUsd: number } } | null;
  readonly outcome: 'completed' | null;
  readonly progress: BatchProgress | null;
}

export function toBatchRunView(status: DurableOrchestrationStatus): BatchRunView {
  const base = toRunView(status);
  const progress = BatchProgress.safeParse(status.customStatus);
  const summary = BatchSummary.safeParse(status.output);
  const costUsd = summary.success
    ? summary.data.costUsd
    : progress.success
      ? progress.data.costUsd
      : undefined;
  return {
    ...base,
    kind: 'batch',
    workflow: summary.success ? summary.data.workflow : progress.success ? progress.data.workflow : null,
    version: summary.success ? summary.data.version : null,
    outcome: summary.success ? 'completed' : null,
    progress: progress.success ? progress.data : null,
    ledger: costUsd === undefined ? null : { totals: { costUsd } },
  };
}

/** `GET /api/runs/{id}`: one run's status, workflow, progress, output or error, and cost ledger. */
export function createGetRun(deps: GetRunDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    try {
      const status = await deps.getClient(context).getStatus(id);
      const view = status.name === Names.orchestrators.runBatch ? toBatchRunView(status) : toRunView(status);
      return { status: 200, jsonBody: view };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return unknownRun(id);
    }
  };
}
