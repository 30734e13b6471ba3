import { forEachAction } from '../functions/orchestratorActions.js';
import { EventType, type FailureDetailsDto, type HistoryEvent } from './history.js';
import { droppedActionInputChars } from './wireMeter.js';
import {
  scheduleAttempt,
  subOrchestrationId,
  type Ledger,
  type Outgoing,
  type RetryOptionsDto,
  type RetryTask,
  type TimingOptions,
} from './ledger.js';

/** ActionType values of durable-functions (actions/ActionType.js). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface ActionDto {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  version?: string;
  retryOptions?: RetryOptionsDto;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: ActionDto[];
}

/** OrchestratorState as the SDK returns it (schema V2+: one cumulative action list). */
export interface OrchestratorStateDto {
  isDone: boolean;
  actions: ActionDto[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
  failureDetails?: FailureDetailsDto;
}

const UNSUPPORTED: Record<number, string> = {
  [ActionType.CallEntity]: 'durable entities (context.df.callEntity)',
  [ActionType.SignalEntity]: 'durable entities (context.df.signalEntity)',
  [ActionType.LockEntities]: 'durable entities (context.df.lock)',
  [ActionType.ReleaseEntities]: 'durable entities (lock release)',
  [ActionType.CallHttp]: 'durable HTTP (context.df.callHttp)',
};

export class UnsupportedFeatureError extends Error {}

export function flattenActions(state: OrchestratorStateDto): ActionDto[] {
  const flat: ActionDto[] = [];
  forEachAction(state.actions, (action) => {
    flat.push(action);
    return true;
  });
  return flat;
}

/** Activity and continueAsNew inputs went through Utils.processInput: strings are already JSON text. */
function processedInputJson(input: unknown): string {
  if (typeof input === 'string') return input;
  return JSON.stringify(input ?? null);
}

/** Sub-orchestration inputs are passed raw by the SDK. */
function rawInputJson(input: unknown): string {
  return JSON.stringify(input ?? null);
}

export interface ActionResult {
  continueAsNewInput?: string;
}

/**
 * Numbers the actions past `ledger.actionsSeen` exactly as the SDK does, emitting the history
 * events (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated) and the outgoing work,
 * and cancels timers whose action became isCanceled.
 */
export function processActions(
  ledger: Ledger,
  flat: ActionDto[],
  functionName: string,
  episodeMs: number,
  timing: TimingOptions,
  emit: (e: HistoryEvent) => void,
  out: Outgoing[],
): ActionResult {
  if (flat.length < ledger.actionsSeen) {
    throw new Error(
      `Non-deterministic orchestrator '${functionName}': this replay produced ${flat.length} actions, ` +
        `but ${ledger.actionsSeen} were produced before. Orchestrator code must be deterministic.`,
    );
  }
  const result: ActionResult = {};
  const ts = new Date(episodeMs).toISOString();
  for (const [posText, timerId] of Object.entries(ledger.timers)) {
    if (flat[Number(posText)]?.isCanceled === true) {
      out.push({ kind: 'cancelTimer', timerId });
      delete ledger.timers[posText];
      delete ledger.tasks[String(timerId)];
    }
  }
  for (let pos = ledger.actionsSeen; pos < flat.length; pos++) {
    const a = flat[pos] as ActionDto;
    const unsupported = UNSUPPORTED[a.actionType];
    if (unsupported !== undefined) {
      throw new UnsupportedFeatureError(
        `Orchestrator function '${functionName}' uses ${unsupported}, which devhost does not support. ` +
          `Run it on Azure, or restructure it to use activities.`,
      );
    }
    switch (a.actionType) {
      case ActionType.CallActivity: {
        const id = ledger.nextId++;
        const name = a.functionName ?? '';
        const input = processedInputJson(a.input);
        emit({
          EventType: EventType.TaskScheduled,
          EventId: id,
          IsPlayed: false,
          Timestamp: ts,
          Name: name,
          Input: input,
        });
        out.push({ kind: 'activity', taskId: id, name, input });
        break;
      }
      case ActionType.CallSubOrchestrator: {
        const id = ledger.nextId++;
        const name = a.functionName ?? '';
        const input = rawInputJson(a.input);
        const childId = a.instanceId ?? subOrchestrationId(timing.selfId, id);
        emit({
          EventType: EventType.SubOrchestrationInstanceCreated,
          EventId: id,
          IsPlayed: false,
          Timestamp: ts,
          Name: name,
          Input: input,
          InstanceId: childId,
        });
        out.push({
          kind: 'subOrchestration',
          taskId: id,
          name,
          instanceId: childId,
          input,
          version: a.version,
        });
        break;
      }
      case ActionType.CallActivityWithRetry:
      case ActionType.CallSubOrchestratorWithRetry: {
        const sub = a.actionType === ActionType.CallSubOrchestratorWithRetry;
        if (!a.retryOptions)
          throw new Error(`Orchestrator '${functionName}' sent a retry action without retryOptions.`);
        const id = ledger.nextId++;
        const task: RetryTask = {
          k: 'retry',
          sub,
          name: a.functionName ?? '',
          input: sub ? rawInputJson(a.input) : processedInputJson(a.input),
          ...(a.instanceId !== undefined ? { instanceId: a.instanceId } : {}),
          ...(a.version !== undefined ? { version: a.version } : {}),
          opts: a.retryOptions,
          attempt: 1,
          firstMs: episodeMs,
          phase: 'run',
        };
        ledger.tasks[String(id)] = task;
        scheduleAttempt(task, id, episodeMs, timing.selfId, emit, out);
        break;
      }
      case ActionType.CreateTimer: {
        const id = ledger.nextId++;
        const finalMs = Date.parse(a.fireAt ?? '');
        if (Number.isNaN(finalMs))
          throw new Error(
            `Orchestrator '${functionName}' created a timer with invalid fireAt ${String(a.fireAt)}`,
          );
        let fireAtMs = finalMs;
        if (timing.schemaVersion >= 3 && finalMs - episodeMs > timing.maximumShortTimerMs) {
          fireAtMs = episodeMs + timing.longRunningTimerIntervalMs;
          ledger.tasks[String(id)] = { k: 'long', pos, finalMs };
        }
        emit({
          EventType: EventType.TimerCreated,
          EventId: id,
          IsPlayed: false,
          Timestamp: ts,
          FireAt: new Date(fireAtMs).toISOString(),
        });
        if (a.isCanceled === true) {
          delete ledger.tasks[String(id)];
        } else {
          ledger.timers[String(pos)] = id;
          out.push({ kind: 'timer', timerId: id, fireAtMs });
        }
        break;
      }
      case ActionType.ContinueAsNew:
        result.continueAsNewInput = processedInputJson(a.input);
        break;
      case ActionType.WaitForExternalEvent:
        break;
      default:
        throw new Error(`Orchestrator '${functionName}' returned unknown action type ${a.actionType}.`);
    }
  }
  let dropped = ledger.droppedInputChars ?? 0;
  for (let pos = ledger.actionsSeen; pos < flat.length; pos++)
    dropped += droppedActionInputChars(flat[pos] ?? {});
  ledger.droppedInputChars = dropped;
  ledger.actionsSeen = flat.length;
  return result;
}
