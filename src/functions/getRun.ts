import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { problem, problemResponse } from './problem.js';
import { toRunView } from './runView.js';

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

/** `GET /api/runs/{id}`: one run's status, workflow, progress, output or error, and cost ledger. */
export function createGetRun(deps: GetRunDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    try {
      const status = await deps.getClient(context).getStatus(id);
      return { status: 200, jsonBody: toRunView(status) };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return unknownRun(id);
    }
  };
}
