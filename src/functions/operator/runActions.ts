import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import type {
  DurableInstance,
  DurableManagement,
  InstanceOperation,
  OperationOutcome,
} from '../../operator/durableManagement.js';
import { viewOf } from '../../operator/runViews.js';
import {
  ActionBody,
  ApprovalAction,
  ApprovalBody,
  RunAction,
  isFinished,
  type ActionAccepted,
  type AuditRecord,
} from '../../shared/operatorTypes.js';
import type { ApprovalDecision } from '../../shared/schemas.js';
import { problem, problemResponse } from '../problem.js';
import {
  answerProblems,
  badRequest,
  conflict,
  managementFor,
  operatorIdentity,
  readJsonBody,
  unknownRun,
  type OperatorDeps,
} from './operatorHttp.js';

const ACTIONS = [...RunAction.options, ...ApprovalAction.options];

interface Acting {
  readonly client: DurableClient;
  readonly management: DurableManagement;
  readonly instance: DurableInstance;
  readonly by: string;
}

type Outcome =
  | { done: true; audit: Partial<AuditRecord>; newRunId?: string }
  | { done: false; response: HttpResponseInit };

const refused = (detail: string): Outcome => ({ done: false, response: conflict(detail) });

/**
 * What the runtime answered to an operation the run's state allowed a moment ago: 410 means it finished
 * (or, for an event, stopped) in between, 404 that it was purged.
 */
function settled(
  outcome: OperationOutcome,
  id: string,
  what: string,
  audit: Partial<AuditRecord> = {},
): Outcome {
  if (outcome === 'accepted') return { done: true, audit };
  if (outcome === 'notFound') return { done: false, response: unknownRun(id) };
  return refused(`Run ${id} finished before the ${what} reached it.`);
}

const operate = async (acting: Acting, operation: InstanceOperation, reason: string): Promise<Outcome> =>
  settled(
    await acting.management.operate(acting.instance.instanceId, operation, reason),
    acting.instance.instanceId,
    operation,
  );

/** Terminate, suspend, resume, rewind and restart: the Durable operation, after checking it makes sense now. */
async function runAction(action: RunAction, acting: Acting, reason: string | undefined): Promise<Outcome> {
  const { instance, by } = acting;
  const id = instance.instanceId;
  const status = instance.runtimeStatus;
  const why = reason ?? `${action} by ${by} through the operator API`;
  switch (action) {
    case 'terminate':
      if (isFinished(status)) return refused(`Run ${id} has already finished (${status}).`);
      return operate(acting, 'terminate', why);
    case 'suspend':
      if (status !== 'Running') return refused(`Only a running run can be suspended; ${id} is ${status}.`);
      return operate(acting, 'suspend', why);
    case 'resume':
      if (status !== 'Suspended') return refused(`Only a suspended run can be resumed; ${id} is ${status}.`);
      return operate(acting, 'resume', why);
    case 'rewind': {
      if (status !== 'Failed') {
        const outcome = viewOf(instance).outcome;
        const hint =
          outcome === 'failed' || outcome === 'budget_exceeded'
            ? ` It finished with outcome "${outcome}", a result rather than a crash: restart it instead.`
            : '';
        return refused(`Only a run whose orchestration failed can be rewound; ${id} is ${status}.${hint}`);
      }
      return operate(acting, 'rewind', why);
    }
    case 'restart': {
      if (instance.input === null || instance.input === undefined) {
        return refused(`Run ${id} has no recorded input to restart from.`);
      }
      const newRunId = await acting.client.startNew(instance.name, { input: instance.input });
      return { done: true, audit: { newRunId }, newRunId };
    }
  }
}

async function decide(action: ApprovalAction, acting: Acting, comment: string | undefined): Promise<Outcome> {
  const { management, instance, by } = acting;
  const waitingFor = viewOf(instance).progress?.waitingFor;
  if (isFinished(instance.runtimeStatus) || !waitingFor) {
    return refused(
      `Run ${instance.instanceId} is not waiting for an approval (it is ${instance.runtimeStatus}).`,
    );
  }
  const decision: ApprovalDecision = {
    approved: action === 'approve',
    by,
    ...(comment === undefined ? {} : { comment }),
  };
  const outcome = await management.raiseEvent(instance.instanceId, waitingFor.event, decision);
  return settled(outcome, instance.instanceId, `${action} decision`, { event: waitingFor.event });
}

/** One accepted action: who asked, on which run, and through which API (recorded with it). */
export interface ActRequest {
  readonly id: string;
  readonly action: RunAction | ApprovalAction;
  readonly by: string;
  readonly reason?: string | undefined;
  readonly comment?: string | undefined;
  /** Set for the business routes (`/api/runs/{id}/…`); the operator API records none. */
  readonly via?: 'business';
  /** Refuses runs this API may not act on (e.g. the business routes: top-level workflow runs only). */
  readonly accepts?: (instance: DurableInstance) => string | undefined;
}

/** Carries out one action on a run, records it in the audit log and answers 202 (or the problem). */
export async function actOnRun(
  deps: OperatorDeps,
  context: InvocationContext,
  act: ActRequest,
): Promise<HttpResponseInit> {
  const now = deps.now ?? (() => new Date());
  const { id, action, by, reason, comment } = act;
  const approval = ApprovalAction.safeParse(action);
  return answerProblems(context, async () => {
    const client = deps.getClient(context);
    const management = managementFor(deps, client);
    const instance = await management.getInstance(id, { input: action === 'restart' });
    const notHere = instance ? act.accepts?.(instance) : undefined;
    if (!instance || notHere !== undefined) return unknownRun(id);
    const acting = { client, management, instance, by };
    const outcome = approval.success
      ? await decide(approval.data, acting, comment)
      : await runAction(action as RunAction, acting, reason);
    if (!outcome.done) return outcome.response;

    const at = now().toISOString();
    const via = act.via === undefined ? {} : { via: act.via };
    const record: AuditRecord = {
      runId: id,
      action,
      by,
      at,
      ...via,
      ...(reason === undefined ? {} : { reason }),
      ...(comment === undefined ? {} : { comment }),
      ...outcome.audit,
    };
    const records: AuditRecord[] = [record];
    if (outcome.newRunId !== undefined) {
      records.push({
        runId: outcome.newRunId,
        action: 'restart',
        by,
        at,
        restartedFrom: id,
        ...(reason === undefined ? {} : { reason }),
      });
    }
    const who = act.via === 'business' ? 'Caller' : 'Operator';
    try {
      for (const entry of records) await deps.audit.append(entry);
    } catch (error) {
      context.error(`${who} ${by}: ${action} run ${id} done but not recorded: ${String(error)}`);
      return problemResponse(
        problem(
          'audit-failed',
          500,
          'Done but not recorded',
          `The ${action} of run ${id} was carried out, but the audit log could not be written; see the app logs.`,
        ),
      );
    }
    context.log(`${who} ${by}: ${action} run ${id}${outcome.newRunId ? ` → ${outcome.newRunId}` : ''}`);
    const accepted: ActionAccepted = {
      id,
      action,
      ...(outcome.newRunId === undefined ? {} : { newRunId: outcome.newRunId }),
    };
    return { status: 202, jsonBody: accepted };
  });
}

/**
 * `POST /api/operator/runs/{id}/{action}`: terminate, suspend, resume, rewind or restart (`{ reason? }`),
 * approve or reject a pending approval (`{ comment? }`). Each accepted action is recorded with who and when.
 */
export function createRunAction(deps: OperatorDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    const actionName = request.params.action ?? '';
    const approval = ApprovalAction.safeParse(actionName);
    const runActionName = RunAction.safeParse(actionName);
    if (!approval.success && !runActionName.success) {
      return problemResponse(
        problem(
          'unknown-action',
          404,
          'Unknown action',
          `No action "${actionName}"; use ${ACTIONS.join(', ')}.`,
        ),
      );
    }
    const identity = operatorIdentity(request);
    if (!identity.ok)
      return badRequest(identity.detail, [{ parameter: identity.header, detail: identity.detail }]);
    const body = approval.success
      ? await readJsonBody(request, ApprovalBody)
      : await readJsonBody(request, ActionBody);
    if (!body.ok) return body.response;
    const { reason, comment } = body.value as { reason?: string; comment?: string };
    const action = approval.success ? approval.data : (runActionName.data as RunAction);
    return actOnRun(deps, context, { id, action, by: identity.by, reason, comment });
  };
}
