import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { Names, callbackInstanceId } from '../../shared/names.js';
import { callbackViewOf, hasCallback } from '../runView.js';
import { detailOf, stepRecordsOf, viewOf } from '../../operator/runViews.js';
import {
  descendantHistories,
  failedBatchItems,
  historyOf,
  withEventApprovals,
} from '../../operator/runSources.js';
import { buildTimeline, countFailedAttempts, stepOfChild } from '../../operator/timeline.js';
import {
  buildWaterfall,
  childTree,
  childrenByParent,
  type InstanceHistory,
} from '../../operator/waterfall.js';
import { answerProblems, badRequest, managementFor, unknownRun, type OperatorDeps } from './operatorHttp.js';

/**
 * `GET /api/operator/runs/{id}[?history=true]`: the run with its step timeline, waterfall, child tree,
 * ledger, approvals and operator actions (approvals its history shows merged in); a batch with its failed
 * items; input, output and history with secret-looking values masked.
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
      const isBatch = instance.name === Names.orchestrators.runBatch;
      const [descendants, actions, failedItems, callback] = await Promise.all([
        isBatch
          ? Promise.resolve(new Map<string, InstanceHistory>())
          : descendantHistories(management, instance),
        deps.audit.list(id),
        isBatch ? failedBatchItems(management, id) : Promise.resolve(undefined),
        hasCallback(instance.input)
          ? management.getInstance(callbackInstanceId(id), { history: false, input: false })
          : undefined,
      ]);
      const records = stepRecordsOf(instance);
      // Retries count the run's direct children only, as before (grandchildren are in the waterfall).
      const direct = new Map(
        (childrenByParent(id, descendants).get(id) ?? [])
          .filter((child) => stepOfChild(id, child.instanceId) !== undefined)
          .map((child) => [child.instanceId, child.historyEvents]),
      );
      const failedAttempts = countFailedAttempts(id, records, history, direct);
      const steps = buildTimeline(records, instance, failedAttempts);
      const root = historyOf(instance);
      const waterfall = buildWaterfall(root, steps, descendants);
      const detail = detailOf({
        instance,
        actions: withEventApprovals(id, actions, waterfall, viewOf(instance).error),
        failedAttempts,
        includeHistory: historyParam === 'true',
        waterfall,
        children: childTree(id, descendants),
        ...(failedItems ? { failedItems } : {}),
        callback: hasCallback(instance.input) ? callbackViewOf(callback) : null,
      });
      return { status: 200, jsonBody: detail };
    });
  };
}
