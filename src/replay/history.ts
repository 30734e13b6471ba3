/**
 * History events in the shape the orchestration trigger carries them to the language worker: the
 * DurableTask.Core events with a numeric `EventType` (durable-functions 3.5
 * `lib/src/history/HistoryEventType.js`, the fields its `lib/src/history/*Event.js` classes read).
 */
import { z } from 'zod';

/**
 * devhost/durable/history.ts keeps the same table: devhost imports nothing from src/ and the app does
 * not ship devhost, so each side names the wire protocol's numbers itself.
 */
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

const NAMES = new Map<number, string>(Object.entries(EventType).map(([name, value]) => [value, name]));

export function eventTypeName(type: number): string {
  return NAMES.get(type) ?? `Unknown(${type})`;
}

const FailureDetails: z.ZodType<{
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string | null | undefined;
  IsNonRetriable?: boolean | undefined;
  Properties?: Record<string, unknown> | null | undefined;
  InnerFailure?: unknown;
}> = z.looseObject({
  ErrorType: z.string(),
  ErrorMessage: z.string(),
  StackTrace: z.string().nullish(),
  IsNonRetriable: z.boolean().optional(),
  Properties: z.record(z.string(), z.unknown()).nullish(),
  InnerFailure: z.unknown().optional(),
});

/** One event; unknown fields are kept (the worker receives them too). */
export const HistoryEvent = z.looseObject({
  EventType: z
    .number()
    .int()
    .refine((type) => NAMES.has(type), { message: 'is not a DurableTask.Core EventType (0–20)' }),
  EventId: z.number().int(),
  IsPlayed: z.boolean().optional(),
  Timestamp: z.string().refine((text) => !Number.isNaN(Date.parse(text)), { message: 'is not a date-time' }),
  Name: z.string().optional(),
  Input: z.string().optional(),
  Result: z.string().optional(),
  Reason: z.string().optional(),
  Details: z.string().optional(),
  FailureDetails: FailureDetails.optional(),
  TaskScheduledId: z.number().int().optional(),
  TimerId: z.number().int().optional(),
  FireAt: z.string().optional(),
  InstanceId: z.string().optional(),
  OrchestrationStatus: z.string().optional(),
});
export type HistoryEvent = z.infer<typeof HistoryEvent>;

/** Events the orchestrator's own answer produced: the host appends them after the episode's new events. */
export const SCHEDULING_EVENTS: ReadonlySet<number> = new Set([
  EventType.TaskScheduled,
  EventType.TimerCreated,
  EventType.SubOrchestrationInstanceCreated,
  EventType.EventSent,
]);

/** Events that end an execution. */
export const END_EVENTS: ReadonlySet<number> = new Set([
  EventType.ExecutionCompleted,
  EventType.ExecutionFailed,
  EventType.ContinueAsNew,
]);

/** A short description of an event for reports, e.g. `TaskScheduled #3 "callModel"`. */
export function describeEvent(event: HistoryEvent): string {
  const id = event.EventId >= 0 ? ` #${event.EventId}` : '';
  const name = event.Name !== undefined ? ` "${event.Name}"` : '';
  const child = event.InstanceId !== undefined ? ` (instance ${event.InstanceId})` : '';
  const status = event.OrchestrationStatus !== undefined ? ` (${event.OrchestrationStatus})` : '';
  return `${eventTypeName(event.EventType)}${id}${name}${child}${status}`;
}
