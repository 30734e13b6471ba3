/**
 * Turns a history as the Durable HTTP API lists it (`GET instances/{id}?showHistory=true&
 * showHistoryOutput=true`) back into the events the orchestration trigger carries, when it still holds
 * what replay needs, and otherwise says exactly what is missing.
 *
 * The Durable extension trims that list for display (azure-functions-durable-extension,
 * `src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableClient.cs`,
 * `GetDurableOrchestrationStatusAsync`): EventType by name; OrchestratorStarted/Completed dropped;
 * `EventId` and `IsPlayed` removed from every event; a completed task's TaskScheduled event merged into
 * its TaskCompleted/TaskFailed as `FunctionName` + `ScheduledTime`, with `TaskScheduledId` removed;
 * `TimerId` removed from TimerFired; `Input` removed from EventRaised, ExecutionStarted and
 * ExecutionTerminated. Without the sequence numbers the completions cannot be matched to the tasks
 * (durable-functions matches them by number only), and without the raised events' inputs the
 * orchestrator cannot be given what it received, so a history from Azure cannot be replayed; this module
 * refuses it and names the fields. What the orchestrator does not need is rebuilt: OrchestratorStarted
 * events (one before each delivered event, so every delivered event is its own episode, a valid
 * delivery order; its time is that of the events it caused, else the event's own).
 */
import { EventType, SCHEDULING_EVENTS, type HistoryEvent } from './history.js';
import type { ApiHistoryEvent } from './exportFile.js';

const TYPE_BY_NAME = new Map<string, number>(Object.entries(EventType));

export type ApiHistoryConversion = { ok: true; events: HistoryEvent[] } | { ok: false; missing: string[] };

const textOf = (value: unknown): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);

const DELIVERED = new Set<number>([
  EventType.ExecutionStarted,
  EventType.TaskCompleted,
  EventType.TaskFailed,
  EventType.SubOrchestrationInstanceCompleted,
  EventType.SubOrchestrationInstanceFailed,
  EventType.TimerFired,
  EventType.EventRaised,
  EventType.ExecutionTerminated,
]);

export function fromApiHistory(events: readonly ApiHistoryEvent[]): ApiHistoryConversion {
  const missing: string[] = [];
  const converted: HistoryEvent[] = [];
  for (const [index, raw] of events.entries()) {
    const type = TYPE_BY_NAME.get(raw.EventType);
    const at = `${raw.EventType} (event ${index})`;
    if (type === undefined) {
      missing.push(`${at}: unknown EventType`);
      continue;
    }
    const number = (field: string) => {
      const value = raw[field];
      return typeof value === 'number' ? value : undefined;
    };
    const string = (field: string) => {
      const value = raw[field];
      return typeof value === 'string' ? value : undefined;
    };
    const eventId = number('EventId');
    const event: HistoryEvent = { EventType: type, EventId: eventId ?? -1, Timestamp: raw.Timestamp };
    if (SCHEDULING_EVENTS.has(type) && eventId === undefined) missing.push(`${at}: no EventId`);
    // The extension keeps Name on TaskScheduled/SubOrchestrationInstanceCreated and renames it FunctionName on
    // ExecutionStarted; completions carry their task's FunctionName, which the worker never reads.
    const named =
      SCHEDULING_EVENTS.has(type) || type === EventType.ExecutionStarted || type === EventType.EventRaised;
    const name = named ? (string('Name') ?? string('FunctionName')) : undefined;
    if (name !== undefined) event.Name = name;
    const copy = ['Reason', 'Details', 'FireAt', 'InstanceId', 'OrchestrationStatus'] as const;
    for (const field of copy) if (string(field) !== undefined) event[field] = string(field);
    if (raw.FailureDetails !== undefined)
      event.FailureDetails = raw.FailureDetails as HistoryEvent['FailureDetails'];
    switch (type) {
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const id = number('TaskScheduledId');
        if (id === undefined) missing.push(`${at}: no TaskScheduledId`);
        else event.TaskScheduledId = id;
        const completed =
          type === EventType.TaskCompleted || type === EventType.SubOrchestrationInstanceCompleted;
        if (completed && !('Result' in raw))
          missing.push(`${at}: no Result (ask with showHistoryOutput=true)`);
        if (completed) event.Result = textOf(raw.Result) ?? 'null';
        break;
      }
      case EventType.TimerFired: {
        const id = number('TimerId');
        if (id === undefined) missing.push(`${at}: no TimerId`);
        else event.TimerId = id;
        break;
      }
      case EventType.EventRaised:
        if (!('Input' in raw)) missing.push(`${at}: no Input (the event's payload)`);
        else event.Input = textOf(raw.Input) ?? 'null';
        break;
      case EventType.ExecutionCompleted:
        if ('Result' in raw) event.Result = textOf(raw.Result) ?? 'null';
        break;
      default:
        if ('Input' in raw) event.Input = textOf(raw.Input) ?? 'null';
    }
    converted.push(event);
  }
  if (missing.length > 0) return { ok: false, missing };
  // One OrchestratorStarted before each delivered event (the API drops them), and an OrchestratorCompleted
  // after the events it caused.
  const rebuilt: HistoryEvent[] = [];
  for (const [index, event] of converted.entries()) {
    if (DELIVERED.has(event.EventType)) {
      if (rebuilt.length > 0)
        rebuilt.push(marker(EventType.OrchestratorCompleted, rebuilt.at(-1)?.Timestamp));
      const next = converted[index + 1];
      const caused = next !== undefined && !DELIVERED.has(next.EventType) ? next.Timestamp : event.Timestamp;
      rebuilt.push(
        marker(EventType.OrchestratorStarted, caused > event.Timestamp ? caused : event.Timestamp),
      );
    }
    rebuilt.push(event);
  }
  if (rebuilt.length > 0) rebuilt.push(marker(EventType.OrchestratorCompleted, rebuilt.at(-1)?.Timestamp));
  return { ok: true, events: rebuilt };
}

function marker(type: number, timestamp: string | undefined): HistoryEvent {
  return { EventType: type, EventId: -1, Timestamp: timestamp ?? new Date(0).toISOString() };
}
