import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { callDetail } from '../../operator/callDetail.js';
import { historyOf } from '../../operator/runSources.js';
import { problem, problemResponse } from '../problem.js';
import { answerProblems, badRequest, managementFor, unknownRun, type OperatorDeps } from './operatorHttp.js';

/**
 * `GET /api/operator/runs/{id}/calls/{eventId}[?instance=<agent or child run id>]`: one model or tool call
 * of the run (a waterfall span with `detail: true`): the request and answer of a model call, the arguments
 * and result of a tool call, secrets masked. `instance` defaults to the run and must be the run or one of
 * its sub-orchestrations (`<id>:…`).
 */
export function createGetCallDetail(deps: Pick<OperatorDeps, 'getClient' | 'management'>): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    const eventText = request.params.eventId ?? '';
    const instanceId = request.query.get('instance') ?? id;
    if (!/^\d{1,9}$/.test(eventText)) {
      return badRequest(
        `eventId must be a whole number, the call's number (a waterfall span's eventId) (got "${eventText}")`,
        [{ parameter: 'eventId', detail: 'must be a whole number' }],
      );
    }
    if (instanceId !== id && !instanceId.startsWith(`${id}:`)) {
      return badRequest(`instance must be the run "${id}" or one of its agent or child runs ("${id}:…")`, [
        { parameter: 'instance', detail: 'must be the run or one of its sub-orchestrations' },
      ]);
    }
    return answerProblems(context, async () => {
      const management = managementFor(deps, deps.getClient(context));
      const instance = await management.getInstance(instanceId, { history: true, input: true });
      if (!instance) return unknownRun(instanceId);
      const detail = callDetail(id, historyOf(instance), instance.input, Number(eventText));
      if (!detail) {
        return problemResponse(
          problem(
            'unknown-call',
            404,
            'Unknown call',
            `Run ${instanceId} has no finished model or tool call numbered ${eventText}.`,
          ),
        );
      }
      return { status: 200, jsonBody: detail };
    });
  };
}
