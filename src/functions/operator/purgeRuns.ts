import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { OrchestrationRuntimeStatus } from 'durable-functions';
import { PURGE_RUN_ID } from '../../operator/auditStore.js';
import { PURGEABLE_STATUSES, PurgeBody } from '../../shared/operatorTypes.js';
import { badRequest, operatorIdentity, readJsonBody, type OperatorDeps } from './operatorHttp.js';

/**
 * `POST /api/operator/purge` `{ createdFrom?, createdTo?, status? }`: deletes the history of finished
 * runs created in the range (default: any time until now) with those statuses (default: every finished one).
 * Audit records are kept.
 */
export function createPurgeRuns(deps: Pick<OperatorDeps, 'getClient' | 'audit' | 'now'>): HttpHandler {
  const now = deps.now ?? (() => new Date());
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const identity = operatorIdentity(request);
    if (!identity.ok)
      return badRequest(identity.detail, [{ parameter: identity.header, detail: identity.detail }]);
    const body = await readJsonBody(request, PurgeBody);
    if (!body.ok) return body.response;
    const at = now();
    const createdTimeFrom = new Date(body.value.createdFrom ?? 0);
    const createdTimeTo = body.value.createdTo === undefined ? at : new Date(body.value.createdTo);
    if (createdTimeFrom > createdTimeTo) {
      return badRequest('createdFrom must not be after createdTo', [
        { pointer: '/createdFrom', detail: 'must not be after createdTo' },
      ]);
    }
    const statuses = body.value.status ?? [...PURGEABLE_STATUSES];
    const result = await deps.getClient(context).purgeInstanceHistoryBy({
      createdTimeFrom,
      createdTimeTo,
      runtimeStatus: statuses.map((status) => status as OrchestrationRuntimeStatus),
    });
    const instancesDeleted = result.instancesDeleted;
    const filter = {
      createdFrom: createdTimeFrom.toISOString(),
      createdTo: createdTimeTo.toISOString(),
      status: statuses,
    };
    await deps.audit.append({
      runId: PURGE_RUN_ID,
      action: 'purge',
      by: identity.by,
      at: at.toISOString(),
      filter,
      instancesDeleted,
    });
    context.log(
      `Operator ${identity.by}: purged ${instancesDeleted} instance(s) (${JSON.stringify(filter)})`,
    );
    return { status: 200, jsonBody: { instancesDeleted } };
  };
}
