/**
 * The business callers' own actions on their runs, under the function key: `POST /api/runs/{id}/approve`,
 * `/reject` (`{ comment? }`) and `/cancel` (`{ reason? }`). They replace the Durable management URLs the
 * 202 used to hand out, which carry the system key (read, terminate and purge any run, approve outside the
 * audit). Each accepted action is recorded in the audit log with the caller and `via: "business"`.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { DurableInstance } from '../operator/durableManagement.js';
import { ActionBody, ApprovalBody } from '../shared/operatorTypes.js';
import { Names } from '../shared/names.js';
import {
  appServicePrincipalName,
  badRequest,
  readJsonBody,
  type OperatorDeps,
} from './operator/operatorHttp.js';
import { actOnRun } from './operator/runActions.js';
import { problem, problemResponse } from './problem.js';
import { callerScope } from './startWorkflow.js';

export const BUSINESS_ACTIONS = ['approve', 'reject', 'cancel'] as const;
const BusinessAction = z.enum(BUSINESS_ACTIONS);

/**
 * Who the caller is, for the audit: the App Service authentication principal's name when there is one,
 * else the caller scope idempotency keys use (`principal:<id>`, or `key:<hash of the function key>`).
 */
export function businessCaller(
  request: HttpRequest,
): { ok: true; by: string } | { ok: false; header: string; detail: string } {
  const principal = appServicePrincipalName(request);
  if (!principal.ok) return principal;
  return { ok: true, by: principal.name ?? callerScope(request) };
}

/** The business routes act on top-level workflow runs only, not on batches or a run's internals. */
export function businessRunProblem(instance: DurableInstance): string | undefined {
  return instance.name === Names.orchestrators.runWorkflow && !instance.instanceId.includes(':')
    ? undefined
    : `not a workflow run`;
}

export function createBusinessRunAction(deps: OperatorDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    const parsed = BusinessAction.safeParse(request.params.action ?? '');
    if (!parsed.success) {
      return problemResponse(
        problem(
          'unknown-action',
          404,
          'Unknown action',
          `No action "${request.params.action ?? ''}" on runs; use ${BUSINESS_ACTIONS.join(', ')}.`,
        ),
      );
    }
    const caller = businessCaller(request);
    if (!caller.ok) return badRequest(caller.detail, [{ parameter: caller.header, detail: caller.detail }]);
    const action = parsed.data;
    if (action === 'cancel') {
      const body = await readJsonBody(request, ActionBody);
      if (!body.ok) return body.response;
      return actOnRun(deps, context, {
        id,
        action: 'terminate',
        by: caller.by,
        reason: body.value.reason ?? `canceled by ${caller.by}`,
        via: 'business',
        accepts: businessRunProblem,
      });
    }
    const body = await readJsonBody(request, ApprovalBody);
    if (!body.ok) return body.response;
    return actOnRun(deps, context, {
      id,
      action,
      by: caller.by,
      comment: body.value.comment,
      via: 'business',
      accepts: businessRunProblem,
    });
  };
}
