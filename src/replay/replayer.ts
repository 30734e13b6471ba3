/**
 * Replays recorded orchestration histories against the orchestrator code of the current build, the way
 * the Functions worker runs it, and reports where the code no longer does what the history says it did.
 *
 * Each orchestrator episode of the history (an OrchestratorStarted up to the next) is run as the
 * extension runs it: the durable-functions orchestration handler gets the events before the episode as
 * past events and the episode's delivered events (OrchestratorStarted, ExecutionStarted, completions,
 * fired timers, raised events) as new events. Its answer is then checked against the events the
 * recorded episode produced, with DurableTask.Core's rules (Azure/durabletask
 * `src/DurableTask.Core/TaskOrchestrationContext.cs`, `HandleTaskScheduledEvent`,
 * `HandleTimerCreatedEvent`, `HandleSubOrchestrationCreatedEvent`, `HandleEventSentEvent`): every
 * TaskScheduled / TimerCreated / SubOrchestrationInstanceCreated / EventSent event must find an action of
 * the same kind under its sequence number (its EventId), and activities and sub-orchestrations the same
 * name (case-insensitive). On top of that, like Temporal's replayer, an episode that ended the execution
 * (completed, failed, continued as new) must end it the same way, and one that did not must not.
 * durable-functions itself checks none of this (lib/src/orchestrations/TaskOrchestrationExecutor.js
 * matches completions by sequence number and never reads the scheduling events), so without this check
 * a changed orchestrator silently gets the results of other tasks.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { describeEvent, END_EVENTS, EventType, SCHEDULING_EVENTS, type HistoryEvent } from './history.js';
import {
  describeScheduled,
  withSdkNumbering,
  type ScheduledKind,
  type ScheduledTask,
} from './sdkNumbering.js';

/** A registered orchestrator function's handler, as the worker calls it: (trigger, context) → OrchestratorState. */
export type OrchestratorFunction = (
  orchestrationTrigger: unknown,
  context: InvocationContext,
) => Promise<unknown>;

/** One orchestration instance's history (one execution) with what the trigger needs besides it. */
export interface ReplayInstance {
  readonly instanceId: string;
  /** The orchestrator function's name. */
  readonly name: string;
  readonly parentInstanceId?: string | null;
  /** The execution's input as JSON text (ExecutionStarted's Input). */
  readonly input: string | null;
  readonly history: readonly HistoryEvent[];
}

/** The answer an orchestrator gave (OrchestratorState, lib/src/orchestrations/OrchestratorState.js). */
export interface OrchestratorAnswer {
  readonly isDone: boolean;
  readonly actions: unknown[][];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

export type DivergenceKind =
  | 'not-scheduled'
  | 'other-kind'
  | 'other-name'
  | 'not-completed'
  | 'completed-early'
  | 'failed'
  | 'not-failed'
  | 'no-continue-as-new'
  | 'unknown-orchestrator';

/** Where the current code stopped matching the history. */
export interface Divergence {
  readonly kind: DivergenceKind;
  readonly instanceId: string;
  readonly orchestrator: string;
  /** 1-based episode (orchestrator invocation) of the history. */
  readonly episode: number;
  /** Position of the recorded event in the history (0-based), when one is involved. */
  readonly eventIndex?: number;
  /** The recorded event, e.g. `TaskScheduled #3 "callModel"`. */
  readonly expected: string;
  /** What the current code did instead, e.g. `activity #3 "tool_web_search"` or `nothing`. */
  readonly actual: string;
  /** The workflow step the run was in, when the caller can tell (see ReplayOptions.stepOf). */
  readonly step?: string;
  readonly message: string;
}

export interface InstanceReplayResult {
  readonly instanceId: string;
  readonly orchestrator: string;
  readonly episodes: number;
  /** The recorded history's events. */
  readonly events: number;
  readonly divergence?: Divergence;
  /** The answer of the last episode replayed. */
  readonly lastAnswer?: OrchestratorAnswer;
}

export interface ReplayOptions {
  /** The handler registered under an orchestrator name, or undefined when the build has none. */
  readonly orchestrator: (name: string) => OrchestratorFunction | undefined;
  /**
   * Replay schema offered, as the extension offers it (`upperSchemaVersionNew`: 2 means V3, what the
   * Durable extension 2.x/3.x sends; lib/src/orchestrations/ReplaySchema.js). Default 2.
   */
  readonly upperSchemaVersionNew?: number;
  /** `maximumShortTimerDuration` / `longRunningTimerIntervalDuration` as the extension sends them. */
  readonly maximumShortTimerDuration?: string;
  readonly longRunningTimerIntervalDuration?: string;
  /** The workflow step to name in a divergence, from the answer's custom status or the instance. */
  readonly stepOf?: (instance: ReplayInstance, answer: OrchestratorAnswer | undefined) => string | undefined;
}

const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

interface Episode {
  /** Index of its OrchestratorStarted. */
  readonly start: number;
  /** Index after its last event. */
  readonly end: number;
}

function episodesOf(history: readonly HistoryEvent[]): Episode[] {
  const starts = history.flatMap((event, index) =>
    event.EventType === EventType.OrchestratorStarted ? [index] : [],
  );
  return starts.map((start, i) => ({ start, end: starts[i + 1] ?? history.length }));
}

/** Whether an event of an episode was produced by the episode's answer (rather than delivered to it). */
function producedByEpisode(event: HistoryEvent): boolean {
  return (
    SCHEDULING_EVENTS.has(event.EventType) ||
    END_EVENTS.has(event.EventType) ||
    event.EventType === EventType.OrchestratorCompleted
  );
}

/** The orchestration trigger's JSON as the extension builds it (OrchestrationTriggerAttributeBindingProvider). */
function triggerOf(
  instance: ReplayInstance,
  past: readonly HistoryEvent[],
  delivered: readonly HistoryEvent[],
  options: ReplayOptions,
): unknown {
  return {
    history: [
      ...past.map((event) => ({ ...event, IsPlayed: true })),
      ...delivered.map((event) => ({ ...event, IsPlayed: false })),
    ],
    input: instance.input === null ? null : (JSON.parse(instance.input) as unknown),
    instanceId: instance.instanceId,
    isReplaying: past.length > 0,
    parentInstanceId: instance.parentInstanceId ?? null,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: options.upperSchemaVersionNew ?? 2,
    longRunningTimerIntervalDuration: options.longRunningTimerIntervalDuration ?? '3.00:00:00',
    maximumShortTimerDuration: options.maximumShortTimerDuration ?? '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
}

/** Runs one orchestrator invocation; a thrown OrchestrationFailureError carries the answer after its label. */
async function invoke(
  handler: OrchestratorFunction,
  instance: ReplayInstance,
  trigger: unknown,
): Promise<{ answer: OrchestratorAnswer; scheduled: Map<number, ScheduledTask> }> {
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: instance.name,
    // Replays repeat the orchestrator's logs; they are not the replayer's output.
    logHandler: () => undefined,
  });
  const { result, scheduled } = await withSdkNumbering(context as { df?: unknown }, async () => {
    try {
      return JSON.parse(JSON.stringify(await handler(trigger, context))) as OrchestratorAnswer;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const at = message.indexOf(OUT_OF_PROC_LABEL);
      if (at >= 0) return JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorAnswer;
      return { isDone: false, actions: [[]], error: message } satisfies OrchestratorAnswer;
    }
  });
  return { answer: result, scheduled };
}

const EXPECTED_KIND: Partial<Record<number, ScheduledKind>> = {
  [EventType.TaskScheduled]: 'activity',
  [EventType.TimerCreated]: 'timer',
  [EventType.SubOrchestrationInstanceCreated]: 'subOrchestration',
  [EventType.EventSent]: 'entityOrEvent',
};

/** The DurableTask.Core check of one recorded scheduling event against the action under its number. */
function checkScheduled(event: HistoryEvent, task: ScheduledTask | undefined): DivergenceKind | undefined {
  if (task === undefined) return 'not-scheduled';
  if (EXPECTED_KIND[event.EventType] !== task.kind) return 'other-kind';
  const named =
    event.EventType === EventType.TaskScheduled ||
    event.EventType === EventType.SubOrchestrationInstanceCreated;
  if (named && (event.Name ?? '').toLowerCase() !== (task.name ?? '').toLowerCase()) return 'other-name';
  return undefined;
}

function hasContinueAsNew(answer: OrchestratorAnswer): boolean {
  return JSON.stringify(answer.actions).includes('"actionType":4');
}

/** Replays one instance's history; stops at the first divergence. */
export async function replayInstance(
  instance: ReplayInstance,
  options: ReplayOptions,
): Promise<InstanceReplayResult> {
  const history = instance.history;
  const base = { instanceId: instance.instanceId, orchestrator: instance.name, events: history.length };
  const handler = options.orchestrator(instance.name);
  if (handler === undefined) {
    return {
      ...base,
      episodes: 0,
      divergence: {
        kind: 'unknown-orchestrator',
        instanceId: instance.instanceId,
        orchestrator: instance.name,
        episode: 0,
        expected: `orchestrator "${instance.name}"`,
        actual: 'no orchestrator of that name in this build',
        message: `This build registers no orchestrator named "${instance.name}", so the instance cannot continue.`,
      },
    };
  }
  const episodes = episodesOf(history);
  let previous: OrchestratorAnswer | undefined;
  for (const [index, episode] of episodes.entries()) {
    const events = history.slice(episode.start, episode.end);
    const delivered = events.filter((event) => !producedByEpisode(event));
    const produced = events.flatMap((event, offset) =>
      producedByEpisode(event) ? [{ event, at: episode.start + offset }] : [],
    );
    // A terminated instance runs no code: the host ends it.
    if (delivered.some((event) => event.EventType === EventType.ExecutionTerminated)) {
      return { ...base, episodes: index, ...(previous ? { lastAnswer: previous } : {}) };
    }
    const trigger = triggerOf(instance, history.slice(0, episode.start), delivered, options);
    const { answer, scheduled } = await invoke(handler, instance, trigger);
    const diverge = (
      kind: DivergenceKind,
      expected: string,
      actual: string,
      message: string,
      eventIndex?: number,
    ): InstanceReplayResult => {
      const step = options.stepOf?.(instance, answer) ?? options.stepOf?.(instance, previous);
      return {
        ...base,
        episodes: index + 1,
        lastAnswer: answer,
        divergence: {
          kind,
          instanceId: instance.instanceId,
          orchestrator: instance.name,
          episode: index + 1,
          ...(eventIndex !== undefined ? { eventIndex } : {}),
          expected,
          actual,
          ...(step !== undefined ? { step } : {}),
          message,
        },
      };
    };
    const ended = produced.find(({ event }) => END_EVENTS.has(event.EventType));
    const recordedFailure =
      ended !== undefined &&
      (ended.event.EventType === EventType.ExecutionFailed || ended.event.OrchestrationStatus === 'Failed');
    if (answer.error !== undefined && !recordedFailure) {
      return diverge(
        'failed',
        ended ? describeEvent(ended.event) : `episode ${index + 1} without a failure`,
        `orchestrator failed: ${answer.error}`,
        `The orchestrator now fails where the recorded run went on: ${answer.error}`,
        ended?.at,
      );
    }
    for (const { event, at } of produced) {
      if (!SCHEDULING_EVENTS.has(event.EventType)) continue;
      const task = scheduled.get(event.EventId);
      const kind = checkScheduled(event, task);
      if (kind === undefined) continue;
      const actual = describeScheduled(task);
      return diverge(
        kind,
        describeEvent(event),
        actual,
        `History event ${at} (${describeEvent(event)}) was scheduled by the recorded run, but this build ` +
          `${task === undefined ? `did not schedule anything with sequence number ${event.EventId}` : `scheduled ${actual} instead`}. ` +
          'Runs in flight would break (non-deterministic orchestrator).',
        at,
      );
    }
    if (ended !== undefined) {
      const what = describeEvent(ended.event);
      if (ended.event.EventType === EventType.ContinueAsNew) {
        if (!answer.isDone || !hasContinueAsNew(answer))
          return diverge(
            'no-continue-as-new',
            what,
            answer.isDone ? 'completed' : 'still running',
            `The recorded run continued as new here; this build ${answer.isDone ? 'completed instead' : 'did not'}.`,
            ended.at,
          );
      } else if (recordedFailure) {
        if (answer.error === undefined)
          return diverge(
            'not-failed',
            what,
            answer.isDone ? 'completed' : 'still running',
            `The recorded run failed here; this build ${answer.isDone ? 'completed' : 'kept running'} instead.`,
            ended.at,
          );
      } else if (!answer.isDone || hasContinueAsNew(answer)) {
        return diverge(
          'not-completed',
          what,
          answer.isDone ? 'continued as new' : 'still running',
          `The recorded run completed here; this build ${answer.isDone ? 'continued as new' : 'has not finished'}.`,
          ended.at,
        );
      }
    } else if (answer.isDone) {
      return diverge(
        'completed-early',
        `episode ${index + 1} without an end (${delivered.map(describeEvent).join(', ')})`,
        hasContinueAsNew(answer) ? 'continued as new' : 'completed',
        `This build ends the orchestration in episode ${index + 1}, where the recorded run went on.`,
      );
    }
    previous = answer;
  }
  return { ...base, episodes: episodes.length, ...(previous ? { lastAnswer: previous } : {}) };
}

/** A one-line description of a divergence for terminals and CI logs. */
export function describeDivergence(divergence: Divergence): string {
  const where = [
    `${divergence.orchestrator} ${divergence.instanceId}`,
    divergence.step !== undefined ? `step "${divergence.step}"` : undefined,
    `episode ${divergence.episode}`,
    divergence.eventIndex !== undefined ? `history event ${divergence.eventIndex}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
  return `${where}: expected ${divergence.expected}, got ${divergence.actual}. ${divergence.message}`;
}
