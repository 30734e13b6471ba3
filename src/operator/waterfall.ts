/**
 * A run's waterfall: its steps, and every model call, tool call, other activity, retry wait, timer,
 * approval and child run its Durable history shows, on one time axis. Read from the histories the Durable
 * HTTP API answers with `showHistory=true&showHistoryOutput=true`, in the trimmed form the extension gives
 * them (DurableClient.cs `GetDurableOrchestrationStatusAsync`; devhost trims the same way): no `EventId`
 * or `TaskScheduledId`; a finished task's scheduling event is folded into its completion as `FunctionName`
 * + `ScheduledTime`; a finished child's `SubOrchestrationInstanceCreated` (and with it the child's id) is
 * gone; `TimerFired` has no `TimerId`. So:
 * - an activity's span runs from its completion's `ScheduledTime` to the completion; one still running is
 *   its pending `TaskScheduled`;
 * - a call is numbered by its completion's position among the history's completions (they are never
 *   removed, so the number is stable): {@link callNumber}; the drill-down takes that number;
 * - a timer's firing is matched to its creation by `FireAt`;
 * - children come from the instances themselves, found by id prefix (runSources.ts), each drawn from its
 *   creation to its last update.
 * Earlier `continueAsNew` generations of an agent are gone from the history, so only the current
 * generation's calls show.
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

const COMPLETIONS = new Set([
  'TaskCompleted',
  'TaskFailed',
  'SubOrchestrationInstanceCompleted',
  'SubOrchestrationInstanceFailed',
]);

/**
 * The numbers of a history's calls: the 1-based position of each completion among the completions, by
 * index in `history`. Pending calls have none.
 */
export function callNumbers(history: readonly HistoryEvent[]): Map<number, number> {
  const numbers = new Map<number, number>();
  for (const [index, event] of history.entries()) {
    if (COMPLETIONS.has(str(event.EventType) ?? '')) numbers.set(index, numbers.size + 1);
  }
  return numbers;
}

/** Ids for spans without a call number (pending calls, timers, events): unique, negative, by position. */
const positionId = (index: number) => -(index + 1);

/** The failure an instance's own history gives for it: its ExecutionCompleted's details. */
function failureOf(instance: InstanceHistory): string | undefined {
  const completed = [...instance.historyEvents]
    .reverse()
    .find((event) => event.EventType === 'ExecutionCompleted');
  if (!completed) return undefined;
  const details = completed.FailureDetails as { ErrorMessage?: unknown } | undefined;
  return shortError(str(details?.ErrorMessage) ?? str(completed.Result) ?? str(completed.Details));
}

/**
 * When a child ran, to the millisecond: the API gives `createdTime`/`lastUpdatedTime` to the second only, so
 * its own ExecutionStarted and ExecutionCompleted times are used where they agree with them (an agent that
 * continued as new keeps only its last generation's ExecutionStarted: then the creation time stands).
 */
function childTimes(child: InstanceHistory): { start: string; end: string } {
  const timeOf = (type: string) =>
    str(child.historyEvents.find((event) => event.EventType === type)?.Timestamp);
  const started = timeOf('ExecutionStarted');
  const completed = [...child.historyEvents]
    .reverse()
    .find((event) => event.EventType === 'ExecutionCompleted');
  const created = Date.parse(child.createdTime);
  const start = started !== undefined && Date.parse(started) - created < 1_000 ? started : child.createdTime;
  return { start, end: str(completed?.Timestamp) ?? child.lastUpdatedTime };
}

/**
 * The spans of one instance's own history, and a span for each of its direct children (`children`, found
 * by id): the child's own events are not expanded here.
 */
export function instanceSpans(
  instance: InstanceHistory,
  context: SpanContext,
  children: readonly InstanceHistory[] = [],
): WaterfallSpan[] {
  const spans: WaterfallSpan[] = [];
  const open = new Map<number, Open>();
  const timers = new Map<number, Open>();
  const numbers = callNumbers(instance.historyEvents);
  const known = new Set(children.map((child) => child.instanceId));
  /** Finished children found, per orchestrator: their completion events are drawn from the children. */
  const covered = new Map<string, number>();
  for (const child of children) {
    if (isFinished(child.runtimeStatus)) covered.set(child.name, (covered.get(child.name) ?? 0) + 1);
  }
  let lastWasFailure = false;
  const base = (item: Open) => ({
    id:
      item.childId === undefined
        ? spanId(instance.instanceId, item.eventId)
        : `${instance.instanceId}>${item.childId}`,
    kind: item.kind,
    name: item.name,
    instanceId: instance.instanceId,
    ...(item.eventId > 0 ? { eventId: item.eventId } : {}),
    start: item.start,
    depth: context.depth,
    ...(item.childId ? { childId: item.childId } : {}),
    ...(context.stepFor(item.start) === undefined ? {} : { stepId: context.stepFor(item.start) as string }),
  });
  const push = (item: Open, rest: Partial<WaterfallSpan> & Pick<WaterfallSpan, 'status'>) => {
    // Only a finished call has a number to drill into.
    const detail = (item.kind === 'model' || item.kind === 'tool') && item.eventId > 0;
    spans.push({
      ...base(item),
      ...(item.kind === 'tool' ? { tool: item.name } : {}),
      detail,
      ...rest,
    });
  };
  const childLabel = (childId: string) =>
    childId.startsWith(`${instance.instanceId}:`) ? childId.slice(instance.instanceId.length + 1) : undefined;

  for (const [index, event] of instance.historyEvents.entries()) {
    const type = str(event.EventType);
    const timestamp = str(event.Timestamp);
    if (type === undefined || timestamp === undefined) continue;
    switch (type) {
      case 'TaskScheduled': {
        // Still pending: the API folds a finished one into its completion.
        const name = str(event.Name) ?? str(event.FunctionName) ?? 'activity';
        const kind = activityKind(name);
        open.set(positionId(index), {
          eventId: positionId(index),
          kind,
          name: kind === 'tool' ? name.slice(TOOL_PREFIX.length) : name,
          start: timestamp,
        });
        lastWasFailure = false;
        break;
      }
      case 'SubOrchestrationInstanceCreated': {
        // Still running; a child found by id gets its span from the child itself.
        const childId = str(event.InstanceId);
        if (childId !== undefined && known.has(childId)) break;
        const orchestrator = str(event.Name) ?? str(event.FunctionName) ?? 'child';
        const label = childId === undefined ? undefined : childLabel(childId);
        open.set(positionId(index), {
          eventId: positionId(index),
          kind: 'child',
          name: label ? `${orchestrator} ${label}` : orchestrator,
          start: timestamp,
          ...(childId ? { childId } : {}),
        });
        lastWasFailure = false;
        break;
      }
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed': {
        const orchestrator = str(event.FunctionName) ?? 'child';
        const left = covered.get(orchestrator) ?? 0;
        lastWasFailure = false;
        if (left > 0) {
          covered.set(orchestrator, left - 1); // drawn from the child instance found for it
          break;
        }
        const item: Open = {
          eventId: numbers.get(index) ?? positionId(index),
          kind: 'child',
          name: orchestrator,
          start: str(event.ScheduledTime) ?? timestamp,
        };
        push(
          item,
          type === 'SubOrchestrationInstanceFailed'
            ? {
                status: 'failed',
                end: timestamp,
                error: shortError(str(event.Reason) ?? str(event.Details)) ?? 'failed',
              }
            : { status: 'completed', end: timestamp },
        );
        break;
      }
      case 'TaskCompleted':
      case 'TaskFailed': {
        const name = str(event.FunctionName) ?? 'activity';
        const kind = activityKind(name);
        const item: Open = {
          eventId: numbers.get(index) ?? positionId(index),
          kind,
          name: kind === 'tool' ? name.slice(TOOL_PREFIX.length) : name,
          start: str(event.ScheduledTime) ?? timestamp,
        };
        const closing = closeActivity(item, event);
        push(item, { status: 'completed', ...closing, end: timestamp });
        // A timer right after a failed attempt is its retry's wait (callActivityWithRetry, or the model
        // policy waiting out retryAfterMs).
        lastWasFailure = closing.status === 'failed';
        break;
      }
      case 'TimerCreated': {
        const fireAt = str(event.FireAt);
        timers.set(positionId(index), {
          eventId: positionId(index),
          kind: lastWasFailure ? 'retry_wait' : 'timer',
          name: lastWasFailure ? 'retry wait' : 'timer',
          start: timestamp,
          ...(fireAt ? { fireAt } : {}),
        });
        break;
      }
      case 'TimerFired': {
        // No TimerId in the API's history: the timer created for the same FireAt, earliest first.
        const fireAt = str(event.FireAt);
        const item = [...timers.values()].find((timer) => timer.fireAt === fireAt);
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
        const item: Open = {
          eventId: positionId(index),
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

  for (const child of children) {
    const label = childLabel(child.instanceId);
    const times = childTimes(child);
    const item: Open = {
      eventId: 0,
      kind: 'child',
      name: label ? `${child.name} ${label}` : child.name,
      start: times.start,
      childId: child.instanceId,
    };
    if (child.runtimeStatus === 'Completed') push(item, { status: 'completed', end: times.end });
    else if (isFinished(child.runtimeStatus))
      push(item, {
        status: 'failed',
        end: times.end,
        error: failureOf(child) ?? child.runtimeStatus,
      });
    else push(item, { status: 'running' });
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
  const byParent = childrenByParent(run.instanceId, children);
  const seen = new Set<string>([run.instanceId]);
  const expand = (
    instance: InstanceHistory,
    depth: number,
    stepFor: SpanContext['stepFor'],
  ): WaterfallSpan[] => {
    const direct = byParent.get(instance.instanceId) ?? [];
    const own = instanceSpans(instance, { depth, stepFor }, direct).sort((a, b) =>
      a.start.localeCompare(b.start),
    );
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

/**
 * The instance a descendant of `rootId` belongs to: child ids are `<parent>:<label>` (labels may hold `:`,
 * `step:3`), so the parent is the longest proper prefix ending before a `:` that is the root or another
 * known descendant.
 */
export function parentOf(rootId: string, id: string, known: ReadonlySet<string>): string | undefined {
  for (let at = id.lastIndexOf(':'); at > 0; at = id.lastIndexOf(':', at - 1)) {
    const candidate = id.slice(0, at);
    if (candidate === rootId || known.has(candidate)) return candidate;
  }
  return undefined;
}

/** Descendants grouped by the instance they belong to, each group in creation order. */
export function childrenByParent(
  rootId: string,
  histories: ReadonlyMap<string, InstanceHistory>,
): Map<string, InstanceHistory[]> {
  const known = new Set(histories.keys());
  const groups = new Map<string, InstanceHistory[]>();
  for (const history of histories.values()) {
    const parent = parentOf(rootId, history.instanceId, known);
    if (parent === undefined) continue;
    groups.set(parent, [...(groups.get(parent) ?? []), history]);
  }
  for (const group of groups.values()) {
    group.sort(
      (a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId),
    );
  }
  return groups;
}

/** The tree of agent and child runs under `rootId`, from the descendants found. */
export function childTree(rootId: string, histories: ReadonlyMap<string, InstanceHistory>): ChildRun[] {
  const byParent = childrenByParent(rootId, histories);
  const childrenOf = (parentId: string): ChildRun[] =>
    (byParent.get(parentId) ?? []).map((child) => {
      const stepId = stepOfChild(rootId, child.instanceId);
      return {
        id: child.instanceId,
        orchestrator: child.name,
        ...(stepId === undefined ? {} : { stepId }),
        status: child.runtimeStatus,
        createdAt: child.createdTime,
        updatedAt: child.lastUpdatedTime,
        children: childrenOf(child.instanceId),
      };
    });
  return childrenOf(rootId);
}

/** The sub-orchestrations a history shows still running (a finished child's creation event is folded away). */
export function pendingChildIds(history: readonly HistoryEvent[]): string[] {
  const found = new Set<string>();
  for (const event of history) {
    if (event.EventType !== 'SubOrchestrationInstanceCreated') continue;
    const id = str(event.InstanceId);
    if (id !== undefined) found.add(id);
  }
  return [...found];
}
