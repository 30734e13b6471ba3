/**
 * A run's waterfall: its steps, and every model call, tool call, other activity, retry wait, timer,
 * approval and child run its Durable history shows, on one time axis. Read from the histories the Durable
 * HTTP API answers with `showHistory=true&showHistoryOutput=true`: `TaskScheduled` (EventId) pairs with
 * `TaskCompleted`/`TaskFailed` (TaskScheduledId), `TimerCreated` with `TimerFired` (TimerId),
 * `SubOrchestrationInstanceCreated` with `SubOrchestrationInstance{Completed,Failed}` (TaskScheduledId).
 * Where a completion carries `ScheduledTime` and no `TaskScheduledId` (the extension folds the scheduling
 * event into it), the span runs from that time. Earlier `continueAsNew` generations of an agent are gone
 * from the history, so only the current generation's calls show.
 */
import { cacheHitRate } from '../shared/cacheHitRate.js';
import { CallModelResult, type CallModelSuccess } from '../shared/modelTypes.js';
import { roundUsd } from '../shared/money.js';
import { Names } from '../shared/names.js';
import {
  isFinished,
  type ChildRun,
  type SpanKind,
  type TimelineEntry,
  type WaterfallSpan,
} from '../shared/operatorTypes.js';
import { redactText } from './redact.js';
import { resultOf, stepOfChild } from './timeline.js';

export type HistoryEvent = Record<string, unknown>;

/** One instance's history and what the waterfall needs to know about the instance. */
export interface InstanceHistory {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: string;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents: readonly HistoryEvent[];
}

const TOOL_PREFIX = 'tool_';
const MAX_ERROR_CHARS = 300;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function shortError(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const line = redactText(text.trim().split('\n')[0] ?? '');
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}

export function spanId(instanceId: string, eventId: number): string {
  return `${instanceId}#${eventId}`;
}

function activityKind(functionName: string): SpanKind {
  if (functionName === Names.activities.callModel) return 'model';
  if (functionName.startsWith(TOOL_PREFIX)) return 'tool';
  return 'activity';
}

function modelInfo(result: CallModelSuccess): NonNullable<WaterfallSpan['model']> {
  const { usage } = result;
  return {
    provider: result.provider,
    deployment: result.deployment,
    model: result.model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    cacheHitRate: cacheHitRate(usage),
    costUsd: roundUsd(result.costUsd),
    latencyMs: result.latencyMs,
    stopReason: result.stopReason,
  };
}

interface Open {
  readonly eventId: number;
  readonly kind: SpanKind;
  readonly name: string;
  readonly start: string;
  readonly fireAt?: string;
  readonly childId?: string;
}

/** What one completion says about its span: status, model figures, error. */
function closeActivity(open: Open, completion: HistoryEvent): Partial<WaterfallSpan> {
  if (completion.EventType === 'TaskFailed') {
    return {
      status: 'failed',
      error: shortError(str(completion.Reason) ?? str(completion.Details)) ?? 'failed',
    };
  }
  if (open.kind === 'model') {
    const parsed = CallModelResult.safeParse(resultOf(completion));
    if (!parsed.success) return { status: 'completed' };
    if (parsed.data.ok) return { status: 'completed', model: modelInfo(parsed.data) };
    const failure = parsed.data;
    return {
      status: 'failed',
      error: shortError(`${failure.kind}: ${failure.message}`),
      ...(failure.answered ? { model: modelInfo(failure.answered) } : {}),
    };
  }
  if (open.kind === 'tool') {
    const result = resultOf(completion) as { isError?: unknown; content?: unknown } | undefined;
    if (result && result.isError === true) {
      return { status: 'failed', error: shortError(str(result.content)) ?? 'the tool reported an error' };
    }
  }
  return { status: 'completed' };
}

interface SpanContext {
  readonly depth: number;
  /** The step a span belongs to, from its time (the run's own events) or its instance (children's). */
  readonly stepFor: (timestamp: string) => string | undefined;
}

/** The spans of one instance's own history (not its children's). */
export function instanceSpans(instance: InstanceHistory, context: SpanContext): WaterfallSpan[] {
  const spans: WaterfallSpan[] = [];
  const open = new Map<number, Open>();
  const timers = new Map<number, Open>();
  let lastWasFailure = false;
  const base = (item: Open) => ({
    id: spanId(instance.instanceId, item.eventId),
    kind: item.kind,
    name: item.name,
    instanceId: instance.instanceId,
    eventId: item.eventId,
    start: item.start,
    depth: context.depth,
    ...(item.childId ? { childId: item.childId } : {}),
    ...(context.stepFor(item.start) === undefined ? {} : { stepId: context.stepFor(item.start) as string }),
  });
  const push = (item: Open, rest: Partial<WaterfallSpan> & Pick<WaterfallSpan, 'status'>) => {
    const detail = item.kind === 'model' || item.kind === 'tool';
    spans.push({
      ...base(item),
      ...(item.kind === 'tool' ? { tool: item.name } : {}),
      detail,
      ...rest,
    });
  };

  for (const [index, event] of instance.historyEvents.entries()) {
    const type = str(event.EventType);
    const timestamp = str(event.Timestamp);
    const eventId = num(event.EventId);
    if (type === undefined || timestamp === undefined) continue;
    switch (type) {
      case 'TaskScheduled': {
        const name = str(event.FunctionName) ?? str(event.Name) ?? 'activity';
        const kind = activityKind(name);
        if (eventId !== undefined)
          open.set(eventId, {
            eventId,
            kind,
            name: kind === 'tool' ? name.slice(TOOL_PREFIX.length) : name,
            start: timestamp,
          });
        lastWasFailure = false;
        break;
      }
      case 'SubOrchestrationInstanceCreated': {
        const childId = str(event.InstanceId);
        const orchestrator = str(event.FunctionName) ?? str(event.Name) ?? 'child';
        // "agentLoop research:0": the orchestrator and the child's label under this instance.
        const label = childId?.startsWith(`${instance.instanceId}:`)
          ? childId.slice(instance.instanceId.length + 1)
          : undefined;
        if (eventId !== undefined)
          open.set(eventId, {
            eventId,
            kind: 'child',
            name: label ? `${orchestrator} ${label}` : orchestrator,
            start: timestamp,
            ...(childId ? { childId } : {}),
          });
        lastWasFailure = false;
        break;
      }
      case 'TaskCompleted':
      case 'TaskFailed':
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed': {
        const scheduledId = num(event.TaskScheduledId);
        let item = scheduledId === undefined ? undefined : open.get(scheduledId);
        if (item === undefined && str(event.ScheduledTime) !== undefined && eventId !== undefined) {
          const name = str(event.FunctionName) ?? 'activity';
          const kind = type.startsWith('Sub') ? 'child' : activityKind(name);
          item = {
            eventId,
            kind,
            name: kind === 'tool' ? name.slice(TOOL_PREFIX.length) : name,
            start: str(event.ScheduledTime) as string,
          };
        }
        if (item === undefined) break;
        open.delete(item.eventId);
        const closing =
          item.kind === 'child'
            ? type === 'SubOrchestrationInstanceFailed'
              ? {
                  status: 'failed' as const,
                  error: shortError(str(event.Reason) ?? str(event.Details)) ?? 'failed',
                }
              : { status: 'completed' as const }
            : closeActivity(item, event);
        push(item, { status: 'completed', ...closing, end: timestamp });
        // A timer right after a failed attempt is its retry's wait (callActivityWithRetry, or the model
        // policy waiting out retryAfterMs).
        lastWasFailure = closing.status === 'failed' && item.kind !== 'child';
        break;
      }
      case 'TimerCreated': {
        if (eventId === undefined) break;
        const fireAt = str(event.FireAt);
        timers.set(eventId, {
          eventId,
          kind: lastWasFailure ? 'retry_wait' : 'timer',
          name: lastWasFailure ? 'retry wait' : 'timer',
          start: timestamp,
          ...(fireAt ? { fireAt } : {}),
        });
        break;
      }
      case 'TimerFired': {
        const timerId = num(event.TimerId);
        const item = timerId === undefined ? undefined : timers.get(timerId);
        if (item === undefined) break;
        timers.delete(item.eventId);
        push(item, { status: 'completed', end: timestamp });
        lastWasFailure = false;
        break;
      }
      case 'EventRaised': {
        // An approval: the wait runs from its deadline timer's creation (cancelled now) to the event.
        const name = str(event.Name) ?? str(event.FunctionName) ?? 'event';
        const waiting = [...timers.values()].filter((timer) => timer.kind === 'timer').at(-1);
        if (waiting) timers.delete(waiting.eventId);
        // Raised events carry EventId -1; the position keeps the span id unique.
        const item: Open = {
          eventId: eventId !== undefined && eventId >= 0 ? eventId : -(index + 1),
          kind: 'approval',
          name,
          start: waiting?.start ?? timestamp,
        };
        push(item, { status: 'completed', end: timestamp });
        lastWasFailure = false;
        break;
      }
      default:
        break;
    }
  }

  // What never closed: still running, or stopped with the instance.
  const finished = isFinished(instance.runtimeStatus);
  for (const item of open.values()) {
    push(
      item,
      finished
        ? { status: 'failed', end: instance.lastUpdatedTime, error: 'the run stopped' }
        : { status: 'running' },
    );
  }
  for (const item of timers.values()) {
    if (finished) push(item, { status: 'canceled', end: instance.lastUpdatedTime });
    else push(item, { status: 'waiting' });
  }
  return spans;
}

/** The step running at `timestamp` among the run's top-level steps. */
function stepAt(steps: readonly TimelineEntry[], timestamp: string): string | undefined {
  const at = Date.parse(timestamp);
  let found: string | undefined;
  for (const step of steps) {
    if (step.startedAt === undefined || step.status === 'skipped') continue;
    const ended = step.endedAt === undefined ? Infinity : Date.parse(step.endedAt);
    if (Date.parse(step.startedAt) <= at && at <= ended) found = step.stepId;
  }
  return found;
}

/**
 * The whole waterfall: step bars, then the run's own events, each child's events right after the child's
 * bar (depth + 1), ordered by start within each level.
 */
export function buildWaterfall(
  run: InstanceHistory,
  steps: readonly TimelineEntry[],
  children: ReadonlyMap<string, InstanceHistory>,
): WaterfallSpan[] {
  const stepSpans: WaterfallSpan[] = steps.flatMap((step) =>
    step.startedAt === undefined
      ? []
      : [
          {
            id: `step:${step.stepId}`,
            kind: 'step' as const,
            name: step.stepId,
            instanceId: run.instanceId,
            stepId: step.stepId,
            status: step.status,
            start: step.startedAt,
            ...(step.endedAt === undefined ? {} : { end: step.endedAt }),
            depth: 0,
            ...(step.error === undefined ? {} : { error: shortError(step.error) }),
            detail: false,
          },
        ],
  );
  const seen = new Set<string>([run.instanceId]);
  const expand = (
    instance: InstanceHistory,
    depth: number,
    stepFor: SpanContext['stepFor'],
  ): WaterfallSpan[] => {
    const own = instanceSpans(instance, { depth, stepFor }).sort((a, b) => a.start.localeCompare(b.start));
    return own.flatMap((span) => {
      const child = span.childId === undefined ? undefined : children.get(span.childId);
      if (child === undefined || seen.has(child.instanceId)) return [span];
      seen.add(child.instanceId);
      const childStep = stepOfChild(run.instanceId, child.instanceId);
      return [span, ...expand(child, depth + 1, () => childStep)];
    });
  };
  return [...stepSpans, ...expand(run, 0, (timestamp) => stepAt(steps, timestamp))];
}

/** The tree of agent and child runs under `rootId`, from the histories read. */
export function childTree(
  rootId: string,
  histories: ReadonlyMap<string, InstanceHistory>,
  root: InstanceHistory,
): ChildRun[] {
  const seen = new Set<string>([rootId]);
  const childrenOf = (instance: InstanceHistory): ChildRun[] =>
    childStarts(instance.historyEvents).flatMap(({ id, name }) => {
      if (seen.has(id)) return [];
      seen.add(id);
      const known = histories.get(id);
      const stepId = stepOfChild(rootId, id);
      return [
        {
          id,
          orchestrator: known?.name ?? name,
          ...(stepId === undefined ? {} : { stepId }),
          status: known?.runtimeStatus ?? 'Unknown',
          ...(known ? { createdAt: known.createdTime, updatedAt: known.lastUpdatedTime } : {}),
          children: known ? childrenOf(known) : [],
        },
      ];
    });
  return childrenOf(root);
}

/** The sub-orchestrations a history started, in order. */
export function childStarts(history: readonly HistoryEvent[]): { id: string; name: string }[] {
  const found = new Map<string, string>();
  for (const event of history) {
    if (event.EventType !== 'SubOrchestrationInstanceCreated') continue;
    const id = str(event.InstanceId);
    if (id !== undefined && !found.has(id)) found.set(id, str(event.FunctionName) ?? str(event.Name) ?? '');
  }
  return [...found].map(([id, name]) => ({ id, name }));
}
