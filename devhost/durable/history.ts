/** DurableTask.Core history events in the JSON shape the durable-functions SDK reads (numeric EventType). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

const EVENT_TYPE_NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

export function eventTypeName(type: number): string {
  return EVENT_TYPE_NAMES[type] ?? `Unknown(${type})`;
}

/** FailureDetails as DurableTask.Core serializes it (PascalCase). */
export interface FailureDetailsDto {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
  InnerFailure?: FailureDetailsDto;
}

export interface HistoryEvent {
  EventType: EventTypeValue;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Version?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  /** GenericEvent (the rewind wake-up). */
  Data?: string;
  FailureDetails?: FailureDetailsDto;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationStatus?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: {
    OrchestrationInstance: { InstanceId: string };
    TaskScheduleId: number;
    Name: string;
  } | null;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function makeEvent(
  type: EventTypeValue,
  timestampMs: number,
  fields: Omit<Partial<HistoryEvent>, 'EventType' | 'Timestamp'> = {},
): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: iso(timestampMs), ...fields };
}

/**
 * Events whose `Input` durable-functions 3.x never reads during replay: it takes the orchestration's
 * input from the payload's `input` field, and matches scheduled tasks by sequence, not by input.
 */
const INPUT_NOT_REPLAYED = new Set<number>([
  EventType.ExecutionStarted,
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
]);

/** The event as the replay payload carries it: without inputs the SDK ignores (they stay in stored history). */
export function replayView(event: HistoryEvent): HistoryEvent {
  if (event.Input === undefined || !INPUT_NOT_REPLAYED.has(event.EventType)) return event;
  const view = { ...event };
  delete view.Input;
  return view;
}

/** `replayView` of a stored event's JSON text, reusing the text when nothing is left out. */
export function replayText(stored: string, event?: HistoryEvent): string {
  const parsed = event ?? (stored.includes('"Input"') ? (JSON.parse(stored) as HistoryEvent) : undefined);
  if (parsed === undefined) return stored;
  const view = replayView(parsed);
  return view === parsed ? stored : JSON.stringify(view);
}

/** A failure as carried by TaskFailed / SubOrchestrationInstanceFailed. */
export interface TaskFailure {
  Reason: string;
  Details: string;
  FailureDetails?: FailureDetailsDto;
}
