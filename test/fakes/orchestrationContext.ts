import type { OrchestrationContext, RetryOptions, Task } from 'durable-functions';
import { compareVersions, ORCHESTRATION_VERSIONS } from '../../src/orchestrators/version.js';

/** The newest gated version: what host.json's defaultVersion stamps on new instances (version.test.ts). */
const NEWEST_VERSION = Object.values(ORCHESTRATION_VERSIONS).reduce<string>(
  (a, b) => (compareVersions(a, b) >= 0 ? a : b),
  '',
);

/** A task the fake context hands to the orchestrator; the test decides how and when it completes. */
export interface FakeTask extends Task {
  readonly kind: 'activity' | 'subOrchestration' | 'timer' | 'event' | 'any' | 'all';
  readonly name?: string;
  /** The sub-orchestration instance id, when the orchestrator chose one. */
  readonly instanceId?: string;
  readonly input?: unknown;
  readonly retry?: RetryOptions;
  readonly fireAt?: string;
  readonly children?: FakeTask[];
  isCanceled: boolean;
  cancel(): void;
}

/** What the orchestrator asked for, in order: the thing a replay must reproduce exactly. */
export interface ScheduledCall {
  readonly kind: FakeTask['kind'] | 'continueAsNew';
  readonly name?: string;
  readonly instanceId?: string;
  readonly input?: unknown;
  readonly fireAt?: string;
}

/**
 * The slice of `context.df` our orchestrators use, recording every scheduled call. It does not
 * replay history: the test feeds results back through {@link drive}.
 */
export class FakeOrchestrationContext {
  readonly calls: ScheduledCall[] = [];
  readonly customStatuses: unknown[] = [];
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  /** The input passed to `continueAsNew`, once the orchestrator called it. */
  continuedAsNew: { input: unknown } | undefined;
  readonly df;

  constructor(
    input: unknown,
    now = new Date('2026-01-01T00:00:00.000Z'),
    instanceId = 'fake-instance',
    /** Set for a sub-orchestration, as the runtime sets it; undefined for an orchestration a client started. */
    parentInstanceId?: string,
    /**
     * The instance's version (`context.df.version`): by default host.json's defaultVersion, as the
     * runtime stamps a new instance; undefined for an instance started before versioning.
     */
    version: string | undefined = NEWEST_VERSION,
  ) {
    const task = (
      fields: Omit<FakeTask, 'isCompleted' | 'isFaulted' | 'isCanceled' | 'cancel'>,
    ): FakeTask => {
      const created: FakeTask = {
        ...fields,
        isCompleted: false,
        isFaulted: false,
        isCanceled: false,
        cancel: () => {
          created.isCanceled = true;
        },
      };
      if (fields.kind !== 'any' && fields.kind !== 'all') {
        this.calls.push({
          kind: fields.kind,
          name: fields.name,
          input: fields.input,
          fireAt: fields.fireAt,
          ...(fields.instanceId === undefined ? {} : { instanceId: fields.instanceId }),
        });
      }
      return created;
    };
    this.df = {
      instanceId,
      parentInstanceId,
      version,
      isReplaying: false,
      currentUtcDateTime: now,
      getInput: () => input,
      setCustomStatus: (status: unknown) => {
        this.customStatuses.push(structuredClone(status));
      },
      callActivity: (name: string, activityInput?: unknown) =>
        task({ kind: 'activity', name, input: activityInput }),
      callActivityWithRetry: (name: string, retry: RetryOptions, activityInput?: unknown) =>
        task({ kind: 'activity', name, input: activityInput, retry }),
      callSubOrchestrator: (name: string, orchestrationInput?: unknown, childInstanceId?: string) =>
        task({ kind: 'subOrchestration', name, input: orchestrationInput, instanceId: childInstanceId }),
      continueAsNew: (newInput: unknown) => {
        this.calls.push({ kind: 'continueAsNew', input: newInput });
        this.continuedAsNew = { input: structuredClone(newInput) };
      },
      createTimer: (fireAt: Date) => task({ kind: 'timer', fireAt: fireAt.toISOString() }),
      waitForExternalEvent: (name: string) => task({ kind: 'event', name }),
      Task: {
        any: (children: FakeTask[]) => task({ kind: 'any', children }),
        all: (children: FakeTask[]) => task({ kind: 'all', children }),
      },
    };
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  log(message: string): void {
    this.logs.push(message);
  }

  asContext(): OrchestrationContext {
    return this as unknown as OrchestrationContext;
  }
}

export function complete(task: FakeTask, result: unknown): FakeTask {
  task.isCompleted = true;
  task.result = result;
  return task;
}

/** How a yielded task resolves: a value to send back, or an error to throw into the generator. */
export type Resolution = { value: unknown } | { error: Error };

/** Runs an orchestrator generator to its end, asking `resolve` for the outcome of every yielded task. */
export function drive<T>(
  orchestrator: (context: OrchestrationContext) => Generator<Task, T, unknown>,
  context: FakeOrchestrationContext,
  resolve: (task: FakeTask) => Resolution,
  maxSteps = 1_000,
): T {
  const generator = orchestrator(context.asContext());
  let step = generator.next();
  for (let i = 0; !step.done; i++) {
    if (i >= maxSteps) throw new Error(`Orchestrator did not finish within ${maxSteps} yields`);
    const outcome = resolve(step.value as FakeTask);
    step = 'error' in outcome ? generator.throw(outcome.error) : generator.next(outcome.value);
  }
  return step.value;
}
