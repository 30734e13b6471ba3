import type { FunctionInvoker, TypedData } from '../functions/types.js';
import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import { isTerminal } from './episode.js';
import {
  EventType,
  makeEvent,
  type FailureDetailsDto,
  type HistoryEvent,
  type TaskFailure,
} from './history.js';
import type { DurableStore, WorkItemRow } from './store.js';

/** Runs activity work items and delivers their TaskCompleted/TaskFailed to the orchestration. */
export class ActivityRunner {
  constructor(
    private readonly invoker: FunctionInvoker,
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly dispatcher: Dispatcher,
    private readonly failureDetailsAlways: boolean,
  ) {}

  async run(item: WorkItemRow): Promise<void> {
    let event: HistoryEvent;
    try {
      const out = await this.invoker.invoke(item.name, {
        trigger: { json: item.input },
        logContext: `activity, ${item.instance_id}#${item.task_id}`,
      });
      event = makeEvent(EventType.TaskCompleted, 0, {
        TaskScheduledId: item.task_id,
        Result: typedDataToJson(out.returnValue),
      });
    } catch (err) {
      event = {
        ...makeEvent(EventType.TaskFailed, 0, { TaskScheduledId: item.task_id }),
        ...activityFailure(item.name, err, this.failureDetailsAlways),
      };
    }
    if (this.dispatcher.stopping) return;
    event.Timestamp = new Date(this.clock.now()).toISOString();
    const q = this.store.q;
    // A work item deleted meanwhile (instance terminated or recreated), or one of an older
    // execution, must not deliver its result.
    const delivered = await this.store.groupTx(() => {
      if (q.deleteWorkItem.run(item.id).changes === 0) return false;
      const inst = q.getInstance.get(item.instance_id);
      if (!inst || isTerminal(inst.status) || inst.execution_id !== item.execution_id) return false;
      q.insertMessage.run(item.instance_id, item.execution_id, 0, JSON.stringify(event), null);
      return true;
    });
    this.dispatcher.activityFinished(item.instance_id, delivered);
  }
}

function activityFailure(name: string, err: unknown, failureDetailsAlways: boolean): TaskFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const provided = parseProvidedFailure(e.message);
  if (provided) {
    return {
      Reason: `Activity function '${name}' failed: ${provided.ErrorMessage}`,
      Details: provided.StackTrace ?? '',
      FailureDetails: provided,
    };
  }
  const failure = { Reason: `Activity function '${name}' failed: ${e.message}`, Details: e.stack ?? '' };
  if (!failureDetailsAlways) return failure;
  return {
    ...failure,
    FailureDetails: {
      ErrorType: e.name,
      ErrorMessage: e.message,
      ...(e.stack ? { StackTrace: e.stack } : {}),
      IsNonRetriable: false,
    },
  };
}

/** The message durable-functions' wrapActivityHandler sets when an exception properties provider is registered. */
function parseProvidedFailure(message: string): FailureDetailsDto | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const p = JSON.parse(message) as Record<string, unknown>;
    if (typeof p.errorType !== 'string' || typeof p.errorMessage !== 'string') return undefined;
    return {
      ErrorType: p.errorType,
      ErrorMessage: p.errorMessage,
      ...(typeof p.stackTrace === 'string' ? { StackTrace: p.stackTrace } : {}),
      IsNonRetriable: p.isNonRetriable === true,
      ...(p.properties && typeof p.properties === 'object'
        ? { Properties: p.properties as Record<string, unknown> }
        : {}),
    };
  } catch {
    return undefined;
  }
}

/** An activity's return binding as the JSON text TaskCompleted.Result carries. */
function typedDataToJson(data: TypedData | Record<string, unknown> | null): string {
  if (data === undefined || data === null) return 'null';
  const d = data as Record<string, unknown>;
  if (typeof d.json === 'string') return d.json;
  if (typeof d.string === 'string') return JSON.stringify(d.string);
  if (typeof d.int === 'number' || typeof d.int === 'string') return String(Number(d.int));
  if (typeof d.double === 'number') return JSON.stringify(d.double);
  if (d.bytes instanceof Uint8Array) return JSON.stringify(Buffer.from(d.bytes).toString('base64'));
  return 'null';
}
