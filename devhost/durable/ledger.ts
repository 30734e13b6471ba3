import { EventType, type HistoryEvent, type TaskFailure } from './history.js';

/**
 * Host-side mirror of the SDK's sequence-number allocation (TaskOrchestrationExecutor.trackOpenTask).
 * The SDK ignores TaskScheduled/TimerCreated events and numbers tasks itself, so the host must number
 * them identically: one id per activity/timer/sub-orchestration action in yield order, plus the ids the
 * SDK consumes internally: RetryableTask at each TaskFailed (retry timer) and at each retry TimerFired
 * (next attempt), LongTimerTask at each intermediate TimerFired (next chunk).
 */
export interface RetryOptionsDto {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface RetryTask {
  k: 'retry';
  sub: boolean;
  name: string;
  input: string;
  instanceId?: string;
  version?: string;
  opts: RetryOptionsDto;
  /** Attempts started so far. */
  attempt: number;
  firstMs: number;
  phase: 'run' | 'timer';
  /** Set when the retry timeout passed: later attempts fail at once with this failure. */
  expired?: TaskFailure;
}

export interface LongTimer {
  k: 'long';
  pos: number;
  finalMs: number;
}

export interface Ledger {
  nextId: number;
  actionsSeen: number;
  /** Flattened action position of each CreateTimer → the id of its current (chunk) timer. */
  timers: Record<string, number>;
  /** Open ids that need host work when their completion arrives. */
  tasks: Record<string, RetryTask | LongTimer>;
  /** Orchestrator user-log lines already printed in this execution (replays repeat them). */
  logsSeen: number;
  /** Last OrchestratorStarted timestamp, to keep episode time monotonic. */
  lastTs: number;
  /**
   * What dropping the inputs of the `actionsSeen` actions removes from an answer (wireMeter.ts); absent in
   * ledgers written before it was counted.
   */
  droppedInputChars?: number;
}

export function newLedger(): Ledger {
  return { nextId: 0, actionsSeen: 0, timers: {}, tasks: {}, logsSeen: 0, lastTs: 0, droppedInputChars: 0 };
}

/** Work the engine must commit and perform because of the ledger. */
export type Outgoing =
  | { kind: 'activity'; taskId: number; name: string; input: string }
  | { kind: 'timer'; timerId: number; fireAtMs: number }
  | {
      kind: 'subOrchestration';
      taskId: number;
      name: string;
      instanceId: string;
      input: string;
      version: string | undefined;
    }
  | { kind: 'cancelTimer'; timerId: number }
  | { kind: 'failTask'; taskId: number; sub: boolean; failure: TaskFailure };

export interface TimingOptions {
  /** The orchestration instance being run (generated sub-orchestration ids derive from it). */
  selfId: string;
  schemaVersion: 2 | 3 | 4;
  maximumShortTimerMs: number;
  longRunningTimerIntervalMs: number;
}

/** Whether delivering `event` makes the SDK consume a sequence number (see file comment). */
export function isAllocating(ledger: Ledger, event: HistoryEvent, episodeMs: number): boolean {
  const key = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
  if (key === undefined) return false;
  const task = ledger.tasks[String(key)];
  if (!task) return false;
  if (task.k === 'long') return event.EventType === EventType.TimerFired && task.finalMs > episodeMs;
  if (
    event.EventType === EventType.TaskFailed ||
    event.EventType === EventType.SubOrchestrationInstanceFailed
  ) {
    return task.phase === 'run';
  }
  if (event.EventType === EventType.TimerFired)
    return task.phase === 'timer' && task.attempt < task.opts.maxNumberOfAttempts;
  return false;
}

export function retryDelayMs(task: RetryTask, nowMs: number): number {
  const o = task.opts;
  if (o.retryTimeoutInMilliseconds !== undefined && nowMs >= task.firstMs + o.retryTimeoutInMilliseconds)
    return 0;
  const delay = o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, task.attempt - 1);
  return o.maxRetryIntervalInMilliseconds !== undefined
    ? Math.min(delay, o.maxRetryIntervalInMilliseconds)
    : delay;
}

export function failureOf(event: HistoryEvent): TaskFailure {
  return {
    Reason: event.Reason ?? '',
    Details: event.Details ?? '',
    ...(event.FailureDetails ? { FailureDetails: event.FailureDetails } : {}),
  };
}

/**
 * Applies one delivered event to the ledger (after the episode's new actions were numbered),
 * producing the history events and work the extension's .NET side would produce for it.
 */
export function applyDeliveredEvent(
  ledger: Ledger,
  event: HistoryEvent,
  episodeMs: number,
  timing: TimingOptions,
  emit: (e: HistoryEvent) => void,
  out: Outgoing[],
): void {
  const createTimer = (id: number, fireAt: number) => {
    emit({
      EventType: EventType.TimerCreated,
      EventId: id,
      IsPlayed: false,
      Timestamp: new Date(episodeMs).toISOString(),
      FireAt: new Date(fireAt).toISOString(),
    });
    out.push({ kind: 'timer', timerId: id, fireAtMs: fireAt });
  };
  const key = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
  if (key === undefined) return;
  const task = ledger.tasks[String(key)];
  if (!task) return;
  delete ledger.tasks[String(key)];
  if (task.k === 'long') {
    if (event.EventType !== EventType.TimerFired || task.finalMs <= episodeMs) {
      delete ledger.timers[String(task.pos)];
      return;
    }
    const fireAt =
      task.finalMs - episodeMs > timing.maximumShortTimerMs
        ? episodeMs + timing.longRunningTimerIntervalMs
        : task.finalMs;
    const id = ledger.nextId++;
    ledger.tasks[String(id)] = task;
    ledger.timers[String(task.pos)] = id;
    createTimer(id, fireAt);
    return;
  }
  const failed =
    event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
  if (task.phase === 'run') {
    if (!failed) return;
    const id = ledger.nextId++;
    const delay = retryDelayMs(task, episodeMs);
    if (delay <= 0 && task.expired === undefined) task.expired = failureOf(event);
    task.phase = 'timer';
    ledger.tasks[String(id)] = task;
    const fireAt = episodeMs + Math.max(0, delay);
    createTimer(id, fireAt);
    return;
  }
  if (event.EventType !== EventType.TimerFired || task.attempt >= task.opts.maxNumberOfAttempts) return;
  const id = ledger.nextId++;
  task.attempt++;
  task.phase = 'run';
  ledger.tasks[String(id)] = task;
  scheduleAttempt(task, id, episodeMs, timing.selfId, emit, out);
}

export function scheduleAttempt(
  task: RetryTask,
  id: number,
  episodeMs: number,
  selfId: string,
  emit: (e: HistoryEvent) => void,
  out: Outgoing[],
): void {
  const ts = new Date(episodeMs).toISOString();
  const childId = task.instanceId ?? subOrchestrationId(selfId, id);
  if (task.sub) {
    emit({
      EventType: EventType.SubOrchestrationInstanceCreated,
      EventId: id,
      IsPlayed: false,
      Timestamp: ts,
      Name: task.name,
      Input: task.input,
      InstanceId: childId,
    });
  } else {
    emit({
      EventType: EventType.TaskScheduled,
      EventId: id,
      IsPlayed: false,
      Timestamp: ts,
      Name: task.name,
      Input: task.input,
    });
  }
  if (task.expired) {
    out.push({ kind: 'failTask', taskId: id, sub: task.sub, failure: task.expired });
  } else if (task.sub) {
    out.push({
      kind: 'subOrchestration',
      taskId: id,
      name: task.name,
      instanceId: childId,
      input: task.input,
      version: task.version,
    });
  } else {
    out.push({ kind: 'activity', taskId: id, name: task.name, input: task.input });
  }
}

/** Id of a sub-orchestration started without an explicit instance id: `<parentId>:<taskId>`. */
export function subOrchestrationId(parentId: string, taskId: number): string {
  return `${parentId}:${taskId}`;
}
