import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { listRuns, parseRunListQuery } from '../../operator/listQuery.js';
import { answerProblems, badRequest, managementFor, type OperatorDeps } from './operatorHttp.js';

/**
 * `GET /api/operator/runs`: top-level runs (all instances with `all=true`), filtered by status, workflow,
 * creation time and id prefix, a page at a time with a continuation token.
 */
export function createListRuns(deps: Pick<OperatorDeps, 'getClient' | 'management'>): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const parsed = parseRunListQuery(request.query);
    if (!parsed.ok) {
      const detail = parsed.errors.map((e) => `${e.parameter}: ${e.detail}`).join('; ');
      return badRequest(`Invalid filter: ${detail}`, parsed.errors);
    }
    return answerProblems(context, async () => {
      const management = managementFor(deps, deps.getClient(context));
      return { status: 200, jsonBody: await listRuns(management, parsed.query) };
    });
  };
}
