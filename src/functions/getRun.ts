import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { problem, problemResponse } from './problem.js';

export interface GetRunDeps {
  readonly getClient: (context: InvocationContext) => DurableClient;
}

export interface RunStatus {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: string;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
}

export function toRunStatus(status: DurableOrchestrationStatus): RunStatus {
  return {
    instanceId: status.instanceId,
    name: status.name,
    runtimeStatus: status.runtimeStatus,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
  };
}

/** durable-functions 3.x reports an unknown instance only as an Error whose message names the HTTP 404. */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && /\bHTTP 404\b/.test(error.message);
}

/** `GET /api/runs/{id}`: one run's status, progress and output. */
export function createGetRun(deps: GetRunDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    try {
      const status = await deps.getClient(context).getStatus(id);
      return { status: 200, jsonBody: toRunStatus(status) };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return problemResponse(problem('unknown-run', 404, 'Unknown run', `No run with id "${id}".`));
    }
  };
}
