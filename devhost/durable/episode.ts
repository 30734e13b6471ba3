import { randomUUID } from 'node:crypto';
import type { FunctionInvoker, LogLevel } from '../functions/types.js';
import { ActionType, flattenActions, processActions, type OrchestratorStateDto } from './actions.js';
import { formatTimeSpan } from './clock.js';
import { EventType, makeEvent, replayView, type HistoryEvent, type TaskFailure } from './history.js';
import {
  applyDeliveredEvent,
  isAllocating,
  newLedger,
  type Ledger,
  type Outgoing,
  type TimingOptions,
} from './ledger.js';
import type { InstanceRow, MessageRow } from './store.js';
import { inputFieldChars, type WireMeter } from './wireMeter.js';
import { VERSION_MISMATCH_DETAILS, versionVerdict, type VersioningOptions } from './versioning.js';

export interface EpisodePlan {
  /** Messages to delete in the commit. */
  consumed: number[];
  /** Events to append to history (IsPlayed false as sent; stored as played). */
  events: HistoryEvent[];
  outgoing: Outgoing[];
  row: InstanceRow;
  ledger: Ledger;
  /** New execution started by continueAsNew (history is reset, ExecutionStarted queued). */
  continueAsNew?: { input: string };
  /** Parent notification when the instance reached a terminal state. */
  notifyParent?: HistoryEvent;
  /** Whether undelivered messages remain (batch cut), so the instance must run again. */
  more: boolean;
  terminated?: boolean;
}

export interface EpisodeEnv {
  invoker: FunctionInvoker;
  replayMode: 'batched' | 'eventByEvent';
  timing: Omit<TimingOptions, 'selfId'>;
  now: () => number;
  log: (line: string) => void;
  userLog: (level: LogLevel, line: string) => void;
  /** Counts each episode's payload and answer, as sent and as the extension would send them. */
  wire?: WireMeter;
  /** host.json orchestration versioning; checked before every episode (durable/versioning.ts). */
  versioning?: VersioningOptions;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

/** The extension's custom status limit, in KB of UTF-16 text. */
export const MAX_CUSTOM_STATUS_KB = 16;

/**
 * The extension's custom status check, or undefined when `serialized` passes it. The out-of-proc shim
 * sets the status first thing when it reads an orchestrator's answer (Listener/OutOfProcOrchestrationShim.cs
 * `ScheduleDurableTaskEvents` → ContextImplementations/DurableOrchestrationContext.cs `SetCustomStatus`),
 * which serializes it with `MessagePayloadDataConverter.Serialize(value, 16)`: the UTF-16 byte count
 * divided by 1,024, truncated to an int, must not exceed 16, else ArgumentException with this text, and
 * TaskOrchestrationShim fails the orchestration with "Orchestrator function '<name>' failed: <message>"
 * (azure-functions-durable-extension at a7c6d694, src/WebJobs.Extensions.DurableTask/). A JavaScript
 * string's length counts UTF-16 code units, two bytes each: the limit is 8,703 characters of JSON.
 */
export function customStatusTooLarge(serialized: string): string | undefined {
  const kb = Math.trunc((serialized.length * 2) / 1024);
  if (kb <= MAX_CUSTOM_STATUS_KB) return undefined;
  const n0 = (value: number) => value.toLocaleString('en-US');
  return `The UTF-16 size of the JSON-serialized payload must not exceed ${n0(MAX_CUSTOM_STATUS_KB)} KB. The current payload size is ${n0(kb)} KB.`;
}

function parentFailure(
  row: InstanceRow,
  reason: string,
  failureDetails: string | null,
): HistoryEvent | undefined {
  if (row.parent_instance_id === null || row.parent_task_id === null) return undefined;
  const failure: TaskFailure = { Reason: reason, Details: reason };
  if (failureDetails !== null)
    failure.FailureDetails = JSON.parse(failureDetails) as TaskFailure['FailureDetails'];
  return {
    ...makeEvent(EventType.SubOrchestrationInstanceFailed, 0, { TaskScheduledId: row.parent_task_id }),
    ...failure,
  };
}

/** Decides what one orchestration episode consumes, runs the orchestrator, and returns what to commit. */
export async function planEpisode(
  env: EpisodeEnv,
  row: InstanceRow,
  messages: MessageRow[],
  history: { joined: string; count: number; leftOutChars: number; prefixKey?: string },
): Promise<EpisodePlan | undefined> {
  const ledger = JSON.parse(row.ledger) as Ledger;
  const plan: EpisodePlan = { consumed: [], events: [], outgoing: [], row: { ...row }, ledger, more: false };
  const now = Math.max(env.now(), ledger.lastTs);
  if (env.versioning) {
    const verdict = versionVerdict(row.version, env.versioning);
    if (verdict === 'reject') {
      // Reject abandons the work item: nothing is consumed or changed, the messages wait for a worker
      // whose defaultVersion matches (here: the next host started with one).
      env.log(
        `${row.name} (${row.instance_id}) left waiting: its version '${row.version ?? ''}' does not match ` +
          `this worker's defaultVersion '${env.versioning.defaultVersion ?? ''}' (${env.versioning.matchStrategy}).`,
      );
      return undefined;
    }
    if (verdict === 'fail') return versionFailure(plan, messages, now);
  }
  let status = row.status;
  const batch: HistoryEvent[] = [];
  let cut = false;
  let held = false;
  const ordered = history.count === 0 ? startFirst(messages) : messages;
  for (const m of ordered) {
    const ev = JSON.parse(m.event) as HistoryEvent;
    if (m.execution_id !== null && m.execution_id !== row.execution_id) {
      plan.consumed.push(m.id);
      continue;
    }
    if (ev.EventType === EventType.ExecutionTerminated) {
      const reason = ev.Input ?? 'null';
      plan.consumed = messages.map((x) => x.id);
      plan.events = [
        ev,
        makeEvent(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Terminated', Result: reason }),
      ];
      plan.row.status = 'Terminated';
      plan.row.output = reason;
      plan.terminated = true;
      const text = JSON.parse(reason) as unknown;
      plan.notifyParent = parentFailure(row, `Terminated: ${typeof text === 'string' ? text : reason}`, null);
      return plan;
    }
    if (ev.EventType === EventType.ExecutionSuspended || ev.EventType === EventType.ExecutionResumed) {
      plan.consumed.push(m.id);
      const suspend = ev.EventType === EventType.ExecutionSuspended;
      if (suspend !== (status === 'Suspended')) {
        status = suspend ? 'Suspended' : 'Running';
        plan.events.push(ev);
      }
      continue;
    }
    if (status === 'Suspended' || cut) {
      held = true;
      continue;
    }
    batch.push({ ...ev, Timestamp: ev.Timestamp });
    plan.consumed.push(m.id);
    if (env.replayMode === 'eventByEvent' && !(ev.EventType === EventType.ExecutionStarted)) cut = true;
    if (isAllocating(ledger, ev, now)) cut = true;
  }
  plan.row.status = status;
  plan.more = held && status !== 'Suspended';
  if (batch.length === 0) return plan.consumed.length > 0 ? plan : undefined;
  if (status === 'Pending') plan.row.status = 'Running';
  ledger.lastTs = now;

  const started = makeEvent(EventType.OrchestratorStarted, now);
  const newEvents = [...plan.events, started, ...batch];
  const stable = `{"history":[${history.joined}`;
  const payload =
    `${stable}${history.count > 0 ? ',' : ''}${newEvents.map((e) => JSON.stringify(replayView(e))).join(',')}]` +
    `,"input":${row.input ?? 'null'},"instanceId":${JSON.stringify(row.instance_id)},"isReplaying":${history.count > 0}` +
    `,"parentInstanceId":${JSON.stringify(row.parent_instance_id)},"upperSchemaVersion":1` +
    `,"upperSchemaVersionNew":${env.timing.schemaVersion - 1}` +
    `,"longRunningTimerIntervalDuration":"${formatTimeSpan(env.timing.longRunningTimerIntervalMs)}"` +
    `,"maximumShortTimerDuration":"${formatTimeSpan(env.timing.maximumShortTimerMs)}"` +
    `,"defaultHttpAsyncRequestSleepTimeMillseconds":30000}`;

  const logs: [LogLevel, string][] = [];
  let state: OrchestratorStateDto | undefined;
  let crash: string | undefined;
  let answerChars = 0;
  try {
    const out = await env.invoker.invoke(row.name, {
      trigger: { json: payload },
      logSink: (level, message) => logs.push([level, message]),
      logContext: `orchestrator, ${row.instance_id}, ${batch.length} new event(s)`,
      knownOrchestratorActions: ledger.actionsSeen,
      // The history so far begins every later payload of this cache entry (the runner's `prefixKey`).
      ...(history.prefixKey !== undefined
        ? { triggerPrefix: { key: history.prefixKey, chars: stable.length } }
        : {}),
    });
    const rv = out.returnValue;
    if (rv && 'json' in rv) {
      answerChars = rv.json.length;
      state = JSON.parse(rv.json) as OrchestratorStateDto;
    } else
      crash = `Orchestrator function '${row.name}' returned no OrchestratorState; is it registered with df.app.orchestration?`;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = message.indexOf(OUT_OF_PROC_LABEL);
    answerChars = message.length;
    if (at >= 0) state = JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorStateDto;
    else crash = message;
  }
  if (env.wire) {
    let newLeftOut = 0;
    for (const e of newEvents) if (replayView(e) !== e) newLeftOut += inputFieldChars(e.Input ?? '');
    env.wire.record(
      payload.length,
      history.leftOutChars + newLeftOut,
      answerChars,
      ledger.droppedInputChars ?? 0,
    );
  }
  for (const [level, line] of logs.slice(ledger.logsSeen)) env.userLog(level, `[${row.name}] ${line}`);
  ledger.logsSeen = Math.max(ledger.logsSeen, logs.length);

  plan.events.push(started, ...batch);
  const emit = (e: HistoryEvent): void => void plan.events.push(e);
  const timing: TimingOptions = { ...env.timing, selfId: row.instance_id };
  let statusRefused: string | undefined;
  if (state !== undefined && state.customStatus !== undefined && state.customStatus !== null) {
    const serialized = JSON.stringify(state.customStatus);
    statusRefused = customStatusTooLarge(serialized);
    if (statusRefused === undefined) plan.row.custom_status = serialized;
  } else if (state !== undefined && state.customStatus === null) plan.row.custom_status = 'null';
  if (statusRefused !== undefined) {
    // The extension sets the custom status before it replays the actions, so none of them is scheduled.
    crash = statusRefused;
  } else if (state !== undefined && state.error === undefined) {
    try {
      const flat = flattenActions(state);
      const res = processActions(ledger, flat, row.name, now, timing, emit, plan.outgoing);
      for (const ev of batch) applyDeliveredEvent(ledger, ev, now, timing, emit, plan.outgoing);
      if (state.isDone) {
        if (
          res.continueAsNewInput !== undefined ||
          flat.some((a) => a.actionType === ActionType.ContinueAsNew)
        ) {
          plan.continueAsNew = { input: res.continueAsNewInput ?? 'null' };
          plan.events.push(makeEvent(EventType.ContinueAsNew, now, { Result: plan.continueAsNew.input }));
        } else {
          const result = state.output === undefined ? 'null' : JSON.stringify(state.output);
          plan.row.status = 'Completed';
          plan.row.output = result;
          plan.events.push(
            makeEvent(EventType.ExecutionCompleted, now, {
              OrchestrationStatus: 'Completed',
              Result: result,
            }),
          );
          if (row.parent_task_id !== null) {
            plan.notifyParent = makeEvent(EventType.SubOrchestrationInstanceCompleted, now, {
              TaskScheduledId: row.parent_task_id,
              Result: result,
            });
          }
        }
      }
    } catch (err) {
      crash = err instanceof Error ? err.message : String(err);
    }
  } else if (state?.error !== undefined) {
    crash = state.error;
  }
  if (crash !== undefined) {
    const message = `Orchestrator function '${row.name}' failed: ${crash}`;
    const details = state?.failureDetails ? JSON.stringify(state.failureDetails) : null;
    plan.outgoing = [];
    plan.row.status = 'Failed';
    plan.row.output = JSON.stringify(message);
    plan.row.failure_details = details;
    plan.events.push(
      makeEvent(EventType.ExecutionCompleted, now, {
        OrchestrationStatus: 'Failed',
        Result: JSON.stringify(message),
        ...(state?.failureDetails ? { FailureDetails: state.failureDetails } : {}),
      }),
    );
    const notify = parentFailure(row, message, details);
    if (notify) plan.notifyParent = { ...notify, Timestamp: new Date(now).toISOString() };
  }
  plan.events.push(makeEvent(EventType.OrchestratorCompleted, now));
  if (plan.continueAsNew) {
    plan.row.execution_id = randomUUID().replace(/-/g, '');
    plan.row.input = plan.continueAsNew.input;
    plan.outgoing = [];
    plan.ledger = { ...newLedger(), lastTs: now };
  }
  plan.more ||= cut;
  return plan;
}

/**
 * versionFailureStrategy `Fail`: the orchestrator does not run; the instance completes as Failed with
 * the dispatcher's VersionMismatch failure details (durable/versioning.ts), and a parent hears of it.
 * The status output the extension shows then is unverified; devhost shows the failure's message.
 */
function versionFailure(plan: EpisodePlan, messages: MessageRow[], now: number): EpisodePlan {
  const row = plan.row;
  plan.consumed = messages.map((m) => m.id);
  const delivered = startFirst(messages)
    .map((m) => JSON.parse(m.event) as HistoryEvent)
    .filter((ev) => ev.EventType !== EventType.ExecutionTerminated);
  const message = VERSION_MISMATCH_DETAILS.ErrorMessage;
  plan.events = [
    makeEvent(EventType.OrchestratorStarted, now),
    ...delivered,
    makeEvent(EventType.ExecutionCompleted, now, {
      OrchestrationStatus: 'Failed',
      Result: JSON.stringify(message),
      FailureDetails: { ...VERSION_MISMATCH_DETAILS },
    }),
    makeEvent(EventType.OrchestratorCompleted, now),
  ];
  row.status = 'Failed';
  row.output = JSON.stringify(message);
  row.failure_details = JSON.stringify(VERSION_MISMATCH_DETAILS);
  const notify = parentFailure(row, message, row.failure_details);
  if (notify) plan.notifyParent = { ...notify, Timestamp: new Date(now).toISOString() };
  return plan;
}

function startFirst(messages: MessageRow[]): MessageRow[] {
  const i = messages.findIndex((m) => m.event.includes('"EventType":0,'));
  if (i <= 0) return messages;
  const copy = [...messages];
  const [first] = copy.splice(i, 1);
  return first ? [first, ...copy] : messages;
}
