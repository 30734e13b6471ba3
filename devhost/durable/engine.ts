import os from 'node:os';
import type { FunctionInvoker, LogLevel, TypedData } from '../functions/types.js';
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
import { isTerminal, planEpisode, type EpisodeEnv, type EpisodePlan } from './episode.js';
import { EventType, makeEvent, type FailureDetailsDto, type HistoryEvent } from './history.js';
import { InstanceOps } from './instances.js';
import { DurableStore, type WorkItemRow } from './store.js';

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
}

const DAY = 86_400_000;

interface CachedHistory {
  joined: string;
  count: number;
  nextSeq: number;
}

/** Durable Task engine: replays durable-functions orchestrators against SQLite state. */
export class DurableEngine implements DurableBackend {
  readonly taskHubName: string;
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly #invoker: FunctionInvoker;
  readonly #maxActivities: number;
  readonly #maxOrchestrators: number;
  readonly #env: EpisodeEnv;
  readonly #log: (line: string) => void;
  readonly #failureDetailsAlways: boolean;
  readonly #ops: InstanceOps;
  readonly #cache = new Map<string, CachedHistory>();
  readonly #ready = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #workQueue: WorkItemRow[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #activeActivities = 0;
  /** Work items per instance not yet completed; a fan-in lingers until they drain (or 20 ms pass). */
  readonly #outstanding = new Map<string, number>();
  readonly #lingering = new Set<string>();
  #lingerTimer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;
  #pumpScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #armedDue = Infinity;
  #lastScan = 0;
  #idleWaiters: (() => void)[] = [];
  #completionWaiters = new Map<string, (() => void)[]>();

  private constructor(opts: DurableEngineOptions) {
    this.taskHubName = opts.taskHubName;
    this.#invoker = opts.invoker;
    this.clock =
      opts.clock ??
      (opts.timeScale !== undefined || opts.skipIdleTime !== undefined
        ? new VirtualClock({ timeScale: opts.timeScale ?? 1, skipIdleTime: opts.skipIdleTime ?? false })
        : new SystemClock());
    const cores = os.availableParallelism();
    this.#maxActivities = opts.maxConcurrentActivityFunctions ?? 10 * cores;
    this.#maxOrchestrators = opts.maxConcurrentOrchestratorFunctions ?? 10 * cores;
    this.#log = opts.log ?? (() => {});
    this.#failureDetailsAlways = opts.activityFailureDetails === 'always';
    this.#env = {
      invoker: opts.invoker,
      replayMode: opts.replayMode ?? 'batched',
      timing: {
        schemaVersion: opts.schemaVersion ?? 3,
        maximumShortTimerMs: opts.maximumShortTimerDurationMs ?? 6 * DAY,
        longRunningTimerIntervalMs: opts.longRunningTimerIntervalMs ?? 3 * DAY,
      },
      now: () => this.clock.now(),
      log: this.#log,
      userLog: (level: LogLevel, line: string) =>
        this.#log(level === 'information' ? line : `${level}: ${line}`),
    };
    this.store = new DurableStore(opts.stateDir);
    this.#ops = new InstanceOps(this.store, this.clock, opts.invoker, {
      notify: (id) => this.#notify(id),
      enqueueWork: (row) => this.#enqueueWork(row),
      invalidate: (id) => this.#cache.delete(id),
      armTimer: () => this.#arm(),
    });
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
    if (this.#started) return;
    this.#started = true;
    const now = this.clock.now();
    this.#lastScan = now;
    for (const item of this.store.q.allWorkItems.all()) this.#workQueue.push(item);
    for (const { instance_id } of this.store.q.instancesWithVisible.all(now)) this.#ready.add(instance_id);
    this.#arm();
    this.#schedulePump();
  }

  /** Stops taking work, waits for in-flight episodes and activities, closes the database. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.store.close();
  }

  /** Resolves when nothing is running or runnable (future timers may remain, unless skipIdleTime). */
  waitForIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#schedulePump();
    });
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
  restart(id: string, newId: boolean) {
    return this.#ops.restart(id, newId);
  }
  purge(id: string): number {
    return this.#ops.purge(id);
  }
  purgeByFilter(filter: InstanceFilter): number {
    return this.#ops.purgeByFilter(filter);
  }

  // ---- dispatch ----
  #notify(id: string): void {
    if (this.#running.has(id)) this.#dirty.add(id);
    else this.#ready.add(id);
    this.#schedulePump();
  }

  #enqueueWork(item: WorkItemRow): void {
    this.#outstanding.set(item.instance_id, (this.#outstanding.get(item.instance_id) ?? 0) + 1);
    this.#workQueue.push(item);
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || !this.#started || this.#stopping) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  #pump(): void {
    if (this.#stopping) return;
    for (const id of this.#ready) {
      if (this.#running.size >= this.#maxOrchestrators) break;
      this.#ready.delete(id);
      if (this.#running.has(id)) {
        this.#dirty.add(id);
        continue;
      }
      this.#running.add(id);
      this.#track(
        this.#runEpisode(id)
          .catch((err: unknown) => this.#log(`durable engine: episode of ${id} crashed: ${String(err)}`))
          .finally(() => {
            this.#running.delete(id);
            if (this.#dirty.delete(id)) this.#ready.add(id);
            this.#schedulePump();
          }),
      );
    }
    while (this.#activeActivities < this.#maxActivities && this.#workQueue.length > 0) {
      const item = this.#workQueue.shift() as WorkItemRow;
      this.#activeActivities++;
      this.#track(
        this.#runActivity(item)
          .catch((err: unknown) => this.#log(`durable engine: activity ${item.name} crashed: ${String(err)}`))
          .finally(() => {
            this.#activeActivities--;
            this.#schedulePump();
          }),
      );
    }
    if (
      this.#running.size === 0 &&
      this.#activeActivities === 0 &&
      this.#ready.size === 0 &&
      this.#workQueue.length === 0 &&
      this.#lingering.size === 0
    ) {
      if (this.#armedDue !== Infinity && this.clock.skipTo?.(this.#armedDue) === true) {
        this.#onTimer();
        return;
      }
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #arm(): void {
    if (this.#stopping || !this.#started) return;
    const due = this.store.q.nextDue.get(this.#lastScan)?.due ?? null;
    if (due === null) return;
    if (due >= this.#armedDue && this.#timer) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedDue = due;
    this.#timer = setTimeout(() => this.#onTimer(), Math.min(this.clock.realDelayUntil(due), 2 ** 31 - 1));
  }

  #onTimer(): void {
    if (this.#stopping) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedDue = Infinity;
    const now = this.clock.now();
    for (const { instance_id } of this.store.q.dueInstances.all(this.#lastScan, now))
      this.#notify(instance_id);
    this.#lastScan = now;
    this.#arm();
    this.#schedulePump();
  }

  #history(id: string): CachedHistory {
    let h = this.#cache.get(id);
    if (!h) {
      const rows = this.store.q.history.all(id);
      h = {
        joined: rows.map((r) => r.event).join(','),
        count: rows.length,
        nextSeq: (rows.at(-1)?.seq ?? -1) + 1,
      };
      this.#cache.set(id, h);
    }
    return h;
  }

  async #runEpisode(id: string): Promise<void> {
    const q = this.store.q;
    const row = q.getInstance.get(id);
    const messages = q.visibleMessages.all(id, this.clock.now());
    if (messages.length === 0) return;
    if (!row || isTerminal(row.status)) {
      this.store.tx(() => {
        for (const m of messages) q.deleteMessage.run(m.id);
      });
      return;
    }
    const history = this.#history(id);
    const plan = await planEpisode(this.#env, row, messages, history);
    if (!plan || this.#stopping) return;
    this.#commit(plan, history);
    if (plan.more) this.#ready.add(id);
  }

  #commit(plan: EpisodePlan, history: CachedHistory): void {
    const q = this.store.q;
    const row = plan.row;
    const id = row.instance_id;
    const now = this.clock.now();
    const notify = new Set<string>();
    const work: WorkItemRow[] = [];
    let armTimer = false;
    const texts = plan.events.map((e) => JSON.stringify({ ...e, IsPlayed: true }));
    this.store.tx(() => {
      for (const m of plan.consumed) q.deleteMessage.run(m);
      if (plan.continueAsNew || plan.terminated) {
        if (plan.terminated) {
          q.deleteMessages.run(id);
          q.deleteWorkItems.run(id);
        }
      }
      if (plan.continueAsNew) {
        q.deleteHistory.run(id);
        const started = makeEvent(EventType.ExecutionStarted, now, {
          Name: row.name,
          Input: plan.continueAsNew.input,
          OrchestrationInstance: { InstanceId: id, ExecutionId: row.execution_id },
        });
        q.insertMessage.run(id, row.execution_id, 0, JSON.stringify(started), null);
        notify.add(id);
      } else {
        let seq = history.nextSeq;
        for (const t of texts) q.insertHistory.run(id, seq++, t);
      }
      for (const o of plan.outgoing) {
        switch (o.kind) {
          case 'activity': {
            const reg = this.#invoker.registrations.get(o.name);
            if (reg?.triggerType.toLowerCase() !== 'activitytrigger') {
              const reason = `The function '${o.name}' doesn't exist, is disabled, or is not an activity function.`;
              q.insertMessage.run(
                id,
                row.execution_id,
                0,
                JSON.stringify(
                  makeEvent(EventType.TaskFailed, now, {
                    TaskScheduledId: o.taskId,
                    Reason: reason,
                    Details: reason,
                  }),
                ),
                null,
              );
              notify.add(id);
              break;
            }
            const r = q.insertWorkItem.run(id, row.execution_id, o.taskId, o.name, o.input);
            work.push({
              id: Number(r.lastInsertRowid),
              instance_id: id,
              execution_id: row.execution_id,
              task_id: o.taskId,
              name: o.name,
              input: o.input,
            });
            break;
          }
          case 'timer': {
            const fired = makeEvent(EventType.TimerFired, o.fireAtMs, {
              TimerId: o.timerId,
              FireAt: new Date(o.fireAtMs).toISOString(),
            });
            q.insertMessage.run(id, row.execution_id, o.fireAtMs, JSON.stringify(fired), o.timerId);
            if (o.fireAtMs <= now) notify.add(id);
            else armTimer = true;
            break;
          }
          case 'cancelTimer':
            q.deleteTimerMessage.run(id, o.timerId);
            break;
          case 'failTask': {
            const type = o.sub ? EventType.SubOrchestrationInstanceFailed : EventType.TaskFailed;
            q.insertMessage.run(
              id,
              row.execution_id,
              0,
              JSON.stringify({ ...makeEvent(type, now, { TaskScheduledId: o.taskId }), ...o.failure }),
              null,
            );
            notify.add(id);
            break;
          }
          case 'subOrchestration': {
            const failure = this.#ops.startChild(o, row, now);
            if (failure !== undefined) {
              q.insertMessage.run(
                id,
                row.execution_id,
                0,
                JSON.stringify(
                  makeEvent(EventType.SubOrchestrationInstanceFailed, now, {
                    TaskScheduledId: o.taskId,
                    Reason: failure,
                    Details: failure,
                  }),
                ),
                null,
              );
              notify.add(id);
            } else notify.add(o.instanceId);
            break;
          }
        }
      }
      if (plan.notifyParent && row.parent_instance_id !== null) {
        q.insertMessage.run(
          row.parent_instance_id,
          row.parent_execution_id,
          0,
          JSON.stringify({ ...plan.notifyParent, Timestamp: new Date(now).toISOString() }),
          null,
        );
        notify.add(row.parent_instance_id);
      }
      q.updateInstance.run({ ...row, updated_ms: now, ledger: JSON.stringify(plan.ledger) });
    });
    if (plan.continueAsNew || isTerminal(row.status)) this.#cache.delete(id);
    else {
      history.joined += (history.count > 0 ? ',' : '') + texts.join(',');
      history.count += texts.length;
      history.nextSeq += texts.length;
    }
    for (const w of work) this.#enqueueWork(w);
    for (const n of notify) this.#notify(n);
    if (armTimer) this.#arm();
    if (isTerminal(row.status)) {
      const waiters = this.#completionWaiters.get(id) ?? [];
      this.#completionWaiters.delete(id);
      for (const w of waiters) w();
    }
  }

  async #runActivity(item: WorkItemRow): Promise<void> {
    let event: HistoryEvent;
    try {
      const out = await this.#invoker.invoke(item.name, {
        trigger: { json: item.input },
        logContext: `activity, ${item.instance_id}#${item.task_id}`,
      });
      event = makeEvent(EventType.TaskCompleted, 0, {
        TaskScheduledId: item.task_id,
        Result: typedDataToJson(out.returnValue),
      });
    } catch (err) {
      event = {
        ...makeEvent(EventType.TaskFailed, 0, { TaskScheduledId: item.task_id }),
        ...this.#activityFailure(item.name, err),
      };
    }
    if (this.#stopping) return;
    const now = this.clock.now();
    event.Timestamp = new Date(now).toISOString();
    const q = this.store.q;
    const delivered = this.store.tx(() => {
      if (q.deleteWorkItem.run(item.id).changes === 0) return false;
      const inst = q.getInstance.get(item.instance_id);
      if (!inst || isTerminal(inst.status) || inst.execution_id !== item.execution_id) return false;
      q.insertMessage.run(item.instance_id, item.execution_id, 0, JSON.stringify(event), null);
      return true;
    });
    const left = (this.#outstanding.get(item.instance_id) ?? 1) - 1;
    if (left > 0) this.#outstanding.set(item.instance_id, left);
    else this.#outstanding.delete(item.instance_id);
    if (!delivered) return;
    if (left > 0) this.#linger(item.instance_id);
    else {
      this.#lingering.delete(item.instance_id);
      this.#notify(item.instance_id);
    }
  }

  #linger(id: string): void {
    this.#lingering.add(id);
    this.#lingerTimer ??= setTimeout(() => {
      this.#lingerTimer = undefined;
      const ids = [...this.#lingering];
      this.#lingering.clear();
      for (const l of ids) this.#notify(l);
    }, 20);
  }

  #activityFailure(
    name: string,
    err: unknown,
  ): { Reason: string; Details: string; FailureDetails?: FailureDetailsDto } {
    const e = err instanceof Error ? err : new Error(String(err));
    const provided = parseProvidedFailure(e.message);
    if (provided) {
      return {
        Reason: `Activity function '${name}' failed: ${provided.ErrorMessage}`,
        Details: provided.StackTrace ?? '',
        FailureDetails: provided,
      };
    }
    const failure = { Reason: `Activity function '${name}' failed: ${e.message}`, Details: e.stack ?? '' };
    if (!this.#failureDetailsAlways) return failure;
    return {
      ...failure,
      FailureDetails: {
        ErrorType: e.name,
        ErrorMessage: e.message,
        ...(e.stack ? { StackTrace: e.stack } : {}),
        IsNonRetriable: false,
      },
    };
  }
}

/** The message durable-functions' wrapActivityHandler sets when an exception properties provider is registered. */
function parseProvidedFailure(message: string): FailureDetailsDto | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const p = JSON.parse(message) as Record<string, unknown>;
    if (typeof p.errorType !== 'string' || typeof p.errorMessage !== 'string') return undefined;
    return {
      ErrorType: p.errorType,
      ErrorMessage: p.errorMessage,
      ...(typeof p.stackTrace === 'string' ? { StackTrace: p.stackTrace } : {}),
      IsNonRetriable: p.isNonRetriable === true,
      ...(p.properties && typeof p.properties === 'object'
        ? { Properties: p.properties as Record<string, unknown> }
        : {}),
    };
  } catch {
    return undefined;
  }
}

/** An activity's return binding as the JSON text TaskCompleted.Result carries. */
function typedDataToJson(data: TypedData | Record<string, unknown> | null): string {
  if (data === undefined || data === null) return 'null';
  const d = data as Record<string, unknown>;
  if (typeof d.json === 'string') return d.json;
  if (typeof d.string === 'string') return JSON.stringify(d.string);
  if (typeof d.int === 'number' || typeof d.int === 'string') return String(Number(d.int));
  if (typeof d.double === 'number') return JSON.stringify(d.double);
  if (d.bytes instanceof Uint8Array) return JSON.stringify(Buffer.from(d.bytes).toString('base64'));
  return 'null';
}
