/**
 * The sequence numbers durable-functions gives the tasks an orchestrator schedules, read from the SDK
 * itself while it runs. The SDK never reads TaskScheduled/TimerCreated/SubOrchestrationInstanceCreated
 * events: it numbers tasks in `TaskOrchestrationExecutor.trackOpenTask` (`task.id = this.sequenceNumber++`),
 * including the ids a `RetryableTask` consumes for each retry timer and attempt (`lib/src/task/RetryableTask.js`,
 * NoOpTask children) and a `LongTimerTask` for each chunk (`lib/src/task/LongTimerTask.js`). The extension
 * numbers the actions the same way on its side, and DurableTask.Core compares each scheduling event in
 * history with the action at that number (see replayer.ts). Watching `trackOpenTask` gives the numbering
 * exactly as the SDK made it, instead of a second implementation of its rules.
 *
 * Why a patch: the executor is created inside `Orchestrator.handle` and has no hook. The wrapper only
 * observes (it calls the original first and changes nothing), and records only while a replay asked for
 * it. Pinned by test/replay/sdkNumbering.test.ts against durable-functions 3.5.
 */
import { TaskOrchestrationExecutor } from 'durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor.js';

export type ScheduledKind = 'activity' | 'subOrchestration' | 'timer' | 'entityOrEvent' | 'http';

/** What the SDK scheduled under one sequence number. */
export interface ScheduledTask {
  readonly id: number;
  readonly kind: ScheduledKind;
  /** Activity or orchestrator name. */
  readonly name?: string;
  readonly instanceId?: string;
  /** For retries: the attempt (2, 3, …) or the retry timer before it. */
  readonly retry?: { readonly attempt: number; readonly timer: boolean };
}

interface SdkAction {
  actionType?: number;
  functionName?: string;
  instanceId?: string;
}

interface SdkTask {
  id?: unknown;
  actionObj?: SdkAction;
  parent?: SdkTask & { children?: unknown[] };
}

/** durable-functions `lib/src/actions/ActionType.js`. */
function kindOfAction(action: SdkAction | undefined): ScheduledKind | undefined {
  switch (action?.actionType) {
    case 0:
    case 1:
      return 'activity';
    case 2:
    case 3:
      return 'subOrchestration';
    case 5:
      return 'timer';
    case 7:
    case 9:
    case 13:
      return 'entityOrEvent';
    case 8:
      return 'http';
    default:
      return undefined;
  }
}

function describeTask(task: SdkTask, id: number): ScheduledTask {
  const own = kindOfAction(task.actionObj);
  if (own !== undefined) {
    return {
      id,
      kind: own,
      ...(task.actionObj?.functionName !== undefined ? { name: task.actionObj.functionName } : {}),
      ...(own === 'subOrchestration' && task.actionObj?.instanceId !== undefined
        ? { instanceId: task.actionObj.instanceId }
        : {}),
    };
  }
  // A RetryableTask's NoOpTask children: [first attempt, timer, attempt 2, timer, attempt 3, …].
  const parent = task.parent;
  const parentKind = kindOfAction(parent?.actionObj);
  const index = parent?.children?.indexOf(task) ?? -1;
  if (parent && parentKind !== undefined && index > 0) {
    const timer = index % 2 === 1;
    const attempt = Math.floor((index + 1) / 2) + 1;
    return timer
      ? { id, kind: 'timer', retry: { attempt, timer: true } }
      : {
          id,
          kind: parentKind,
          ...(parent.actionObj?.functionName !== undefined ? { name: parent.actionObj.functionName } : {}),
          ...(parentKind === 'subOrchestration' && parent.actionObj?.instanceId !== undefined
            ? { instanceId: parent.actionObj.instanceId }
            : {}),
          retry: { attempt, timer: false },
        };
  }
  return { id, kind: 'entityOrEvent' };
}

/** The replay being recorded: its invocation context (the executor's `context` is its `df`) and the ids. */
let recording: { context: { df?: unknown }; scheduled: Map<number, ScheduledTask> } | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const prototype = TaskOrchestrationExecutor.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the executor as `this`
  const original = prototype.trackOpenTask;
  prototype.trackOpenTask = function trackOpenTask(this: TaskOrchestrationExecutor, task: unknown) {
    const before = (task as SdkTask).id;
    original.call(this, task);
    const after = (task as SdkTask).id;
    // Only the replay's own executor: another orchestrator running in this process is not recorded.
    const mine = recording !== undefined && (this as { context?: unknown }).context === recording.context.df;
    if (mine && before === false && typeof after === 'number') {
      recording?.scheduled.set(after, describeTask(task as SdkTask, after));
    }
  };
}

/**
 * Runs `body` (one orchestrator invocation with `context`) and returns, with its result, every sequence
 * number the SDK handed out to that invocation.
 */
export async function withSdkNumbering<T>(
  context: { df?: unknown },
  body: () => Promise<T>,
): Promise<{ result: T; scheduled: Map<number, ScheduledTask> }> {
  install();
  if (recording !== undefined) throw new Error('withSdkNumbering does not nest: replays run one at a time.');
  const scheduled = new Map<number, ScheduledTask>();
  recording = { context, scheduled };
  try {
    return { result: await body(), scheduled };
  } finally {
    recording = undefined;
  }
}

export function describeScheduled(task: ScheduledTask | undefined): string {
  if (task === undefined) return 'nothing';
  const what =
    task.kind === 'activity'
      ? 'activity'
      : task.kind === 'subOrchestration'
        ? 'sub-orchestration'
        : task.kind === 'timer'
          ? 'timer'
          : task.kind;
  const retry = task.retry ? (task.retry.timer ? ' (retry timer)' : ` (attempt ${task.retry.attempt})`) : '';
  return `${what} #${task.id}${task.name !== undefined ? ` "${task.name}"` : ''}${retry}`;
}
