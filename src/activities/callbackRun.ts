/**
 * The activities of the `runCallback` orchestration (orchestrators/completionCallback.ts): `startCallback`
 * starts it for a run (once: a second execution of the activity finds it there), and `readRunForCallback`
 * reads the run's status and, once it is final, the body the receiver gets.
 */
import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { isNotFound } from '../functions/getRun.js';
import { toRunView } from '../functions/runView.js';
import { isFinished } from '../shared/operatorTypes.js';
import { callbackInstanceId, Names } from '../shared/names.js';
import { StartCallbackInput, type RunCallbackInput, type RunForCallback } from '../shared/requestTypes.js';

export interface CallbackRunDeps {
  readonly getClient: (context: InvocationContext) => DurableClient;
}

/** What the callback URL receives: the run as `GET /api/runs/{id}` shows it once finished. */
export function callbackBody(view: ReturnType<typeof toRunView>): Record<string, unknown> {
  return {
    id: view.id,
    workflow: view.workflow,
    version: view.version,
    status: view.status,
    outcome: view.outcome,
    output: view.output,
    error: view.error,
    ledger: view.ledger,
    finishedAt: view.lastUpdatedTime,
  };
}

export function createCallbackRunActivities(deps: CallbackRunDeps) {
  async function startCallback(raw: unknown, context: InvocationContext): Promise<{ started: boolean }> {
    const { runId, url } = StartCallbackInput.parse(raw);
    const client = deps.getClient(context);
    const instanceId = callbackInstanceId(runId);
    try {
      await client.getStatus(instanceId, { showInput: false });
      return { started: false };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const input: RunCallbackInput = { runId, url, polls: 0 };
    await client.startNew(Names.orchestrators.runCallback, { instanceId, input });
    return { started: true };
  }

  async function readRunForCallback(raw: unknown, context: InvocationContext): Promise<RunForCallback> {
    if (typeof raw !== 'string' || raw === '') throw new Error('readRunForCallback takes a run id');
    const status = await deps.getClient(context).getStatus(raw, { showInput: true });
    const runtimeStatus: string = status.runtimeStatus;
    if (!isFinished(runtimeStatus)) return { finished: false, status: runtimeStatus };
    return { finished: true, status: runtimeStatus, body: callbackBody(toRunView(status)) };
  }

  return { startCallback, readRunForCallback };
}
