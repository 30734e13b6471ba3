import os from 'node:os';
import type { FunctionInvoker, LogLevel } from '../functions/types.js';
import { ActivityRunner } from './activityRunner.js';
import type {
  CommandOutcome,
  DurableBackend,
  InstanceFilter,
  InstancePage,
  InstancePageRequest,
  InstanceStatus,
  StartOutcome,
  StartRequest,
} from './backend.js';
import { SystemClock, VirtualClock, type Clock } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import { isTerminal, type EpisodeEnv } from './episode.js';
import { WireMeter, type WireTotals } from './wireMeter.js';
import { EpisodeRunner } from './episodeRunner.js';
import { EventType, makeEvent } from './history.js';
import { InstanceOps } from './instances.js';
import { DurableStore } from './store.js';
import { NO_VERSIONING, type VersioningOptions } from './versioning.js';

export interface DurableEngineOptions {
  stateDir: string;
  invoker: FunctionInvoker;
  taskHubName: string;
  maxConcurrentActivityFunctions?: number;
  maxConcurrentOrchestratorFunctions?: number;
  clock?: Clock;
  /** Shorthand for `clock: new VirtualClock({ timeScale, skipIdleTime })` when no clock is given. */
  timeScale?: number;
  skipIdleTime?: boolean;
  replayMode?: 'batched' | 'eventByEvent';
  /** Replay schema offered to the SDK: 2, 3 (default, as the extension sends) or 4. */
  schemaVersion?: 2 | 3 | 4;
  maximumShortTimerDurationMs?: number;
  longRunningTimerIntervalMs?: number;
  /** 'whenProvided' (default): FailureDetails only from an exception properties provider; 'always'. */
  activityFailureDetails?: 'whenProvided' | 'always';
  log?: (line: string) => void;
  /** host.json orchestration versioning (durable/versioning.ts); none by default. */
  versioning?: VersioningOptions;
}

const DAY = 86_400_000;

/** Durable Task engine: replays durable-functions orchestrators against SQLite state. */
export class DurableEngine implements DurableBackend {
  readonly taskHubName: string;
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly #dispatcher: Dispatcher;
  readonly #ops: InstanceOps;
  readonly #episodes: EpisodeRunner;
  readonly #activities: ActivityRunner;
  readonly #completionWaiters = new Map<string, (() => void)[]>();
  readonly #wire = new WireMeter();

  private constructor(opts: DurableEngineOptions) {
    this.taskHubName = opts.taskHubName;
    this.clock =
      opts.clock ??
      (opts.timeScale !== undefined || opts.skipIdleTime !== undefined
        ? new VirtualClock({ timeScale: opts.timeScale ?? 1, skipIdleTime: opts.skipIdleTime ?? false })
        : new SystemClock());
    const cores = os.availableParallelism();
    const log = opts.log ?? (() => {});
    const env: EpisodeEnv = {
      invoker: opts.invoker,
      replayMode: opts.replayMode ?? 'batched',
      timing: {
        schemaVersion: opts.schemaVersion ?? 3,
        maximumShortTimerMs: opts.maximumShortTimerDurationMs ?? 6 * DAY,
        longRunningTimerIntervalMs: opts.longRunningTimerIntervalMs ?? 3 * DAY,
      },
      now: () => this.clock.now(),
      log,
      userLog: (level: LogLevel, line: string) => log(level === 'information' ? line : `${level}: ${line}`),
      wire: this.#wire,
      versioning: opts.versioning ?? NO_VERSIONING,
    };
    this.store = new DurableStore(opts.stateDir, { log });
    const limits = {
      maxActivities: opts.maxConcurrentActivityFunctions ?? 10 * cores,
      maxOrchestrators: opts.maxConcurrentOrchestratorFunctions ?? 10 * cores,
    };
    const dispatcher = new Dispatcher(this.store, this.clock, limits, {
      runEpisode: (id) => this.#episodes.run(id),
      runActivity: (item) => this.#activities.run(item),
      log,
    });
    this.#dispatcher = dispatcher;
    this.#ops = new InstanceOps(
      this.store,
      this.clock,
      opts.invoker,
      {
        notify: (id) => dispatcher.notify(id),
        enqueueWork: (row) => dispatcher.enqueueWork(row),
        invalidate: (id) => this.#episodes.invalidate(id),
        armTimer: () => dispatcher.armTimer(),
      },
      opts.versioning?.defaultVersion,
    );
    this.#episodes = new EpisodeRunner(this.store, this.clock, env, this.#ops, dispatcher, (id) =>
      this.#wakeCompletionWaiters(id),
    );
    this.#activities = new ActivityRunner(
      opts.invoker,
      this.store,
      this.clock,
      dispatcher,
      opts.activityFailureDetails === 'always',
    );
  }

  static open(opts: DurableEngineOptions): DurableEngine {
    return new DurableEngine(opts);
  }

  /**
   * `start()` starts dispatching (work left by a previous process, even a killed one, resumes);
   * `start(request)` is DurableBackend.start: schedules a new orchestration instance.
   */
  start(): void;
  start(request: StartRequest): StartOutcome;
  start(request?: StartRequest): StartOutcome | void {
    if (request !== undefined) return this.#ops.start(request);
    this.#dispatcher.start();
  }

  /** Stops taking work, waits for in-flight episodes and activities, closes the database. */
  async stop(): Promise<void> {
    await this.#dispatcher.stop();
    await this.store.close();
  }

  /** Orchestrator channel totals since the engine opened, as sent and as the extension would send them (wireMeter.ts). */
  wireTotals(): WireTotals {
    return this.#wire.totals();
  }

  /** Resolves when nothing is running or runnable (future timers may remain, unless skipIdleTime). */
  waitForIdle(): Promise<void> {
    return this.#dispatcher.waitForIdle();
  }

  /** Resolves with the status once the instance is Completed, Failed or Terminated. */
  async waitForCompletion(instanceId: string, timeoutMs = 30_000): Promise<InstanceStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.getStatus(instanceId);
      if (s && isTerminal(s.runtimeStatus)) return s;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `Instance ${instanceId} did not finish within ${timeoutMs}ms (status ${s?.runtimeStatus ?? 'none'}).`,
        );
      }
      await new Promise<void>((resolve) => {
        const list = this.#completionWaiters.get(instanceId) ?? [];
        list.push(resolve);
        this.#completionWaiters.set(instanceId, list);
        setTimeout(resolve, Math.min(remaining, 250)).unref();
      });
    }
  }

  // ---- DurableBackend ----
  getStatus(id: string, o?: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean }) {
    return this.#ops.getStatus(id, o);
  }
  listInstances(request: InstancePageRequest): InstancePage {
    return this.#ops.list(request);
  }
  raiseEvent(id: string, eventName: string, data: unknown): CommandOutcome {
    return this.#ops.send(
      id,
      makeEvent(EventType.EventRaised, 0, { Name: eventName, Input: JSON.stringify(data) }),
    );
  }
  terminate(id: string, reason: string | undefined): CommandOutcome {
    return this.#ops.send(
      id,
      makeEvent(EventType.ExecutionTerminated, 0, { Input: JSON.stringify(reason ?? null) }),
    );
  }
  suspend(id: string, reason: string | undefined): CommandOutcome {
    return this.#ops.send(id, makeEvent(EventType.ExecutionSuspended, 0, { Reason: reason ?? '' }));
  }
  resume(id: string, reason: string | undefined): CommandOutcome {
    return this.#ops.send(id, makeEvent(EventType.ExecutionResumed, 0, { Reason: reason ?? '' }));
  }
  rewind(id: string, reason: string | undefined): CommandOutcome {
    return this.#ops.rewind(id, reason);
  }
  startGrouped(request: StartRequest): Promise<StartOutcome> {
    return this.#ops.startGrouped(request);
  }

  restart(id: string, newId: boolean) {
    return this.#ops.restart(id, newId);
  }
  purge(id: string): number {
    return this.#ops.purge(id);
  }
  purgeByFilter(filter: InstanceFilter): number {
    return this.#ops.purgeByFilter(filter);
  }

  #wakeCompletionWaiters(id: string): void {
    const waiters = this.#completionWaiters.get(id) ?? [];
    this.#completionWaiters.delete(id);
    for (const w of waiters) w();
  }
}
