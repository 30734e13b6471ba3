import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableInstance, DurableManagement } from '../../operator/durableManagement.js';
import { detailOf, stepRecordsOf } from '../../operator/runViews.js';
import { childInstanceIds, countFailedAttempts, stepOfChild } from '../../operator/timeline.js';
import { callbackInstanceId } from '../../shared/names.js';
import { callbackViewOf, hasCallback } from '../runView.js';
import { answerProblems, badRequest, managementFor, unknownRun, type OperatorDeps } from './operatorHttp.js';

/** Child histories read per detail request (for retry counts), and how many at once. */
const MAX_CHILD_HISTORIES = 64;
const CHILD_HISTORY_CONCURRENCY = 6;

async function childHistories(
  management: DurableManagement,
  runId: string,
  history: readonly Record<string, unknown>[],
): Promise<Map<string, Record<string, unknown>[]>> {
  const ids = childInstanceIds(history)
    .filter((id) => stepOfChild(runId, id) !== undefined)
    .slice(0, MAX_CHILD_HISTORIES);
  const found = new Map<string, Record<string, unknown>[]>();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < ids.length; index = next++) {
      const id = ids[index] as string;
      const child: DurableInstance | undefined = await management.getInstance(id, {
        history: true,
        input: false,
      });
      if (child?.historyEvents) found.set(id, child.historyEvents);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHILD_HISTORY_CONCURRENCY, ids.length) }, worker));
  return found;
}

/**
 * `GET /api/operator/runs/{id}[?history=true]`: the run with its step timeline, ledger, approvals and
 * operator actions; input, output and history with secret-looking values masked.
 */
export function createGetRunDetail(deps: OperatorDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    const historyParam = request.query.get('history');
    if (historyParam !== null && historyParam !== 'true' && historyParam !== 'false') {
      return badRequest(`history must be true or false (got "${historyParam}")`, [
        { parameter: 'history', detail: 'must be true or false' },
      ]);
    }
    return answerProblems(context, async () => {
      const management = managementFor(deps, deps.getClient(context));
      const instance = await management.getInstance(id, { history: true, input: true });
      if (!instance) return unknownRun(id);
      const history = instance.historyEvents ?? [];
      const [children, actions, callback] = await Promise.all([
        childHistories(management, id, history),
        deps.audit.list(id),
        hasCallback(instance.input)
          ? management.getInstance(callbackInstanceId(id), { history: false, input: false })
          : undefined,
      ]);
      const failedAttempts = countFailedAttempts(id, stepRecordsOf(instance), history, children);
      const detail = detailOf({
        instance,
        actions,
        failedAttempts,
        includeHistory: historyParam === 'true',
        callback: hasCallback(instance.input) ? callbackViewOf(callback) : null,
      });
      return { status: 200, jsonBody: detail };
    });
  };
}
