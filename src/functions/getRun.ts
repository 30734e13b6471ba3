import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { problem, problemResponse } from './problem.js';
import { BatchLaneProgress, BatchProgress, BatchSummary, laneInstanceId } from '../shared/batchJobTypes.js';
import { callbackInstanceId, Names } from '../shared/names.js';
import { callbackViewOf, hasCallback, toRunView, type CallbackView, type RunView } from './runView.js';

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

/** The batch's page-level progress plus what the running page's lanes have finished so far. */
export function withLaneProgress(
  progress: BatchProgress,
  lanes: readonly BatchLaneProgress[],
): BatchProgress {
  const done = lanes.reduce((sum, lane) => sum + lane.done, 0);
  const failed = lanes.reduce((sum, lane) => sum + lane.failed, 0);
  return {
    ...progress,
    done: progress.done + done,
    succeeded: progress.succeeded + done - failed,
    failed: progress.failed + failed,
    costUsd: progress.costUsd + lanes.reduce((sum, lane) => sum + lane.costUsd, 0),
  };
}

export function toBatchRunView(
  status: DurableOrchestrationStatus,
  lanes: readonly BatchLaneProgress[] = [],
): BatchRunView {
  const base = toRunView(status);
  const parsed = BatchProgress.safeParse(status.customStatus);
  const progress = parsed.success ? withLaneProgress(parsed.data, lanes) : undefined;
  const summary = BatchSummary.safeParse(status.output);
  const costUsd = summary.success ? summary.data.costUsd : progress?.costUsd;
  return {
    ...base,
    kind: 'batch',
    workflow: summary.success ? summary.data.workflow : (progress?.workflow ?? null),
    version: summary.success ? summary.data.version : null,
    outcome: summary.success ? 'completed' : null,
    progress: progress ?? null,
    ledger: costUsd === undefined ? null : { totals: { costUsd } },
  };
}

/**
 * The custom status of every lane of the page a batch is running (a lane not started yet, or already
 * gone, counts as nothing done), so the view moves item by item, not only page by page.
 */
async function runningLanes(
  client: DurableClient,
  status: DurableOrchestrationStatus,
): Promise<BatchLaneProgress[]> {
  const running = BatchProgress.safeParse(status.customStatus).data?.running;
  const runtimeStatus: string = status.runtimeStatus;
  if (running === undefined || runtimeStatus !== 'Running') return [];
  const lanes = await Promise.all(
    Array.from({ length: running.lanes }, (_, lane) =>
      client.getStatus(laneInstanceId(status.instanceId, running.page, lane), { showInput: false }).then(
        (lane) => BatchLaneProgress.safeParse(lane.customStatus).data,
        (error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw error;
        },
      ),
    ),
  );
  return lanes.filter((lane) => lane !== undefined);
}

/** The run's completion callback as `callback` shows it; null for a run started without one. */
export async function readCallback(
  client: DurableClient,
  runId: string,
  withCallback: boolean,
): Promise<CallbackView | null> {
  if (!withCallback) return null;
  const status = await client
    .getStatus(callbackInstanceId(runId), { showInput: false })
    .catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  return callbackViewOf(status);
}

/** `GET /api/runs/{id}`: one run's status, workflow, progress, output or error, and cost ledger. */
export function createGetRun(deps: GetRunDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    try {
      const client = deps.getClient(context);
      const status = await client.getStatus(id);
      const view =
        status.name === Names.orchestrators.runBatch
          ? toBatchRunView(status, await runningLanes(client, status))
          : { ...toRunView(status), callback: await readCallback(client, id, hasCallback(status.input)) };
      return { status: 200, jsonBody: view };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return unknownRun(id);
    }
  };
}
